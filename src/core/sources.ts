import { createReadStream, openSync, readSync, closeSync, statSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { constants, createGunzip, gunzipSync } from 'node:zlib';
import Papa from 'papaparse';
import { UserError } from './errors.ts';

/**
 * Streaming readers for source files. They never hold a whole file in memory, report each record
 * with the line it starts on, and hand malformed records to `onError` instead of stopping.
 */

export type FileKind = 'csv' | 'json';

export interface FileInfo {
  size: number;
  kind: FileKind;
}

/** Refuses missing, empty and binary files with a message that names the file. */
export function inspectFile(path: string): FileInfo {
  let size: number;
  try {
    const st = statSync(path);
    if (!st.isFile()) throw new UserError(`${path} is not a file.`);
    size = st.size;
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw new UserError(`Cannot read ${path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
  if (size === 0) throw new UserError(`${path} is empty: nothing to import.`);
  let head = Buffer.alloc(Math.min(size, 65536));
  const fd = openSync(path, 'r');
  try {
    readSync(fd, head, 0, head.length, 0);
  } finally {
    closeSync(fd);
  }
  if (isGzip(path)) {
    try {
      head = gunzipSync(head, { finishFlush: constants.Z_SYNC_FLUSH });
    } catch (e) {
      throw new UserError(`${path} is not a readable gzip file: ${(e as Error).message}`);
    }
  }
  const nul = head.indexOf(0);
  if (nul >= 0) {
    throw new UserError(`${path} looks like a binary file (a NUL byte at offset ${nul}), not CSV or JSON text. ` +
      `If it is compressed, decompress it first.`);
  }
  const text = head.toString('utf8');
  if (text.includes('\uFFFD')) {
    throw new UserError(`${path} is not UTF-8 text (invalid byte sequence in the first ${head.length} bytes). Convert it to UTF-8 first.`);
  }
  const first = text.replace(/^\uFEFF/, '').trimStart()[0];
  if (first === undefined) throw new UserError(`${path} holds only white space: nothing to import.`);
  return { size, kind: first === '[' || first === '{' ? 'json' : 'csv' };
}

/** Files ending in .gz are read through gunzip, so compressed exports import as they are. */
export function isGzip(path: string): boolean {
  return /\.gz$/i.test(path);
}

function openText(path: string) {
  const raw = createReadStream(path, { highWaterMark: 1 << 20 });
  return { raw, text: isGzip(path) ? raw.pipe(createGunzip()) : raw };
}

export interface RecordErrorInfo {
  line: number;
  message: string;
  raw: string;
}

export interface ReadHandlers<T> {
  onRecord(record: T, line: number): void;
  onError(err: RecordErrorInfo): void;
  onProgress?(bytesRead: number): void;
}

/** The longest raw text kept for one quarantined record. */
export const MAX_RAW_KEPT = 65536;

function countNewlines(s: string): number {
  let n = 0;
  for (let i = s.indexOf('\n'); i !== -1; i = s.indexOf('\n', i + 1)) n++;
  return n;
}

/**
 * Reads a delimited file. `onHeader` receives the header row; each record is the array of its
 * values, checked against the header's column count.
 */
export function readCsv(
  path: string,
  handlers: ReadHandlers<string[]> & { onHeader(headers: string[]): void },
  delimiter?: string,
): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const { raw, text: stream } = openText(path);
    let bytes = 0;
    raw.on('data', (chunk) => {
      bytes += chunk.length;
      handlers.onProgress?.(bytes);
    });
    stream.on('error', (e: Error) => reject(new UserError(`Cannot read ${path}: ${e.message}`)));
    let headers: string[] | null = null;
    let line = 1; // the line the next record starts on
    let failure: unknown = null;
    Papa.parse(stream as unknown as File, {
      delimiter: delimiter ?? '',
      skipEmptyLines: false,
      chunk(results: Papa.ParseResult<string[]>, parser: Papa.Parser) {
        try {
          const rowErrors = new Map<number, string>();
          for (const e of results.errors) {
            if (e.row !== undefined && e.code !== 'TooFewFields' && e.code !== 'TooManyFields') rowErrors.set(e.row, describePapaError(e));
          }
          const rows = results.data;
          for (let i = 0; i < rows.length; i++) {
            const values = rows[i]!;
            const startLine = line;
            let extra = 0;
            for (const v of values) if (v.length > 0 && v.indexOf('\n') !== -1) extra += countNewlines(v);
            line += 1 + extra;
            if (values.length === 1 && values[0] === '' && !rowErrors.has(i)) continue; // blank line
            if (!headers) {
              headers = values.map((h, k) => (k === 0 ? h.replace(/^\uFEFF/, '') : h).trim());
              handlers.onHeader(headers);
              continue;
            }
            const err = rowErrors.get(i);
            if (err) {
              handlers.onError({ line: startLine, message: err, raw: values.join(',').slice(0, MAX_RAW_KEPT) });
            } else if (values.length !== headers.length) {
              handlers.onError({
                line: startLine,
                message: `has ${values.length} fields where the header has ${headers.length}`,
                raw: values.join(',').slice(0, MAX_RAW_KEPT),
              });
            } else {
              handlers.onRecord(values, startLine);
            }
          }
        } catch (e) {
          failure = e;
          parser.abort();
        }
      },
      complete() {
        if (failure) return reject(failure);
        if (!headers) return reject(new UserError(`${path} has no header row.`));
        resolvePromise();
      },
      error(err: Error) {
        reject(new UserError(`Cannot read ${path}: ${err.message}`));
      },
    });
  });
}

function describePapaError(e: Papa.ParseError): string {
  if (e.code === 'MissingQuotes' || e.code === 'InvalidQuotes') {
    return 'has an unbalanced or malformed quote (a quoted value must close, and a quote inside it must be doubled); ' +
      'the lines up to the next matching quote were read into this record and are kept in its raw text';
  }
  return e.message;
}

/**
 * Reads JSON records: one top-level array of objects, or newline-delimited JSON (one object per
 * line). Elements are found by a scanner that tracks strings and nesting, so each is parsed alone
 * and memory stays bounded by the largest element.
 */
export function readJsonRecords(path: string, handlers: ReadHandlers<Record<string, unknown>>): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const stream = createReadStream(path, { highWaterMark: 1 << 20 });
    const decoder = new StringDecoder('utf8');
    let bytes = 0;
    let line = 1;
    let depth = 0;
    let inString = false;
    let escaped = false;
    let arrayMode: boolean | null = null;
    let closed = false;
    let element: string[] = [];
    let elementLine = 0;
    let elementStarted = false;
    let failure: unknown = null;

    const emit = () => {
      const text = element.join('');
      element = [];
      elementStarted = false;
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch (e) {
        handlers.onError({ line: elementLine, message: `is not valid JSON: ${(e as Error).message}`, raw: text.slice(0, MAX_RAW_KEPT) });
        return;
      }
      if (value === null || typeof value !== 'object' || Array.isArray(value)) {
        handlers.onError({ line: elementLine, message: 'is not a JSON object', raw: text.slice(0, MAX_RAW_KEPT) });
        return;
      }
      handlers.onRecord(value as Record<string, unknown>, elementLine);
    };

    const scan = (text: string) => {
      let segStart = elementStarted ? 0 : -1;
      for (let i = 0; i < text.length; i++) {
        const c = text.charCodeAt(i);
        if (c === 10) line++;
        if (inString) {
          if (escaped) escaped = false;
          else if (c === 92) escaped = true;
          else if (c === 34) inString = false;
          continue;
        }
        if (!elementStarted) {
          if (c === 32 || c === 10 || c === 13 || c === 9 || c === 0xfeff) continue;
          if (arrayMode === null && c === 91 /* [ */) { arrayMode = true; continue; }
          if (arrayMode === null) arrayMode = false;
          if (arrayMode && c === 44 /* , */) continue;
          if (arrayMode && c === 93 /* ] */) { closed = true; continue; }
          if (closed) throw new UserError(`${path}:${line}: unexpected text after the end of the JSON array`);
          elementStarted = true;
          elementLine = line;
          segStart = i;
        }
        if (c === 34) inString = true;
        else if (c === 123 || c === 91) depth++;
        else if (c === 125 || c === 93) depth--;
        if (depth === 0 && (c === 125 || c === 93 || (c === 44 && arrayMode) || (c === 10 && !arrayMode))) {
          const endsBefore = c === 44 || c === 10;
          element.push(text.slice(segStart, endsBefore ? i : i + 1));
          emit();
          segStart = -1;
        } else if (depth < 0) {
          throw new UserError(`${path}:${line}: unbalanced brackets in JSON`);
        }
      }
      if (elementStarted && segStart >= 0) element.push(text.slice(segStart));
      if (element.join('').length > 256 * 1024 * 1024) {
        throw new UserError(`${path}:${elementLine}: one JSON element is over 256 MB; records must be separate elements`);
      }
    };

    stream.on('data', (chunk: Buffer | string) => {
      if (failure) return;
      try {
        bytes += chunk.length;
        scan(decoder.write(chunk as Buffer));
        handlers.onProgress?.(bytes);
      } catch (e) {
        failure = e;
        stream.destroy();
        reject(e);
      }
    });
    stream.on('end', () => {
      if (failure) return;
      try {
        scan(decoder.end());
        if (elementStarted) {
          const rest = element.join('').trim();
          if (rest) {
            if (inString || depth > 0) handlers.onError({ line: elementLine, message: 'is cut off: the file ends inside this JSON element', raw: rest.slice(0, MAX_RAW_KEPT) });
            else emit();
          }
        }
        if (arrayMode && !closed) {
          handlers.onError({ line, message: 'the JSON array is never closed with ]', raw: '' });
        }
        resolvePromise();
      } catch (e) {
        reject(e);
      }
    });
    stream.on('error', (e) => reject(new UserError(`Cannot read ${path}: ${e.message}`)));
  });
}
