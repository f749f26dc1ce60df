import { join } from 'node:path';
import { scanFile, type FileScan } from './file-scan.ts';
import {
  encodingNote,
  fileSize,
  inspectFile,
  MAX_RAW_KEPT,
  readCsv,
  type FileInfo,
  type ReadHandlers,
  type TextReport,
} from './sources.ts';
import type { Store } from './db.ts';
import {
  makeStagingDir,
  MemoryTable,
  RawFile,
  removeStagingDir,
  StageFile,
  type BatchSummary,
  type StageTable,
} from './staging.ts';

/**
 * The one ingest pipeline, for every source. A domain describes its source (an `ImportSource`:
 * how a record becomes stage rows or a rejection, and its `apply` step); `runImport` owns the rest,
 * the same for every domain:
 *
 *   inspect the file → stage it (row by row: gzip, UTF-8, quarantine, capped warnings, raw rows; or
 *   by the source's SQL reader) → checksum → one transaction: batch id, stage table (last row of a
 *   key wins), diff against source_rows, the domain's apply step, quarantine, warnings, batch
 *   counts → the summary.
 *
 * So a file whose every row is rejected, a re-import (idempotent: unchanged rows are left alone), a
 * failed or killed import (the database as it was, its temp files removed) behave the same in every
 * domain.
 *
 * A record is a CSV row's values (`R = string[]`, the default reader) or whatever the source's own
 * `read` yields: a GeoJSON feature (`readGeoJsonFeatures`), an OSM way, a CAD JSON record.
 */
export interface ImportSource<R = string[]> {
  /** import_batches.domain */
  domain: string;
  /** the profile or mapping read with (summary and import_batches.profile); read after staging */
  readonly profile: string;
  /** source_rows.source and the domain table's source column: a key is unique within it */
  readonly source: string;
  /**
   * the stage columns, their DuckDB types (VARCHAR unless given), and the key column; read when the
   * first row is staged (a source that learns its shape from the header may set it there)
   */
  readonly stage: StageShape;
  /** CSV delimiter when the source fixes one */
  delimiter?: string;
  /** the file is binary (OSM PBF): only its existence and size are checked, not its text */
  binary?: boolean;
  /**
   * Reads the records, each with the line (or feature number) the quarantine names; without it the
   * file is CSV, read with `header`.
   */
  read?(file: string, info: FileInfo, handlers: ReadHandlers<R>): Promise<TextReport>;
  /** CSV (read by the CSV reader): resolves the columns; throws a UserError naming what is missing; may warn (line 1). */
  header?(names: string[], warn: Warn): void;
  /**
   * Turns one record into stage rows (`row.accept`, once or more: a MultiLineString is several
   * roads) or a rejection (`row.reject`); accepting nothing and rejecting nothing skips it.
   */
  row(record: R, line: number, row: RowSink): void;
  /** After the last row: extra staging tables the apply step joins (e.g. outliers found over the whole file). */
  finish?(extra: ExtraStaging): void;
  /**
   * A faster reader for files it can read whole in SQL (fire's plain CSV exports): builds the temp
   * table or view `stage` (with `raw`) before the transaction, or returns null when the file is not
   * one it reads. Throwing `ReadByRows` while the batch is written rolls back and reads by rows.
   */
  stageInSql?(
    store: Store,
    file: string,
    scan: Promise<FileScan>,
    reading: (percent: number) => void,
  ): Promise<SqlStage | null>;
  /** how many heavy statements `apply` runs, for the writing progress bar */
  writeSteps?: number;
  /** the warning kind of a key found on several rows (default `duplicate_<key>`) */
  duplicateKind?: string;
  /**
   * Writes the domain rows for the changed keys. `stage` is a temp table of the staged rows (with
   * `raw`), `changes` one of (key, is_new) for the keys that are new or whose raw row differs; rows of
   * changed keys are deleted from the domain table by the pipeline before this runs (when `table`
   * is given). What it returns is added to the summary.
   */
  apply(store: Store, tables: ApplyTables, batchId: number): Promise<ApplyResult | void>;
  /**
   * The domain table whose rows the pipeline replaces for changed keys, its key column, and the
   * column and value that pick this source's rows in it (`source` = `source` unless given; null when
   * the table holds this source only). Without it the apply step replaces rows itself (fire folds
   * a unit's events again from all of them).
   */
  table?: { name: string; key: string; scope?: { column: string; value: string } | null };
  /**
   * The file is the whole source (stations, a map layer, a road network): keys it no longer holds are
   * removed. A file in which no record was accepted removes nothing, so a file of bad rows never
   * empties a table.
   */
  replaces?: boolean;
}

export interface StageShape {
  columns: string[];
  types: Record<string, string>;
  key: string;
}

export interface ApplyTables {
  stage: string;
  changes: string;
  extra: Record<string, string>;
  /** the file (or label) the batch reads, for the rows apply writes to import_warnings */
  file: string;
  /** the number of changed keys and of staged keys: apply may skip a join when every key changed */
  changed: number;
  staged: number;
  /** marks the start of each heavy statement, for the writing progress bar */
  step(): void;
}

export interface ApplyResult {
  /** warning counts the apply step found (rows it wrote to import_warnings itself) */
  warnings?: Record<string, number>;
  /** fields the domain adds to its summary */
  summary?: Record<string, unknown>;
}

/** What a SQL reader staged: its counts, and how it records its quarantine and warnings. */
export interface SqlStage {
  /** the file's header, kept with the batch */
  columns: string[];
  rowsRead: number;
  quarantined: number;
  warningCounts: Record<string, number>;
  /** Writes the quarantined rows and the warnings kept, under the batch (inside its transaction). */
  record(batchId: number, file: string): Promise<void>;
  /** drops the temp tables and views it made */
  drop(): Promise<void>;
}

/** Thrown by a SQL reader that finds the file is not one it reads after all: the import reads it by rows. */
export class ReadByRows extends Error {}

export type Warn = (kind: string, field?: string | null, message?: string) => void;

export interface RowSink {
  /**
   * Stages the row (values by stage column; seq and line filled in by the pipeline), with the raw
   * row kept for it: the record's own unless given (a NERIS incident keeps one per unit response).
   */
  accept(values: Record<string, unknown>, raw?: string): void;
  reject(field: string | null, reason: string, raw?: string): void;
  /** A warning on this row: counted always, stored (with the message) up to WARNINGS_KEPT_PER_KIND per kind. */
  warn: Warn;
  /** This record stands for n rows read (a NERIS incident, for its unit responses). */
  counts(n: number): void;
  /**
   * The row is left out on purpose (a mapping's `filter`): counted under `kind` beside the warnings,
   * neither quarantined nor stored.
   */
  leaveOut(kind: string): void;
  /** the stage seq the next accepted row gets */
  readonly nextSeq: number;
}

export interface ExtraStaging {
  /** the records read, rejected ones included */
  readonly rowsRead: number;
  table(name: string, columns: string[], types: Record<string, string>): StageTable;
  warn(kind: string, count: number): void;
}

export type ImportStage = 'reading' | 'writing';

export interface ImportOptions {
  /**
   * Reading: bytes of the file read so far. Writing: steps done (with DuckDB's estimate for the
   * statement running) out of the import's write steps.
   */
  onProgress?(done: number, total: number, stage: ImportStage): void;
  /** Runs inside the import's transaction once its rows are written: what it writes commits (or fails) with them. */
  beforeCommit?(summary: BatchSummary): Promise<void>;
}

/** Records already in memory (the live CAD API), imported with the same checks as a file. */
export interface RecordsInput<R> {
  records: R[];
  /** names the batch where a file's path would */
  label: string;
}

/** At most this many warning rows of one kind are stored per import; all are counted. */
export const WARNINGS_KEPT_PER_KIND = 1000;

export async function runImport<R>(
  store: Store,
  input: string | RecordsInput<R>,
  source: ImportSource<R>,
  opts: ImportOptions = {},
): Promise<BatchSummary> {
  const file = typeof input === 'string' ? input : input.label;
  // one read of the file for its checksum (and the line facts a SQL reader relies on), alongside the import's own
  const scan = typeof input === 'string' ? scanFile(input) : null;
  scan?.catch(() => undefined); // awaited below; a read error surfaces there
  if (scan && source.stageInSql) {
    try {
      const sql = await sqlImport(store, file, scan, source, opts);
      if (sql) return sql;
    } catch (e) {
      if (!(e instanceof ReadByRows)) throw e;
      // rolled back: the row path reads the file again and reports each bad row with its line
    }
  }
  const dir = typeof input === 'string' ? makeStagingDir(source.domain) : null;
  const tables = dir ? fileStaging(dir) : memoryStaging();
  try {
    const staged = await stageRows(tables, input, source, opts);
    const sha = scan ? (await scan).sha256 : null;
    return await store.transaction(() =>
      commit(store, { file, sha, path: 'rows' }, source, opts, async (batchId) => {
        await loadStagedRows(store, staged, batchId, file);
        return staged;
      }),
    );
  } finally {
    await tables.drop(store);
    if (dir) removeStagingDir(dir);
  }
}

/** The SQL reader's import: staged outside the transaction (a temp table made inside one is scanned on one thread). */
async function sqlImport<R>(
  store: Store,
  file: string,
  scan: Promise<FileScan>,
  source: ImportSource<R>,
  opts: ImportOptions,
): Promise<BatchSummary | null> {
  return store.session(async () => {
    const size = fileSize(file);
    const reading = (p: number) => opts.onProgress?.((p / 100) * size, size, 'reading');
    const staged = await source.stageInSql!(store, file, scan, reading);
    if (!staged) return null;
    try {
      opts.onProgress?.(size, size, 'reading');
      const sha = (await scan).sha256;
      return await store.transaction(() =>
        commit(store, { file, sha, path: 'sql' }, source, opts, async (batchId) => {
          await staged.record(batchId, file);
          return staged;
        }),
      );
    } finally {
      await staged.drop();
    }
  });
}

/** What the stage step produced, whichever reader built it. */
interface Staged {
  columns: string[] | null;
  rowsRead: number;
  quarantined: number;
  warningCounts: Record<string, number>;
  notes?: string[];
}

interface StagedRows extends Staged {
  stage: StageTable;
  raw: StageTable;
  quarantine: StageTable;
  warnings: StageTable;
  extra: Map<string, StageTable>;
  /** where the rows are staged: files in the import's dir, or memory tables loaded into DuckDB */
  tables: Staging;
}

/**
 * Makes the import's stage tables: CSV files in a private dir for a file (bounded memory), tables in
 * memory for records already in memory (the live API: no file written for a POST).
 */
interface Staging {
  table(name: string, columns: string[], types: Record<string, string>): StageTable;
  /** the raw rows, `seq` and the record's JSON text */
  raw(): StageTable;
  /** Makes the tables readable by SQL, inside the transaction. */
  load(store: Store): Promise<void>;
  /** Removes what it made (files go with the import's dir). */
  drop(store: Store): Promise<void>;
}

function fileStaging(dir: string): Staging {
  return {
    table: (name, columns, types) => new StageFile(join(dir, `${name}.csv`), columns, types),
    raw: () => new RawFile(join(dir, 'raw.tsv')),
    load: async () => undefined,
    drop: async () => undefined,
  };
}

function memoryStaging(): Staging {
  const made: MemoryTable[] = [];
  const table = (name: string, columns: string[], types: Record<string, string>) => {
    const t = new MemoryTable(`staged_${name}`, columns, types);
    made.push(t);
    return t;
  };
  return {
    table,
    raw: () => table('raw', ['seq', 'raw'], { seq: 'INTEGER' }),
    load: async (store) => {
      for (const t of made) await t.load(store);
    },
    drop: (store) =>
      dropTemp(
        store,
        made.map((t) => t.name),
      ),
  };
}

/** The default reader: CSV rows, the header resolved by the source. */
function csvRecords<R>(
  source: ImportSource<R>,
  onHeader: (names: string[]) => void,
): NonNullable<ImportSource<R>['read']> {
  return (file, _info, handlers) =>
    readCsv(
      file,
      { ...(handlers as unknown as ReadHandlers<string[]>), onHeader },
      source.delimiter,
    );
}

async function stageRows<R>(
  tables: Staging,
  input: string | RecordsInput<R>,
  source: ImportSource<R>,
  opts: ImportOptions,
): Promise<StagedRows> {
  const raw = tables.raw();
  const quarantine = tables.table('quarantine', ['line', 'field', 'reason', 'raw'], {
    line: 'INTEGER',
  });
  const warnings = tables.table('warnings', ['line', 'field', 'kind', 'message'], {
    line: 'INTEGER',
  });
  const extra = new Map<string, StageTable>();
  const warningCounts: Record<string, number> = {};
  let stage: StageTable | null = null;
  let stageColumns: string[] = [];
  // the shape is read when the first row is staged: a source may learn it from the header
  const stageFile = () => {
    if (stage) return stage;
    const shape = source.stage;
    stageColumns = shape.columns;
    return (stage = tables.table('stage', ['line', 'seq', ...shape.columns], {
      line: 'INTEGER',
      seq: 'INTEGER',
      ...shape.types,
    }));
  };
  let rowsRead = 0,
    quarantined = 0,
    columns: string[] | null = null;
  let line = 0,
    record: unknown = null,
    rawText: string | null = null;
  // the record as text, made when a row is staged or rejected (after the source has looked at it:
  // fire refuses a record too deeply nested to stringify)
  const recordText = () => (rawText ??= JSON.stringify(record));
  const warnAt = (at: number | null, kind: string, field?: string | null, message?: string) => {
    const n = (warningCounts[kind] = (warningCounts[kind] ?? 0) + 1);
    if (n <= WARNINGS_KEPT_PER_KIND)
      warnings.write([at, field ?? null, kind, message ?? kind.replace(/_/g, ' ')]);
  };
  const sink: RowSink = {
    accept(values, rawRow = recordText()) {
      const s = stageFile();
      raw.write([s.rows, rawRow]);
      s.write([line, s.rows, ...stageColumns.map((c) => values[c] ?? null)]);
    },
    reject(field, reason, rawRow = recordText()) {
      quarantined++;
      quarantine.write([line, field, reason, rawRow.slice(0, MAX_RAW_KEPT)]);
    },
    warn: (kind, field, message) => warnAt(line, kind, field, message),
    counts(n) {
      rowsRead += n - 1;
    },
    leaveOut(kind) {
      warningCounts[kind] = (warningCounts[kind] ?? 0) + 1;
    },
    get nextSeq() {
      return stage?.rows ?? 0;
    },
  };
  const handlers: ReadHandlers<R> = {
    onRecord(r, at) {
      rowsRead++;
      line = at;
      record = r;
      rawText = null;
      source.row(r, at, sink);
    },
    onError(e) {
      rowsRead++;
      quarantined++;
      quarantine.write([e.line, null, e.message, e.raw]);
    },
  };
  let decoded: TextReport = { nonUtf8Lines: 0, firstNonUtf8Line: null };
  if (typeof input === 'string') {
    const info: FileInfo = source.binary
      ? { size: fileSize(input), kind: 'csv' }
      : inspectFile(input);
    const onHeader = (names: string[]) => {
      columns = names;
      source.header?.(names, (kind, field, message) => warnAt(1, kind, field, message));
    };
    // a CSV file goes through the CSV reader whenever the source resolves a header
    const read =
      (info.kind === 'csv' && source.header) || !source.read
        ? csvRecords(source, onHeader)
        : source.read;
    decoded = await read(input, info, {
      ...handlers,
      onProgress: (bytes) => opts.onProgress?.(bytes, info.size, 'reading'),
    });
  } else {
    // "line" is the record's position in the batch
    input.records.forEach((record, k) => handlers.onRecord(record, k + 1));
  }
  source.finish?.({
    rowsRead,
    table(name, cols, types) {
      const f = tables.table(name, cols, types);
      extra.set(name, f);
      return f;
    },
    warn(kind, count) {
      if (count) warningCounts[kind] = (warningCounts[kind] ?? 0) + count;
    },
  });
  const note = encodingNote(typeof input === 'string' ? input : input.label, decoded);
  if (note) {
    warnAt(decoded.firstNonUtf8Line, 'invalid_utf8', null, note);
    warningCounts.invalid_utf8 = decoded.nonUtf8Lines;
  }
  const staged = stageFile(); // a file of rejected rows only still has its (empty) stage
  for (const f of [staged, raw, quarantine, warnings, ...extra.values()]) f.close();
  return {
    stage: staged,
    raw,
    quarantine,
    warnings,
    extra,
    tables,
    columns,
    rowsRead,
    quarantined,
    warningCounts,
    ...(note ? { notes: [note] } : {}),
  };
}

/** The row reader's stage, inside the transaction: the staged rows with their raw rows; quarantine and warnings. */
async function loadStagedRows(store: Store, s: StagedRows, batchId: number, file: string) {
  await s.tables.load(store);
  await store.run(
    `CREATE OR REPLACE TEMP TABLE stage AS SELECT s.*, r.raw FROM ${s.stage.sql()} s JOIN ${s.raw.sql()} r USING (seq)`,
  );
  await store.run(
    `INSERT INTO quarantine SELECT (SELECT coalesce(max(quarantine_id), 0) FROM quarantine) + row_number() OVER (ORDER BY line),
    $1, $2, line, field, reason, raw FROM ${s.quarantine.sql()}`,
    [batchId, file],
  );
  await store.run(
    `INSERT INTO import_warnings SELECT $1, $2, line, field, kind, message FROM ${s.warnings.sql()}`,
    [batchId, file],
  );
}

/** The write steps of an import's transaction, for progress: each heavy statement is one. */
class WriteSteps {
  private done = 0;
  constructor(
    readonly total: number,
    private readonly report: (done: number, total: number) => void,
  ) {}
  /** A heavy statement starts; the previous one has finished. */
  next(): void {
    this.done = Math.min(this.done + 1, this.total);
    this.report(this.done - 1, this.total);
  }
  /** DuckDB's estimate for the statement running. */
  within(percent: number): void {
    if (this.done > 0) this.report(this.done - 1 + percent / 100, this.total);
  }
  finish(): void {
    this.report(this.total, this.total);
  }
}

/** The temp tables the transaction works in; none outlives it. */
const WORK_TABLES = ['stage', 'stage_kept', 'changes'];

/**
 * The transaction: opens the batch, loads the stage (`load`), keeps the last row of each key,
 * diffs it against source_rows, lets the domain apply the changes, and closes the batch.
 */
async function commit<R>(
  store: Store,
  batch: { file: string; sha: string | null; path: 'rows' | 'sql' },
  source: ImportSource<R>,
  opts: ImportOptions,
  load: (batchId: number) => Promise<Staged>,
): Promise<BatchSummary> {
  const { file } = batch;
  const batchId = (await store.one<{ id: number }>(
    'SELECT coalesce(max(batch_id), 0) + 1 AS id FROM import_batches',
  ))!.id;
  await dropTemp(store, ['stage_kept', 'changes']);
  const s = await load(batchId);
  await store.run(
    `INSERT INTO import_batches (batch_id, domain, file, file_sha256, profile, source, started_at, columns)
    VALUES ($1, $2, $3, $4, $5, $6, now(), $7)`,
    [
      batchId,
      source.domain,
      file,
      batch.sha,
      source.profile,
      source.source,
      s.columns ? JSON.stringify(s.columns) : null,
    ],
  );
  const steps = new WriteSteps(1 + (source.writeSteps ?? 1), (done, total) =>
    opts.onProgress?.(done, total, 'writing'),
  );
  const warnings: Record<string, number> = { ...s.warningCounts };
  const add = (more: Record<string, number>) => {
    for (const [k, n] of Object.entries(more)) if (n) warnings[k] = (warnings[k] ?? 0) + n;
  };
  const { key } = source.stage;
  const duplicates = await keepLastOfKey(store, source, batchId, file);
  add({ [source.duplicateKind ?? `duplicate_${key}`]: duplicates });
  const k = await diffAgainstSourceRows(store, source, batchId, steps);
  let removed = 0;
  const applied = await store.tracking(
    (p) => steps.within(p),
    async () => {
      // a source the file replaces loses the keys the file no longer holds (unless the file staged none)
      const replaces = Boolean(source.replaces) && k.total > 0;
      if (replaces) removed = await removeKeysNoLongerHeld(store, source);
      if (source.table) await deleteReplacedRows(store, source, replaces);
      const extra = Object.fromEntries(
        [...((s as Partial<StagedRows>).extra ?? [])].map(([name, f]) => [name, f.sql()]),
      );
      return source.apply(
        store,
        {
          stage: 'stage',
          changes: 'changes',
          extra,
          file,
          changed: k.inserted + k.updated,
          staged: k.total,
          step: () => steps.next(),
        },
        batchId,
      );
    },
  );
  steps.finish();
  add(applied?.warnings ?? {});
  const unchanged = k.total - k.inserted - k.updated;
  await store.run(
    `UPDATE import_batches SET finished_at = now(), rows_read = $2, inserted = $3, updated = $4, unchanged = $5, quarantined = $6, warnings = $7
    WHERE batch_id = $1`,
    [
      batchId,
      s.rowsRead,
      k.inserted,
      k.updated,
      unchanged,
      s.quarantined,
      JSON.stringify(warnings),
    ],
  );
  await dropTemp(store, WORK_TABLES);
  // Fault-injection point for the crash-safety tests: dies with the transaction open.
  if (process.env.CITYOPS_TEST_KILL_BEFORE_COMMIT === '1') process.kill(process.pid, 'SIGKILL');
  // For the shutdown tests: holds the transaction open that long, a statement at a time.
  const hold = Date.now() + Number(process.env.CITYOPS_TEST_HOLD_BEFORE_COMMIT_MS ?? 0);
  while (Date.now() < hold) {
    await store.run('SELECT 1');
    await new Promise((r) => setTimeout(r, 20));
  }
  const summary: BatchSummary = {
    batchId,
    file,
    profile: source.profile,
    rowsRead: s.rowsRead,
    inserted: k.inserted,
    updated: k.updated,
    unchanged,
    quarantined: s.quarantined,
    ...(removed ? { removed } : {}),
    warnings,
    ...(s.notes?.length ? { notes: s.notes } : {}),
    ...applied?.summary,
    ...(source.stageInSql ? { path: batch.path } : {}),
  };
  await opts.beforeCommit?.(summary);
  return summary;
}

/** A key on several rows is one record: the last row in the file wins; each repeated key gets a warning row. */
async function keepLastOfKey<R>(
  store: Store,
  source: ImportSource<R>,
  batchId: number,
  file: string,
): Promise<number> {
  const { key } = source.stage;
  const kind = source.duplicateKind ?? `duplicate_${key}`;
  const dup = (await store.one<{ n: number }>(
    `SELECT (count(*) - count(DISTINCT ${key}))::INTEGER AS n FROM stage`,
  ))!.n;
  if (dup === 0) return 0;
  await store.run(
    `INSERT INTO import_warnings
    SELECT $1, $2, max(line), NULL, $3,
      $4 || ' ' || ${key} || ' appears ' || count(*) || ' times (lines ' || string_agg(line::VARCHAR, ', ' ORDER BY line) || '); the last one was kept'
    FROM stage GROUP BY ${key} HAVING count(*) > 1
    QUALIFY row_number() OVER (ORDER BY max(line)) <= ${WARNINGS_KEPT_PER_KIND}`,
    [batchId, file, kind, kind.replace(/^duplicate_/, '').replace(/_/g, ' ')],
  );
  await store.run(`CREATE OR REPLACE TEMP TABLE stage_kept AS SELECT * FROM stage
    QUALIFY row_number() OVER (PARTITION BY ${key} ORDER BY line DESC, seq DESC) = 1`);
  await dropTemp(store, ['stage']);
  await store.run('ALTER TABLE stage_kept RENAME TO stage');
  return dup;
}

/** The keys new or changed since source_rows last saw them (`changes`), and source_rows brought up to date. */
async function diffAgainstSourceRows<R>(
  store: Store,
  source: ImportSource<R>,
  batchId: number,
  steps: WriteSteps,
): Promise<{ inserted: number; updated: number; total: number }> {
  const { key } = source.stage;
  await store.run(
    `CREATE OR REPLACE TEMP TABLE changes AS SELECT s.${key} AS key, r.source_row_id IS NULL AS is_new
    FROM stage s LEFT JOIN source_rows r ON r.source = $1 AND r.source_row_id = s.${key} WHERE r.source_row_id IS NULL OR r.raw <> s.raw`,
    [source.source],
  );
  const k = (await store.one<{
    inserted: number;
    updated: number;
    total: number;
  }>(`SELECT (SELECT count(*) FROM changes WHERE is_new)::INTEGER AS inserted,
    (SELECT count(*) FROM changes WHERE NOT is_new)::INTEGER AS updated, (SELECT count(*) FROM stage)::INTEGER AS total`))!;
  await store.run(
    `DELETE FROM source_rows WHERE source = $1 AND source_row_id IN (SELECT key FROM changes WHERE NOT is_new)`,
    [source.source],
  );
  steps.next();
  // when every key is new or changed (a first import), the join with `changes` selects all of the stage
  const all = k.inserted + k.updated === k.total;
  await store.run(
    `INSERT INTO source_rows SELECT $1, s.${key}, $2, s.line, s.raw FROM stage s ${all ? '' : `SEMI JOIN changes c ON c.key = s.${key}`}`,
    [source.source, batchId],
  );
  return k;
}

/** A file that is its whole source: the raw rows of keys it no longer holds go; their count. */
async function removeKeysNoLongerHeld<R>(store: Store, source: ImportSource<R>): Promise<number> {
  const gone = `source_row_id NOT IN (SELECT ${source.stage.key} FROM stage)`;
  const removed = (await store.one<{ n: number }>(
    `SELECT count(*)::INTEGER AS n FROM source_rows WHERE source = $1 AND ${gone}`,
    [source.source],
  ))!.n;
  await store.run(`DELETE FROM source_rows WHERE source = $1 AND ${gone}`, [source.source]);
  return removed;
}

/**
 * Drops temp tables and views by name, whichever each is (a SQL reader may stage into views).
 * A failed DROP would abort the open transaction, so the kind is looked up.
 */
export async function dropTemp(store: Store, names: string[]): Promise<void> {
  const list = names.map((n) => `'${n}'`).join(', '); // names are the code's own
  const found = await store.all<{
    name: string;
    kind: string;
  }>(`SELECT view_name AS name, 'VIEW' AS kind FROM duckdb_views() WHERE temporary AND view_name IN (${list})
    UNION ALL SELECT table_name, 'TABLE' FROM duckdb_tables() WHERE temporary AND table_name IN (${list})`);
  // views first: they may read the tables
  for (const f of found.sort((a, b) => b.kind.localeCompare(a.kind)))
    await store.run(`DROP ${f.kind} ${f.name}`);
}

/**
 * Deletes the domain rows the apply step rewrites: those of changed keys and, when the file
 * replaces its source, every row of the source it does not leave unchanged (so rows written before
 * their source kept raw rows are replaced too, not doubled).
 */
async function deleteReplacedRows<R>(
  store: Store,
  source: ImportSource<R>,
  replaces: boolean,
): Promise<void> {
  const { name, key, scope: given } = source.table!;
  const scope = given === undefined ? { column: 'source', value: source.source } : given;
  const ofSource = scope ? `${scope.column} = $1` : 'true';
  const rewritten = replaces
    ? `${key} IN (SELECT key FROM changes) OR ${key} NOT IN (SELECT ${source.stage.key} FROM stage)`
    : `${key} IN (SELECT key FROM changes WHERE NOT is_new)`;
  await store.run(
    `DELETE FROM ${name} WHERE ${ofSource} AND (${rewritten})`,
    scope ? [scope.value] : [],
  );
}
