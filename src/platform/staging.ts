import { closeSync, mkdtempSync, openSync, readdirSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, sep } from 'node:path';
import type { DuckDBAppender } from '@duckdb/node-api';
import type { Store } from './db.ts';

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
export class StageFile implements StageTable {
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
export class RawFile implements StageTable {
  private out: LineWriter;
  readonly columns = ['seq', 'raw'];
  rows = 0;
  constructor(readonly path: string) {
    this.out = new LineWriter(path);
  }
  /** [seq, the record's JSON text] */
  write([seq, json]: unknown[]): void {
    this.out.push(seq + '\t' + (json as string) + '\n');
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

/** Where an import stages rows: a CSV file on disk, or a table in memory (records already in memory). */
export interface StageTable {
  readonly columns: string[];
  readonly rows: number;
  write(values: unknown[]): void;
  close(): void;
  /** SQL that reads the rows back (a memory table once loaded) */
  sql(): string;
}

/**
 * Rows staged in memory and appended to a temp table with DuckDB's appender: the live API's
 * batches, a few hundred rows, are staged without writing a file.
 */
export class MemoryTable implements StageTable {
  private data: unknown[][] = [];
  private table: string | null = null;
  constructor(
    readonly name: string,
    readonly columns: string[],
    readonly types: Record<string, string> = {},
  ) {}
  get rows(): number {
    return this.data.length;
  }
  write(values: unknown[]): void {
    this.data.push([...values]);
  }
  close(): void {}
  /** Creates the temp table `name` and appends the rows (inside the import's transaction). */
  async load(store: Store): Promise<void> {
    const type = (c: string) => this.types[c] ?? 'VARCHAR';
    await store.run(
      `CREATE OR REPLACE TEMP TABLE ${this.name} (${this.columns.map((c) => `"${c}" ${type(c)}`).join(', ')})`,
    );
    await store.append(this.name, (appender) => {
      for (const row of this.data) {
        this.columns.forEach((c, k) => appendValue(appender, type(c), row[k]));
        appender.endRow();
      }
    });
    this.table = this.name;
  }
  sql(): string {
    if (!this.table) throw new Error(`${this.name} is read before it is loaded`);
    return this.table;
  }
}

function appendValue(appender: DuckDBAppender, type: string, v: unknown): void {
  if (v === null || v === undefined || (typeof v === 'number' && Number.isNaN(v)))
    return appender.appendNull();
  if (type === 'INTEGER') return appender.appendInteger(Number(v));
  if (type === 'DOUBLE') return appender.appendDouble(Number(v));
  if (type === 'BOOLEAN') return appender.appendBoolean(v === true || v === 'true');
  appender.appendVarchar(typeof v === 'string' ? v : String(v));
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
