import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
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
  RawFile,
  removeStagingDir,
  StageFile,
  type BatchSummary,
} from './staging.ts';

/**
 * The one ingest pipeline for a source file read row by row. A domain describes its source (an
 * `ImportSource`: header resolution, how a row becomes a stage row or a rejection, and its `apply`
 * step); `runImport` owns the rest, the same for every domain:
 *
 *   inspect the file → stream rows (gzip, UTF-8, quarantine) → staging files on disk → checksum →
 *   one transaction: batch id, stage table (last row of a key wins), diff against source_rows,
 *   the domain's apply step, raw rows, quarantine, batch counts → the summary.
 *
 * So a file whose every row is rejected, a re-import (idempotent: unchanged rows are left alone), a
 * failed import (its temp files removed) behave the same in every domain.
 *
 * A record is a CSV row's values (`R = string[]`, the default reader) or whatever the source's own
 * `read` yields: a GeoJSON feature (`readGeoJsonFeatures`), an OSM way.
 */
export interface ImportSource<R = string[]> {
  /** import_batches.domain */
  domain: string;
  /** the profile or mapping read with (summary and import_batches.profile) */
  profile: string;
  /** source_rows.source and the domain table's source column: a key is unique within it */
  source: string;
  /** the stage columns, their DuckDB types (VARCHAR unless given), and the key column */
  stage: { columns: string[]; types: Record<string, string>; key: string };
  /** CSV delimiter when the source fixes one */
  delimiter?: string;
  /** the file is binary (OSM PBF): only its existence and size are checked, not its text */
  binary?: boolean;
  /**
   * Reads the records, each with the line (or feature number) the quarantine names; without it the
   * file is CSV, read with `header`.
   */
  read?(file: string, info: FileInfo, handlers: ReadHandlers<R>): Promise<TextReport>;
  /** CSV: resolves the columns; throws a UserError naming what is missing. */
  header?(names: string[]): void;
  /**
   * Turns one record into stage rows (`row.accept`, once or more: a MultiLineString is several
   * roads) or a rejection (`row.reject`); accepting nothing and rejecting nothing skips it.
   */
  row(record: R, line: number, row: RowSink): void;
  /** After the last row: extra staging tables the apply step joins (e.g. outliers found over the whole file). */
  finish?(extra: ExtraStaging): void;
  /**
   * Writes the domain rows for the changed keys. `stage` is a temp table of the staged rows (with
   * `raw`), `changes` one of (key, is_new) for the keys that are new or whose raw row differs; rows of
   * changed keys are deleted from the domain table by the pipeline before this runs.
   */
  apply(
    store: Store,
    tables: { stage: string; changes: string; extra: Record<string, string> },
    batchId: number,
  ): Promise<void>;
  /**
   * The domain table whose rows the pipeline replaces for changed keys, its key column, and the
   * column and value that pick this source's rows in it (`source` = `source` unless given; null when
   * the table holds this source only).
   */
  table: { name: string; key: string; scope?: { column: string; value: string } | null };
  /**
   * The file is the whole source (stations, a map layer, a road network): keys it no longer holds are
   * removed. A file in which no record was accepted removes nothing, so a file of bad rows never
   * empties a table.
   */
  replaces?: boolean;
}

export interface RowSink {
  /** Stages the row; values in `stage.columns` order, seq and line filled in by the pipeline. */
  accept(values: Record<string, unknown>): void;
  reject(field: string | null, reason: string): void;
  warn(kind: string): void;
  /** the stage seq the next accepted row gets */
  readonly nextSeq: number;
}

export interface ExtraStaging {
  table(name: string, columns: string[], types: Record<string, string>): StageFile;
  warn(kind: string, count: number): void;
}

export interface ImportProgress {
  onProgress?(bytesRead: number, totalBytes: number): void;
}

export async function runImport<R>(
  store: Store,
  file: string,
  source: ImportSource<R>,
  opts: ImportProgress = {},
): Promise<BatchSummary> {
  const info: FileInfo = source.binary ? { size: fileSize(file), kind: 'csv' } : inspectFile(file);
  const dir = makeStagingDir(source.domain);
  try {
    const staged = await stageFile(dir, file, info, source, opts);
    const sha = await sha256(file);
    return await store.transaction(() => commit(store, file, sha, source, staged));
  } finally {
    removeStagingDir(dir);
  }
}

interface Staged {
  stage: StageFile;
  raw: RawFile;
  quarantine: StageFile;
  extra: Map<string, StageFile>;
  rowsRead: number;
  quarantined: number;
  warnings: Record<string, number>;
  note: string | null;
}

/** The default reader: CSV rows, the header resolved by the source. */
function csvRecords<R>(source: ImportSource<R>): NonNullable<ImportSource<R>['read']> {
  return (file, _info, handlers) =>
    readCsv(
      file,
      {
        ...(handlers as unknown as ReadHandlers<string[]>),
        onHeader: (names) => source.header?.(names),
      },
      source.delimiter,
    );
}

async function stageFile<R>(
  dir: string,
  file: string,
  info: FileInfo,
  source: ImportSource<R>,
  opts: ImportProgress,
): Promise<Staged> {
  const columns = ['line', 'seq', ...source.stage.columns];
  const stage = new StageFile(join(dir, 'stage.csv'), columns, {
    line: 'INTEGER',
    seq: 'INTEGER',
    ...source.stage.types,
  });
  const raw = new RawFile(join(dir, 'raw.tsv'));
  const quarantine = new StageFile(
    join(dir, 'quarantine.csv'),
    ['line', 'field', 'reason', 'raw'],
    { line: 'INTEGER' },
  );
  const extra = new Map<string, StageFile>();
  const warnings: Record<string, number> = {};
  let rowsRead = 0,
    quarantined = 0;
  let line = 0,
    rawText = '';
  const sink: RowSink = {
    accept(values) {
      const seq = stage.rows;
      raw.write(seq, rawText);
      stage.write([line, seq, ...source.stage.columns.map((c) => values[c] ?? null)]);
    },
    reject(field, reason) {
      quarantined++;
      quarantine.write([line, field, reason, rawText.slice(0, MAX_RAW_KEPT)]);
    },
    warn(kind) {
      warnings[kind] = (warnings[kind] ?? 0) + 1;
    },
    get nextSeq() {
      return stage.rows;
    },
  };
  const read = source.read ?? csvRecords(source);
  const decoded = await read(file, info, {
    onRecord(record, at) {
      rowsRead++;
      line = at;
      rawText = JSON.stringify(record);
      source.row(record, at, sink);
    },
    onError(e) {
      rowsRead++;
      quarantined++;
      quarantine.write([e.line, null, e.message, e.raw]);
    },
    onProgress: (bytes) => opts.onProgress?.(bytes, info.size),
  });
  source.finish?.({
    table(name, cols, types) {
      const f = new StageFile(join(dir, `${name}.csv`), cols, types);
      extra.set(name, f);
      return f;
    },
    warn(kind, count) {
      if (count) warnings[kind] = (warnings[kind] ?? 0) + count;
    },
  });
  for (const f of [stage, raw, quarantine, ...extra.values()]) f.close();
  const note = encodingNote(file, decoded);
  if (note) warnings.invalid_utf8 = decoded.nonUtf8Lines;
  return { stage, raw, quarantine, extra, rowsRead, quarantined, warnings, note };
}

async function sha256(file: string): Promise<string> {
  const sha = createHash('sha256');
  for await (const chunk of createReadStream(file)) sha.update(chunk as Buffer);
  return sha.digest('hex');
}

async function commit<R>(
  store: Store,
  file: string,
  sha: string,
  source: ImportSource<R>,
  s: Staged,
): Promise<BatchSummary> {
  const { key } = source.stage;
  const stageTable = `${source.domain}_stage`,
    changes = `${source.domain}_changes`;
  const batchId = (await store.one<{ id: number }>(
    'SELECT coalesce(max(batch_id), 0) + 1 AS id FROM import_batches',
  ))!.id;
  await store.run(
    `INSERT INTO import_batches (batch_id, domain, file, file_sha256, profile, source, started_at) VALUES ($1, $2, $3, $4, $5, $6, now())`,
    [batchId, source.domain, file, sha, source.profile, source.source],
  );
  // a key on several rows is one record: the last row in the file wins
  await store.run(`CREATE OR REPLACE TEMP TABLE ${stageTable} AS SELECT s.*, r.raw FROM ${s.stage.sql()} s JOIN ${s.raw.sql()} r USING (seq)
    QUALIFY row_number() OVER (PARTITION BY s.${key} ORDER BY s.line DESC, s.seq DESC) = 1`);
  await store.run(
    `CREATE OR REPLACE TEMP TABLE ${changes} AS SELECT s.${key} AS key, r.source_row_id IS NULL AS is_new
    FROM ${stageTable} s LEFT JOIN source_rows r ON r.source = $1 AND r.source_row_id = s.${key} WHERE r.source_row_id IS NULL OR r.raw <> s.raw`,
    [source.source],
  );
  const k = (await store.one<{
    inserted: number;
    updated: number;
    total: number;
  }>(`SELECT (SELECT count(*) FROM ${changes} WHERE is_new) AS inserted,
    (SELECT count(*) FROM ${changes} WHERE NOT is_new) AS updated, (SELECT count(*) FROM ${stageTable}) AS total`))!;
  // a source the file replaces loses the keys the file no longer holds (unless the file staged none)
  const replaces = source.replaces && k.total > 0;
  const gone = replaces ? `source_row_id NOT IN (SELECT ${key} FROM ${stageTable})` : 'false';
  const removed = (await store.one<{ n: number }>(
    `SELECT count(*)::INTEGER AS n FROM source_rows WHERE source = $1 AND ${gone}`,
    [source.source],
  ))!.n;
  await store.run(
    `DELETE FROM source_rows WHERE source = $1 AND (source_row_id IN (SELECT key FROM ${changes} WHERE NOT is_new) OR ${gone})`,
    [source.source],
  );
  await deleteReplacedRows(store, source, stageTable, changes, replaces);
  await store.run(
    `INSERT INTO source_rows SELECT $1, s.${key}, $2, s.line, s.raw FROM ${stageTable} s SEMI JOIN ${changes} c ON c.key = s.${key}`,
    [source.source, batchId],
  );
  const extra = Object.fromEntries([...s.extra].map(([name, f]) => [name, f.sql()]));
  await source.apply(store, { stage: stageTable, changes, extra }, batchId);
  await store.run(
    `INSERT INTO quarantine SELECT (SELECT coalesce(max(quarantine_id), 0) FROM quarantine) + row_number() OVER (ORDER BY line),
    $1, $2, line, field, reason, raw FROM ${s.quarantine.sql()}`,
    [batchId, file],
  );
  const warnings = { ...s.warnings };
  const duplicates = s.stage.rows - k.total;
  if (duplicates) warnings[`duplicate_${key}`] = duplicates;
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
  return {
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
    ...(s.note ? { notes: [s.note] } : {}),
  };
}

/**
 * Deletes the domain rows the apply step rewrites: those of changed keys and, when the file
 * replaces its source, every row of the source it does not leave unchanged (so rows written before
 * their source kept raw rows are replaced too, not doubled).
 */
async function deleteReplacedRows<R>(
  store: Store,
  source: ImportSource<R>,
  stageTable: string,
  changes: string,
  replaces: boolean | undefined,
): Promise<void> {
  const { name, key } = source.table;
  const scope =
    source.table.scope === undefined
      ? { column: 'source', value: source.source }
      : source.table.scope;
  const ofSource = scope ? `${scope.column} = $1` : 'true';
  const rewritten = replaces
    ? `${key} IN (SELECT key FROM ${changes}) OR ${key} NOT IN (SELECT ${source.stage.key} FROM ${stageTable})`
    : `${key} IN (SELECT key FROM ${changes} WHERE NOT is_new)`;
  await store.run(
    `DELETE FROM ${name} WHERE ${ofSource} AND (${rewritten})`,
    scope ? [scope.value] : [],
  );
}
