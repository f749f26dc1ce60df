import { closeSync, mkdtempSync, openSync, readdirSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, sep } from 'node:path';

/**
 * Staging files: an import streams its normalised rows to CSV files on disk (bounded memory), then
 * loads them with DuckDB's read_csv inside the import's one transaction.
 */

/** Writers not yet closed: a failed import closes its own, so no deleted file keeps its disk space. */
const openWriters = new Set<LineWriter>();

/** Staging dirs are named `cityops-<what>-<pid>-XXXXXX` under the OS temp dir ($TMPDIR). */
const STAGING_DIR = /^cityops-[a-z]+-(\d+)-/;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by someone else
  }
}

/**
 * A new private dir for one import's staging files (`what`: fire, collisions, …). Dirs left by an
 * import whose process was killed (no finally ran) are removed first, so they cannot pile up.
 */
export function makeStagingDir(what: string): string {
  const root = tmpdir();
  for (const name of readdirSync(root)) {
    const pid = STAGING_DIR.exec(name)?.[1];
    if (pid && Number(pid) !== process.pid && !alive(Number(pid)))
      rmSync(join(root, name), { recursive: true, force: true });
  }
  return mkdtempSync(join(root, `cityops-${what}-${process.pid}-`));
}

/** Removes a staging dir, closing first any file of it still open (an import that failed mid-way). */
export function removeStagingDir(dir: string): void {
  for (const w of openWriters) if (w.path.startsWith(dir + sep)) w.discard();
  rmSync(dir, { recursive: true, force: true });
}

const NEEDS_QUOTES = /[",\r\n]|^$|^\s|\s$/;

/** A staging CSV field: empty for NULL; quoted only when it must be (no new string otherwise). */
function csvValue(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v !== 'string') return String(v);
  return NEEDS_QUOTES.test(v) ? '"' + v.replace(/"/g, '""') + '"' : v;
}

/** Appends lines to a file in 1 MB blocks: bounded memory, few system calls. */
class LineWriter {
  private fd: number;
  private buf: string[] = [];
  private size = 0;
  /** the longest line pushed, in UTF-16 code units */
  private longest = 0;
  constructor(readonly path: string) {
    this.fd = openSync(path, 'w');
    openWriters.add(this);
  }
  push(line: string): void {
    this.buf.push(line);
    this.size += line.length;
    if (line.length > this.longest) this.longest = line.length;
    if (this.size > 1 << 20) this.flush();
  }
  private flush(): void {
    if (this.buf.length) writeSync(this.fd, this.buf.join(''));
    this.buf = [];
    this.size = 0;
  }
  close(): void {
    if (!openWriters.delete(this)) return; // closed already
    try {
      this.flush();
    } finally {
      closeSync(this.fd);
    }
  }
  /** Closes without writing what is buffered: the import failed and the file is about to go. */
  discard(): void {
    if (!openWriters.delete(this)) return;
    this.buf = [];
    closeSync(this.fd);
  }
  /**
   * read_csv's max_line_size for this file: DuckDB's default (2 MB) unless a line is longer (a code
   * unit is at most 3 UTF-8 bytes). Not a fixed large value: DuckDB sizes its read buffer from it
   * (16 times), which then may not fit the memory limit, and reads on one thread.
   */
  maxLineSize(): number {
    return Math.max(2 << 20, 3 * this.longest + 1024);
  }
}

/** A staging CSV with a header, read back by DuckDB with declared column types (VARCHAR unless given). */
export class StageFile {
  private out: LineWriter;
  rows = 0;
  constructor(
    readonly path: string,
    readonly columns: string[],
    readonly types: Record<string, string> = {},
  ) {
    this.out = new LineWriter(path);
    this.out.push(columns.join(',') + '\n');
  }
  write(values: unknown[]): void {
    const parts = new Array<string>(values.length);
    for (let k = 0; k < values.length; k++) parts[k] = csvValue(values[k]);
    this.out.push(parts.join(',') + '\n');
    this.rows++;
  }
  close(): void {
    this.out.close();
  }
  /** The read_csv call that reads this file back. */
  sql(): string {
    const cols = this.columns.map((c) => `'${c}': '${this.types[c] ?? 'VARCHAR'}'`).join(', ');
    // The path is one we made under the OS temp dir; quotes are doubled all the same.
    return (
      `read_csv('${this.path.replace(/'/g, "''")}', header = true, quote = '"', escape = '"', delim = ',', ` +
      `nullstr = '', strict_mode = true, max_line_size = ${this.out.maxLineSize()}, columns = {${cols}})`
    );
  }
}

/**
 * Raw source rows, one `seq<TAB>json` line each. JSON text never holds a literal tab or newline,
 * so it needs no escaping (escaping it for CSV was the costliest step of an import).
 */
export class RawFile {
  private out: LineWriter;
  rows = 0;
  constructor(readonly path: string) {
    this.out = new LineWriter(path);
  }
  write(seq: number, json: string): void {
    this.out.push(seq + '\t' + json + '\n');
    this.rows++;
  }
  close(): void {
    this.out.close();
  }
  sql(): string {
    // an empty file cannot be sniffed, even with its columns given: a file whose every row was rejected stages none
    if (this.rows === 0) return '(SELECT NULL::INTEGER AS seq, NULL::VARCHAR AS raw WHERE false)';
    return (
      `read_csv('${this.path.replace(/'/g, "''")}', header = false, delim = '\t', quote = '', escape = '', max_line_size = ${this.out.maxLineSize()}, ` +
      `columns = {'seq': 'INTEGER', 'raw': 'VARCHAR'})`
    );
  }
}

/** What every import reports, whatever it imports (one row of import_batches). */
export interface BatchSummary {
  batchId: number;
  file: string;
  profile: string;
  rowsRead: number;
  inserted: number;
  updated: number;
  unchanged: number;
  quarantined: number;
  /** rows of a source the file replaces (stations, a layer, a road network) that it no longer holds */
  removed?: number;
  warnings: Record<string, number>;
  /** what the user should read beside the counts (a file that is not all UTF-8); absent when none */
  notes?: string[];
}
