import { isUtf8 } from 'node:buffer';
import { createReadStream, openSync, readSync, closeSync, statSync } from 'node:fs';
import { Transform } from 'node:stream';
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

/** The size of a file that exists and is not empty; else a UserError naming it. */
export function fileSize(path: string): number {
  let size: number;
  try {
    const st = statSync(path);
    if (!st.isFile()) throw new UserError(`${path} is not a file.`);
    size = st.size;
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw new UserError(
      `Cannot read ${path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`,
    );
  }
  if (size === 0) throw new UserError(`${path} is empty: nothing to import.`);
  return size;
}

/** Refuses missing, empty and binary files with a message that names the file. */
export function inspectFile(path: string): FileInfo {
  const size = fileSize(path);
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
    throw new UserError(
      `${path} looks like a binary file (a NUL byte at offset ${nul}), not CSV or JSON text. ` +
        `If it is compressed, decompress it first.`,
    );
  }
  // bytes that are not UTF-8 are read as Windows-1252 and reported by the reader (TextDecoding)
  const text = new TextDecoding().write(head);
  const first = text.replace(/^\uFEFF/, '').trimStart()[0];
  if (first === undefined)
    throw new UserError(`${path} holds only white space: nothing to import.`);
  return { size, kind: first === '[' || first === '{' ? 'json' : 'csv' };
}

/** Files ending in .gz are read through gunzip, so compressed exports import as they are. */
export function isGzip(path: string): boolean {
  return /\.gz$/i.test(path);
}

/**
 * Windows-1252 for the bytes 0x80-0x9F (the rest of the high half is Latin-1, equal to its code
 * point); the five bytes it leaves undefined map to the C1 control of the same value, as WHATWG's
 * decoder does.
 */
const CP1252_80_9F =
  '\u20AC\u0081\u201A\u0192\u201E\u2026\u2020\u2021\u02C6\u2030\u0160\u2039\u0152\u008D\u017D\u008F' +
  '\u0090\u2018\u2019\u201C\u201D\u2022\u2013\u2014\u02DC\u2122\u0161\u203A\u0153\u009D\u017E\u0178';

/** The length of the UTF-8 sequence at `i` when it is complete and valid (RFC 3629), else 0. */
function utf8SequenceAt(b: Buffer, i: number): number {
  const c = b[i]!;
  const cont = (k: number, lo = 0x80, hi = 0xbf) =>
    i + k < b.length && b[i + k]! >= lo && b[i + k]! <= hi;
  if (c >= 0xc2 && c <= 0xdf) return cont(1) ? 2 : 0;
  if (c >= 0xe0 && c <= 0xef)
    return cont(1, c === 0xe0 ? 0xa0 : 0x80, c === 0xed ? 0x9f : 0xbf) && cont(2) ? 3 : 0;
  if (c >= 0xf0 && c <= 0xf4)
    return cont(1, c === 0xf0 ? 0x90 : 0x80, c === 0xf4 ? 0x8f : 0xbf) && cont(2) && cont(3)
      ? 4
      : 0;
  return 0;
}

/** Where a sequence that the next chunk may complete starts in the last 3 bytes, else the length. */
function completeLength(b: Buffer): number {
  for (let i = b.length - 1; i >= Math.max(0, b.length - 3); i--) {
    const c = b[i]!;
    if (c < 0x80) return b.length;
    if (c >= 0xc0) {
      const need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
      return b.length - i < need ? i : b.length;
    }
  }
  return b.length;
}

/** What decoding a source found: lines holding bytes that are not UTF-8, read as Windows-1252. */
export interface TextReport {
  nonUtf8Lines: number;
  /** the first such line (1-based, by newline), or null when every byte was UTF-8 */
  firstNonUtf8Line: number | null;
}

/**
 * Decodes a byte stream as one text, whatever its chunks: a character split across chunks (or
 * gunzip's output blocks) is held until its last byte arrives. UTF-8 is read as UTF-8; a byte that
 * cannot be UTF-8 (a Latin-1 or Windows-1252 export, or one such value pasted into a UTF-8 file) is
 * read as Windows-1252, which is what such a byte almost always is, and its line is counted so the
 * import says so. Nothing becomes U+FFFD.
 */
export class TextDecoding implements TextReport {
  nonUtf8Lines = 0;
  firstNonUtf8Line: number | null = null;
  /** newlines decoded so far */
  private newlines = 0;
  private carry: Buffer | null = null;
  /** the last line counted as not UTF-8, so that a line is counted once */
  private lastCounted = 0;

  write(chunk: Buffer): string {
    const b = this.carry ? Buffer.concat([this.carry, chunk]) : chunk;
    const end = completeLength(b);
    this.carry = end < b.length ? Buffer.from(b.subarray(end)) : null;
    return this.decode(end < b.length ? b.subarray(0, end) : b);
  }

  end(): string {
    const rest = this.carry;
    this.carry = null;
    return rest ? this.decode(rest) : '';
  }

  private decode(b: Buffer): string {
    if (isUtf8(b)) {
      for (let i = b.indexOf(10); i !== -1; i = b.indexOf(10, i + 1)) this.newlines++;
      return b.toString('utf8');
    }
    // rare: the slow path, byte by byte, for a chunk holding a byte that is not UTF-8
    const parts: string[] = [];
    let runStart = 0;
    for (let i = 0; i < b.length;) {
      const c = b[i]!;
      if (c < 0x80) {
        if (c === 10) this.newlines++;
        i++;
        continue;
      }
      const n = utf8SequenceAt(b, i);
      if (n) {
        i += n;
        continue;
      }
      parts.push(
        b.toString('utf8', runStart, i),
        c >= 0xa0 ? String.fromCharCode(c) : CP1252_80_9F[c - 0x80]!,
      );
      const line = this.newlines + 1;
      if (line !== this.lastCounted) {
        this.lastCounted = line;
        this.nonUtf8Lines++;
        this.firstNonUtf8Line ??= line;
      }
      runStart = ++i;
    }
    parts.push(b.toString('utf8', runStart));
    return parts.join('');
  }

  report(): TextReport {
    return { nonUtf8Lines: this.nonUtf8Lines, firstNonUtf8Line: this.firstNonUtf8Line };
  }
}

/** The import summary's note for a source with bytes that are not UTF-8, or null for a UTF-8 one. */
export function encodingNote(file: string, r: TextReport): string | null {
  if (!r.nonUtf8Lines) return null;
  return (
    `${file}: ${r.nonUtf8Lines} line${r.nonUtf8Lines === 1 ? '' : 's'} (the first is line ${r.firstNonUtf8Line}) ` +
    `held bytes that are not UTF-8; they were read as Windows-1252 (Latin-1). If the file is in another encoding, convert it to UTF-8 and import it again.`
  );
}

/** A file's bytes (through gunzip for .gz) and its text as one stream of decoded strings. */
function openText(path: string) {
  const raw = createReadStream(path, { highWaterMark: 1 << 20 });
  const decoding = new TextDecoding();
  const text = new Transform({
    readableObjectMode: true,
    transform(chunk: Buffer, _enc, done) {
      const s = decoding.write(chunk);
      done(null, s || undefined);
    },
    flush(done) {
      const s = decoding.end();
      done(null, s || undefined);
    },
  });
  // pipe() does not pass errors on: a read or gunzip error reaches the reader through `text`
  const fail = (e: Error) => text.destroy(e);
  raw.on('error', fail);
  if (isGzip(path)) raw.pipe(createGunzip().on('error', fail)).pipe(text);
  else raw.pipe(text);
  return { raw, text, decoding };
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
 * values, checked against the header's column count. Resolves with what decoding found.
 */
export function readCsv(
  path: string,
  handlers: ReadHandlers<string[]> & { onHeader(headers: string[]): void },
  delimiter?: string,
): Promise<TextReport> {
  return new Promise((resolvePromise, reject) => {
    const { raw, text: stream, decoding } = openText(path);
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
            if (e.row !== undefined && e.code !== 'TooFewFields' && e.code !== 'TooManyFields')
              rowErrors.set(e.row, describePapaError(e));
          }
          const rows = results.data;
          for (let i = 0; i < rows.length; i++) {
            const values = rows[i]!;
            const startLine = line;
            let extra = 0;
            for (const v of values)
              if (v.length > 0 && v.indexOf('\n') !== -1) extra += countNewlines(v);
            line += 1 + extra;
            if (values.length === 1 && values[0] === '' && !rowErrors.has(i)) continue; // blank line
            if (!headers) {
              headers = values.map((h, k) => (k === 0 ? h.replace(/^\uFEFF/, '') : h).trim());
              handlers.onHeader(headers);
              continue;
            }
            const err = rowErrors.get(i);
            if (err) {
              handlers.onError({
                line: startLine,
                message: err,
                raw: values.join(',').slice(0, MAX_RAW_KEPT),
              });
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
        resolvePromise(decoding.report());
      },
      error(err: Error) {
        reject(new UserError(`Cannot read ${path}: ${err.message}`));
      },
    });
  });
}

function describePapaError(e: Papa.ParseError): string {
  if (e.code === 'MissingQuotes' || e.code === 'InvalidQuotes') {
    return (
      'has an unbalanced or malformed quote (a quoted value must close, and a quote inside it must be doubled); ' +
      'the lines up to the next matching quote were read into this record and are kept in its raw text'
    );
  }
  return e.message;
}

/**
 * Reads JSON records: one top-level array of objects, or newline-delimited JSON (one object per
 * line). Elements are found by a scanner that tracks strings and nesting, so each is parsed alone
 * and memory stays bounded by the largest element.
 */
export function readJsonRecords(
  path: string,
  handlers: ReadHandlers<Record<string, unknown>>,
): Promise<TextReport> {
  return new Promise((resolvePromise, reject) => {
    const { raw, text: stream, decoding } = openText(path);
    let bytes = 0;
    raw.on('data', (chunk) => {
      bytes += chunk.length;
    });
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
        handlers.onError({
          line: elementLine,
          message: `is not valid JSON: ${(e as Error).message}`,
          raw: text.slice(0, MAX_RAW_KEPT),
        });
        return;
      }
      if (value === null || typeof value !== 'object' || Array.isArray(value)) {
        handlers.onError({
          line: elementLine,
          message: 'is not a JSON object',
          raw: text.slice(0, MAX_RAW_KEPT),
        });
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
          if (arrayMode === null && c === 91 /* [ */) {
            arrayMode = true;
            continue;
          }
          if (arrayMode === null) arrayMode = false;
          if (arrayMode && c === 44 /* , */) continue;
          if (arrayMode && c === 93 /* ] */) {
            closed = true;
            continue;
          }
          if (closed)
            throw new UserError(`${path}:${line}: unexpected text after the end of the JSON array`);
          elementStarted = true;
          elementLine = line;
          segStart = i;
        }
        if (arrayMode && depth === 0 && c === 93 /* ] */) {
          // a scalar element ends at the array's close: [1, null]
          element.push(text.slice(segStart, i));
          emit();
          segStart = -1;
          closed = true;
          continue;
        }
        if (c === 34) inString = true;
        else if (c === 123 || c === 91) depth++;
        else if (c === 125 || c === 93) depth--;
        if (
          depth === 0 &&
          (c === 125 || c === 93 || (c === 44 && arrayMode) || (c === 10 && !arrayMode))
        ) {
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
        throw new UserError(
          `${path}:${elementLine}: one JSON element is over 256 MB; records must be separate elements`,
        );
      }
    };

    stream.on('data', (text: string) => {
      if (failure) return;
      try {
        scan(text);
        handlers.onProgress?.(bytes);
      } catch (e) {
        failure = e;
        raw.destroy();
        stream.destroy();
        reject(e);
      }
    });
    stream.on('end', () => {
      if (failure) return;
      try {
        if (elementStarted) {
          const rest = element.join('').trim();
          if (rest) {
            if (inString || depth > 0)
              handlers.onError({
                line: elementLine,
                message: 'is cut off: the file ends inside this JSON element',
                raw: rest.slice(0, MAX_RAW_KEPT),
              });
            else emit();
          }
        }
        if (arrayMode && !closed) {
          handlers.onError({ line, message: 'the JSON array is never closed with ]', raw: '' });
        }
        resolvePromise(decoding.report());
      } catch (e) {
        reject(e);
      }
    });
    stream.on('error', (e) => reject(new UserError(`Cannot read ${path}: ${e.message}`)));
  });
}

/** One feature of a GeoJSON FeatureCollection, as read: the source judges its properties and geometry. */
export interface GeoJsonFeature {
  type?: unknown;
  properties?: Record<string, unknown> | null;
  geometry?: { type?: string; coordinates?: unknown } | null;
}

/**
 * No GeoJSON feature is nested this deep (a MultiPolygon's positions are at depth 6); a deeper one
 * would overflow the stack of JSON.stringify when its raw row is kept.
 */
export const MAX_FEATURE_DEPTH = 64;

/** Whether a JSON value nests deeper than `max`, walked without recursion. */
function nestedDeeper(value: object, max: number): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length) {
    const [v, depth] = stack.pop()!;
    if (depth > max) return true;
    for (const child of Object.values(v as object))
      if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
  }
  return false;
}

/**
 * Reads the features of a GeoJSON FeatureCollection (gzip and encoding as for the other readers);
 * each is a record whose "line" is its 1-based index in `features`, the number the quarantine
 * names. The document is parsed whole: GeoJSON's one top-level object has no record boundaries
 * to stream by (boundaries, stations and road extracts are tens of MB at most). `holds` says what
 * the collection should hold ("station points"), for the message when the file is not one.
 */
export async function readGeoJsonFeatures(
  path: string,
  holds: string,
  handlers: ReadHandlers<GeoJsonFeature>,
): Promise<TextReport> {
  const { raw, text: stream, decoding } = openText(path);
  let bytes = 0;
  raw.on('data', (chunk) => {
    bytes += chunk.length;
    handlers.onProgress?.(bytes);
  });
  const parts: string[] = [];
  try {
    for await (const s of stream) parts.push(s as string);
  } catch (e) {
    throw new UserError(`Cannot read ${path}: ${(e as Error).message}`);
  }
  let doc: { type?: unknown; features?: unknown };
  try {
    doc = JSON.parse(parts.join('').replace(/^\uFEFF/, ''));
  } catch (e) {
    throw new UserError(
      `${path} is not readable GeoJSON: it is not valid JSON (${(e as Error).message})`,
    );
  }
  if (doc?.type !== 'FeatureCollection' || !Array.isArray(doc.features))
    throw new UserError(`${path}: a GeoJSON FeatureCollection of ${holds} is expected`);
  doc.features.forEach((f: unknown, i: number) => {
    const index = i + 1;
    if (f === null || typeof f !== 'object' || Array.isArray(f))
      handlers.onError({ line: index, message: `feature ${index} is not a JSON object`, raw: '' });
    else if (nestedDeeper(f, MAX_FEATURE_DEPTH))
      handlers.onError({
        line: index,
        message: `feature ${index} is nested more than ${MAX_FEATURE_DEPTH} levels deep; a GeoJSON feature is not`,
        raw: '',
      });
    else handlers.onRecord(f as GeoJsonFeature, index);
  });
  return decoding.report();
}
