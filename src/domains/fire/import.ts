import { closeSync, openSync, readSync, statSync } from 'node:fs';
import Papa from 'papaparse';
import { basename, join } from 'node:path';
import { UserError } from '../../platform/errors.ts';
import {
  encodingNote,
  inspectFile,
  readCsv,
  readJsonRecords,
  MAX_RAW_KEPT,
  TextDecoding,
  type TextReport,
} from '../../platform/sources.ts';
import type { Store } from '../../platform/db.ts';
import {
  makeStagingDir,
  RawFile,
  removeStagingDir,
  StageFile,
  type BatchSummary,
} from '../../platform/staging.ts';
import { loadMappingFile, type Mapping, type WideMapping } from './mapping.ts';
import { fastPathBlocker, NotPlainFile, stageWithSql } from './sql-stage.ts';
import { scanFile, type FileScan } from '../../platform/file-scan.ts';
import { STATUS_TO_STAMP, UNIT_STAMPS, type Category } from './model.ts';
import {
  eventNormaliser,
  recordGetter,
  requiredFields,
  resolveColumns,
  wideNormaliser,
  type FieldGetter,
  type RowWarning,
} from './normalise.ts';
import { cadStatusEvents } from './profiles/cad-status-events.ts';
import { flattenNeris, neris } from './profiles/neris.ts';
import { sfFireCalls } from './profiles/sf-fire-calls.ts';

export const PROFILES: Record<string, Mapping> = {
  'sf-fire-calls': sfFireCalls,
  'cad-status-events': cadStatusEvents,
  neris,
};

export interface ImportOptions {
  /** Key space for the rows instead of the mapping's (the demo replay keeps its copies apart). */
  source?: string;
  profile?: string;
  mappingFile?: string;
  /**
   * Reading: bytes of the file read so far. Writing: steps done (with DuckDB's estimate for the
   * statement running) out of the import's write steps.
   */
  onProgress?: (done: number, total: number, stage: ImportStage) => void;
  /** Runs inside the import's transaction once its rows are written: what it writes commits (or fails) with them. */
  beforeCommit?: (summary: ImportSummary) => Promise<void>;
}

export type ImportStage = 'reading' | 'writing';

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

export interface ImportSummary extends BatchSummary {
  incidentsTouched: number;
  /** how the file was read: by DuckDB with SQL checks (plain files), or row by row */
  path: 'sql' | 'rows';
}

/** At most this many warning rows of one kind are stored per import; all are counted. */
const WARNINGS_KEPT_PER_KIND = 1000;

function chooseMapping(opts: ImportOptions): Mapping | null {
  if (opts.profile && opts.mappingFile)
    throw new UserError('Give either --profile or --mapping, not both.');
  if (opts.mappingFile) return loadMappingFile(opts.mappingFile);
  if (opts.profile) {
    const m = PROFILES[opts.profile];
    if (!m)
      throw new UserError(
        `Unknown profile "${opts.profile}". Known profiles: ${Object.keys(PROFILES).join(', ')}; or describe the export in a mapping file (--mapping FILE).`,
      );
    return m;
  }
  return null; // decided from the file's header or first record
}

/** Picks the built-in profile whose required columns the headers carry. */
function detectProfile(file: string, headers: string[]): Mapping {
  let best: { m: Mapping; hits: number } | null = null;
  for (const m of [sfFireCalls, cadStatusEvents]) {
    const res = resolveColumns(m, headers);
    const required = requiredFields(m);
    if (required.some((f) => !res.index.has(f))) continue;
    if (!best || res.index.size > best.hits) best = { m, hits: res.index.size };
  }
  if (!best) {
    throw new UserError(
      `${file}: cannot tell which profile fits its columns (${headers.slice(0, 8).join(', ')}${headers.length > 8 ? ', …' : ''}). ` +
        `Name one with --profile (${Object.keys(PROFILES).join(', ')}) or write a mapping file (--mapping FILE).`,
    );
  }
  return best.m;
}

const INCIDENT_COLS = [
  'incident_id',
  'call_received',
  'call_created',
  'closed_at',
  'incident_type',
  'category',
  'priority',
  'emergency',
  'lat',
  'lon',
  'address',
  'station_area',
  'battalion',
  'zone',
  'risk_class',
  'neighborhood',
] as const;
const UNIT_COLS = [
  'unit_id',
  'unit_type',
  'unit_type_source',
  'home_station',
  'own_agency',
  'dispatch_order',
  'cancelled',
  'staffing',
] as const;
const WIDE_STAGE = [
  'source_row_id',
  'line',
  'seq',
  'response_id',
  ...INCIDENT_COLS,
  ...UNIT_COLS,
  ...UNIT_STAMPS,
];
const EVENT_STAGE = [
  'source_row_id',
  'line',
  'seq',
  'event_id',
  'status',
  'status_at',
  ...INCIDENT_COLS,
  ...UNIT_COLS,
];

const STAGE_TYPES: Record<string, string> = {
  line: 'INTEGER',
  seq: 'INTEGER',
  lat: 'DOUBLE',
  lon: 'DOUBLE',
  emergency: 'BOOLEAN',
  own_agency: 'BOOLEAN',
  cancelled: 'BOOLEAN',
  dispatch_order: 'INTEGER',
  staffing: 'INTEGER',
  status_at: 'DOUBLE',
  call_received: 'DOUBLE',
  call_created: 'DOUBLE',
  closed_at: 'DOUBLE',
  ...Object.fromEntries(UNIT_STAMPS.map((s) => [s, 'DOUBLE'])),
};

interface Collected {
  file: string;
  /** the header of a delimited file, null for JSON */
  columns: string[] | null;
  mapping: Mapping;
  stage: StageFile;
  raw: RawFile;
  quarantine: StageFile;
  warnings: StageFile;
  warningCounts: Record<string, number>;
  rowsRead: number;
  quarantined: number;
  /** for the summary: bytes that were not UTF-8 */
  notes: string[];
}

/** Where records come from: a file, or records already in memory (the live API). */
type RecordSource = { file: string } | { records: Record<string, unknown>[]; label: string };

async function collect(src: RecordSource, opts: ImportOptions, dir: string): Promise<Collected> {
  const file = 'file' in src ? src.file : src.label;
  const info = 'file' in src ? inspectFile(src.file) : { size: 0, kind: 'json' as const };
  let mapping = chooseMapping(opts);
  const quarantine = new StageFile(
    join(dir, 'quarantine.csv'),
    ['line', 'field', 'reason', 'raw'],
    { line: 'INTEGER' },
  );
  const warnings = new StageFile(join(dir, 'warnings.csv'), ['line', 'field', 'kind', 'message'], {
    line: 'INTEGER',
  });
  const warningCounts: Record<string, number> = {};
  const rawFile = new RawFile(join(dir, 'raw.tsv'));
  let columns: string[] | null = null;
  let stage: StageFile | null = null;
  let rowsRead = 0;
  let quarantined = 0;
  const name = basename(file);

  const warn = (line: number | null, w: RowWarning) => {
    const n = (warningCounts[w.kind] = (warningCounts[w.kind] ?? 0) + 1);
    if (n <= WARNINGS_KEPT_PER_KIND) warnings.write([line, w.field ?? null, w.kind, w.message]);
  };
  const reject = (line: number, field: string | null, reason: string, raw: string) => {
    quarantined++;
    quarantine.write([line, field, reason, raw.slice(0, MAX_RAW_KEPT)]);
  };

  let handleRecord: (
    get: FieldGetter,
    raw: unknown,
    line: number,
    extra?: Record<string, string | null>,
  ) => void = () => undefined;
  const setup = (m: Mapping) => {
    mapping = m;
    if (m.shape === 'events') {
      const s = (stage = new StageFile(join(dir, 'stage.csv'), EVENT_STAGE, STAGE_TYPES));
      const norm = eventNormaliser(m);
      handleRecord = (get, raw, line) => {
        const r = norm(get);
        const rawText = JSON.stringify(raw);
        if (!r.ok) return reject(line, r.field, r.reason, rawText);
        for (const w of r.warnings) warn(line, w);
        const inc = r.incident as Record<string, unknown>;
        const unit = r.unit as Record<string, unknown>;
        rawFile.write(s.rows, rawText);
        s.write([
          r.event.event_id,
          line,
          s.rows,
          r.event.event_id,
          r.event.status,
          r.event.at,
          r.event.incident_id,
          ...INCIDENT_COLS.slice(1).map((c) => inc[c] ?? null),
          r.event.unit_id,
          ...UNIT_COLS.slice(1).map((c) => unit[c] ?? null),
        ]);
      };
    } else {
      const s = (stage = new StageFile(join(dir, 'stage.csv'), WIDE_STAGE, STAGE_TYPES));
      const norm = wideNormaliser(m);
      const row: unknown[] = new Array(WIDE_STAGE.length); // filled in place for every record
      handleRecord = (get, raw, line, extra) => {
        const r = norm(get);
        const rawText = JSON.stringify(raw);
        if (!r.ok) return reject(line, r.field, r.reason, rawText);
        for (const w of r.warnings) warn(line, w);
        if (extra?.category) r.incident.category = extra.category as Category;
        const inc = r.incident as unknown as Record<string, unknown>;
        const res = r.response as unknown as Record<string, unknown>;
        rawFile.write(s.rows, rawText);
        let k = 0;
        row[k++] = r.rowId;
        row[k++] = line;
        row[k++] = s.rows;
        row[k++] = r.response.response_id;
        for (const c of INCIDENT_COLS) row[k++] = inc[c];
        for (const c of UNIT_COLS) row[k++] = res[c];
        for (const c of UNIT_STAMPS) row[k++] = res[c];
        s.write(row);
      };
    }
  };
  if (mapping) setup(mapping);
  const progress = (bytes: number) => opts.onProgress?.(bytes, info.size, 'reading');

  let decoded: TextReport = { nonUtf8Lines: 0, firstNonUtf8Line: null };
  if (info.kind === 'csv') {
    let index = new Map<string, number>();
    let values: string[] = [];
    const get: FieldGetter = (f) => {
      const i = index.get(f);
      return i === undefined ? null : (values[i] ?? null);
    };
    decoded = await readCsv(
      file,
      {
        onHeader(h) {
          columns = h;
          if (!mapping) setup(detectProfile(name, h));
          const m = mapping!;
          if (m === neris)
            throw new UserError(
              `${name}: the neris profile reads JSON incidents, and this file is CSV.`,
            );
          const res = resolveColumns(m, h);
          const required = requiredFields(m);
          const missingRequired = res.missing.filter((x) => required.includes(x.field));
          if (missingRequired.length) {
            throw new UserError(
              `${name}: no column for ${missingRequired.map((x) => `${x.field} (looked for: ${x.looked.join(', ')})`).join('; ')}. ` +
                `Columns in the file: ${h.join(', ')}`,
            );
          }
          for (const x of res.missing)
            warn(1, {
              kind: 'missing_column',
              field: x.field,
              message: `no column for ${x.field} (looked for: ${x.looked.join(', ')})`,
            });
          for (const u of res.unmapped)
            warn(1, {
              kind: 'unmapped_column',
              field: u,
              message: `column "${u}" is not mapped to a field; kept in the raw row only`,
            });
          index = res.index;
        },
        onRecord(v, line) {
          rowsRead++;
          values = v;
          handleRecord(get, v, line); // kept as received: the values in header order
        },
        onError(e) {
          rowsRead++;
          reject(e.line, null, e.message, e.raw);
        },
        onProgress: progress,
      },
      mapping?.delimiter,
    );
  } else {
    const onRecord = (rec: Record<string, unknown>, line: number) => {
      refuseDeepNesting(rec, name, line);
      if (!mapping) setup('unit_responses' in rec || 'dispatch' in rec ? neris : cadStatusEvents);
      if (mapping === neris) {
        const flat = flattenNeris(rec);
        if ('error' in flat) {
          rowsRead++;
          return reject(line, flat.error.field, flat.error.reason, JSON.stringify(rec));
        }
        for (const row of flat.rows) {
          rowsRead++;
          const v = row.values;
          handleRecord((f) => v[f] ?? null, row.raw, line, v);
        }
        return;
      }
      rowsRead++;
      handleRecord(recordGetter(mapping!, rec), rec, line);
    };
    if ('records' in src) {
      src.records.forEach((rec, k) => onRecord(rec, k + 1)); // "line" is the item's position in the batch
    } else {
      decoded = await readJsonRecords(src.file, {
        onRecord,
        onError(e) {
          rowsRead++;
          reject(e.line, null, e.message, e.raw);
        },
        onProgress: progress,
      });
    }
  }
  // JSON whose every element was rejected before a profile could be told: the default JSON profile, for a normal summary
  if (!stage && columns === null && rowsRead > 0) setup(cadStatusEvents);
  if (!stage || !mapping) throw new UserError(`${name} holds no records.`);
  const note = encodingNote(name, decoded);
  if (note) {
    warn(decoded.firstNonUtf8Line, { kind: 'invalid_utf8', message: note });
    warningCounts.invalid_utf8 = decoded.nonUtf8Lines;
  }
  for (const f of [stage as StageFile, quarantine, warnings, rawFile]) f.close();
  return {
    file,
    columns,
    mapping,
    stage,
    raw: rawFile,
    quarantine,
    warnings,
    warningCounts,
    rowsRead,
    quarantined,
    notes: note ? [note] : [],
  };
}

/** Deeper JSON is no CAD record; a 200,000-deep one overflowed the stack of JSON.stringify (issue 13, item 9). */
export const MAX_JSON_DEPTH = 64;

/** Refuses a record nested deeper than MAX_JSON_DEPTH, walking it without recursion. */
function refuseDeepNesting(rec: object, name: string, line: number): void {
  const stack: [unknown, number][] = [[rec, 1]];
  while (stack.length) {
    const [v, depth] = stack.pop()!;
    if (depth > MAX_JSON_DEPTH)
      throw new UserError(
        `${name}:${line}: a JSON record nested more than ${MAX_JSON_DEPTH} levels deep; CAD records are flat or nearly so`,
      );
    for (const child of Object.values(v as object))
      if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
  }
}

/**
 * Imports one CAD file. Rows are read and checked in a stream, then applied in one transaction:
 * a failure or a killed process leaves the database exactly as it was. Rows are keyed by source
 * row id, so re-importing a file changes nothing and a file with corrected rows updates them.
 */
export async function importFireFile(
  store: Store,
  file: string,
  opts: ImportOptions = {},
): Promise<ImportSummary> {
  return runImport(store, { file }, opts);
}

/** Imports records already in memory (the live CAD API) with the same checks and guarantees as a file. */
export async function importFireRecords(
  store: Store,
  records: Record<string, unknown>[],
  label: string,
  opts: ImportOptions = {},
): Promise<ImportSummary> {
  return runImport(store, { records, label }, opts);
}

/** What an import's stage step produced, whichever path built it. */
interface Staged {
  mapping: Mapping;
  columns: string[] | null;
  rowsRead: number;
  quarantined: number;
  warningCounts: Record<string, number>;
  notes?: string[];
}

/**
 * The fast path applies to a plain CSV file read through a wide mapping with a row id and a
 * pattern time format (see sql-stage.ts); anything else is read row by row.
 */
function fastPlan(
  file: string,
  opts: ImportOptions,
): { mapping: WideMapping; header: string[] } | null {
  const info = inspectFile(file);
  if (info.kind !== 'csv') return null;
  const chosen = chooseMapping(opts);
  if (chosen && chosen.shape !== 'wide') return null;
  const header = readHeader(file, chosen?.delimiter);
  if (!header) return null;
  let mapping: Mapping;
  try {
    mapping = chosen ?? detectProfile(basename(file), header);
  } catch {
    return null; // the row path gives the full message
  }
  if (mapping.shape !== 'wide' || mapping === neris) return null;
  const required = requiredFields(mapping);
  const res = resolveColumns(mapping, header);
  if (required.some((f) => !res.index.has(f))) return null;
  return fastPathBlocker(mapping, header) === null ? { mapping, header } : null;
}

async function runImport(
  store: Store,
  src: RecordSource,
  opts: ImportOptions,
): Promise<ImportSummary> {
  // one read of the file for its checksum and line count, alongside the import's own reading
  const scan = 'file' in src ? scanFile(src.file) : null;
  scan?.catch(() => undefined); // awaited below; a read error surfaces there
  const fast = 'file' in src ? fastPlan(src.file, opts) : null;
  if (fast) {
    try {
      return await importOnce(store, src, opts, fast, scan!);
    } catch (e) {
      if (!(e instanceof NotPlainFile)) throw e;
      // rolled back: the row path reads the file again and reports each bad row with its line
    }
  }
  return importOnce(store, src, opts, null, scan);
}

async function importOnce(
  store: Store,
  src: RecordSource,
  opts: ImportOptions,
  fast: { mapping: WideMapping; header: string[] } | null,
  scan: Promise<FileScan> | null,
): Promise<ImportSummary> {
  const dir = makeStagingDir('fire');
  const file = 'file' in src ? src.file : src.label;
  try {
    const collected = fast ? null : await collect(src, opts, dir);
    const mapping = fast ? fast.mapping : collected!.mapping;
    const source = opts.source ?? mapping.source ?? mapping.name;
    const columns = fast ? fast.header : collected!.columns;
    const summary = await store.session(async () => {
      await dropTemp(store, WORK_TABLES);
      try {
        // the SQL path reads and checks the file into temp tables first, outside the transaction
        const size = 'file' in src ? statSync(src.file).size : 0;
        const sqlStaged = fast
          ? await stageWithSql(
              store,
              (src as { file: string }).file,
              fast.mapping,
              fast.header,
              scan!,
              (p) => opts.onProgress?.((p / 100) * size, size, 'reading'),
            )
          : null;
        if ('file' in src) opts.onProgress?.(size, size, 'reading');
        const steps = new WriteSteps(mapping.shape === 'events' ? 4 : 3, (done, total) =>
          opts.onProgress?.(done, total, 'writing'),
        );
        return await store.transaction(async () => {
          const batch = await store.one<{ id: number }>(
            'SELECT coalesce(max(batch_id), 0) + 1 AS id FROM import_batches',
          );
          const batchId = batch!.id;
          await store.run(
            `INSERT INTO import_batches (batch_id, domain, file, profile, source, started_at, columns)
            VALUES ($1, 'fire', $2, $3, $4, now(), $5)`,
            [batchId, file, mapping.name, source, columns ? JSON.stringify(columns) : null],
          );
          let staged: Staged;
          if (sqlStaged) {
            await sqlStaged.record(batchId, file);
            staged = { mapping, columns, ...sqlStaged };
          } else {
            await loadStagedFiles(store, collected!, batchId);
            staged = collected!;
          }
          const counts = await store.tracking(
            (p) => steps.within(p),
            () =>
              mapping.shape === 'events'
                ? applyEvents(store, file, batchId, source, steps)
                : applyWide(store, file, batchId, source, steps),
          );
          steps.finish();
          const warnings = { ...staged.warningCounts };
          if (counts.duplicates)
            warnings.duplicate_row_id = (warnings.duplicate_row_id ?? 0) + counts.duplicates;
          if (counts.alreadyRecorded) warnings.already_recorded = counts.alreadyRecorded;
          const sha = scan ? (await scan).sha256 : null;
          await store.run(
            `UPDATE import_batches SET finished_at = now(), file_sha256 = $8, rows_read = $2, inserted = $3, updated = $4, unchanged = $5,
            quarantined = $6, warnings = $7 WHERE batch_id = $1`,
            [
              batchId,
              staged.rowsRead,
              counts.inserted,
              counts.updated,
              counts.unchanged,
              staged.quarantined,
              JSON.stringify(warnings),
              sha,
            ],
          );
          // Fault-injection point for the crash-safety test: dies with the transaction open.
          if (process.env.CITYOPS_TEST_KILL_BEFORE_COMMIT === '1')
            process.kill(process.pid, 'SIGKILL');
          const summary: ImportSummary = {
            batchId,
            file,
            profile: mapping.name,
            rowsRead: staged.rowsRead,
            inserted: counts.inserted,
            updated: counts.updated,
            unchanged: counts.unchanged,
            quarantined: staged.quarantined,
            warnings,
            incidentsTouched: counts.incidents,
            path: fast ? ('sql' as const) : ('rows' as const),
            ...(staged.notes?.length ? { notes: staged.notes } : {}),
          };
          await opts.beforeCommit?.(summary);
          return summary;
        });
      } finally {
        await dropTemp(store, WORK_TABLES);
      }
    });
    return summary;
  } finally {
    removeStagingDir(dir);
  }
}

/** The header row of a delimited file (the first line), or null when it cannot be read simply. */
function readHeader(file: string, delimiter?: string): string[] | null {
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(1 << 16);
    const n = readSync(fd, buf, 0, buf.length, 0);
    const text = new TextDecoding().write(buf.subarray(0, n)).replace(/^\uFEFF/, '');
    const end = text.indexOf('\n');
    if (end < 0) return null;
    const parsed = Papa.parse<string[]>(text.slice(0, end).replace(/\r$/, ''), {
      delimiter: delimiter ?? '',
    });
    return parsed.data[0]?.map((h) => h.trim()) ?? null;
  } finally {
    closeSync(fd);
  }
}

interface ApplyCounts {
  inserted: number;
  updated: number;
  unchanged: number;
  duplicates: number;
  incidents: number;
  /** rows whose unit response the live feed had recorded first */
  alreadyRecorded?: number;
}

/** The temp tables and views an import works in; none outlives it. */
const WORK_TABLES = [
  'stage',
  'stage_kept',
  'located',
  'checked',
  'found_warnings',
  'changes',
  'merged',
  'touched_units',
];

/**
 * Drops temp tables and views by name, whichever each is: the SQL path stages into views, the row
 * path into tables. (A failed DROP would abort the open transaction, so the kind is looked up.)
 */
async function dropTemp(store: Store, names: string[]): Promise<void> {
  const list = names.map((n) => `'${n}'`).join(', '); // names are this module's own
  const found = await store.all<{
    name: string;
    kind: string;
  }>(`SELECT view_name AS name, 'VIEW' AS kind FROM duckdb_views() WHERE temporary AND view_name IN (${list})
    UNION ALL SELECT table_name, 'TABLE' FROM duckdb_tables() WHERE temporary AND table_name IN (${list})`);
  // views first: they may read the tables
  for (const f of found.sort((a, b) => b.kind.localeCompare(a.kind)))
    await store.run(`DROP ${f.kind} ${f.name}`);
}

/** The row path's stage: the staged CSV joined with the raw rows; quarantine and warnings from their files. */
async function loadStagedFiles(store: Store, c: Collected, batchId: number): Promise<void> {
  await store.run(
    `CREATE OR REPLACE TEMP TABLE stage AS SELECT s.*, r.raw FROM ${c.stage.sql()} s JOIN ${c.raw.sql()} r USING (seq)`,
  );
  await store.run(
    `INSERT INTO quarantine SELECT (SELECT coalesce(max(quarantine_id), 0) FROM quarantine) + row_number() OVER (ORDER BY line),
    $1, $2, line, field, reason, raw FROM ${c.quarantine.sql()}`,
    [batchId, c.file],
  );
  await store.run(
    `INSERT INTO import_warnings SELECT $1, $2, line, field, kind, message FROM ${c.warnings.sql()}`,
    [batchId, c.file],
  );
}

/** Finds new and changed rows of the stage (keeping the last of duplicated ids, with a warning each). */
async function stageAndDiff(
  store: Store,
  file: string,
  batchId: number,
  source: string,
  existing: string,
  steps: WriteSteps,
): Promise<Omit<ApplyCounts, 'incidents'>> {
  const dup = (await store.one<{ n: number }>(
    'SELECT count(*) - count(DISTINCT source_row_id) AS n FROM stage',
  ))!.n;
  if (dup > 0) {
    await store.run(
      `INSERT INTO import_warnings
      SELECT $1, $2, max(line), NULL, 'duplicate_row_id',
        'row id ' || source_row_id || ' appears ' || count(*) || ' times (lines ' || string_agg(line::VARCHAR, ', ' ORDER BY line) || '); the last one was kept'
      FROM stage GROUP BY source_row_id HAVING count(*) > 1`,
      [batchId, file],
    );
    await store.run(`CREATE OR REPLACE TEMP TABLE stage_kept AS SELECT * FROM stage
      QUALIFY row_number() OVER (PARTITION BY source_row_id ORDER BY line DESC) = 1`);
    await dropTemp(store, ['stage']);
    await store.run('ALTER TABLE stage_kept RENAME TO stage');
  }
  await store.run(
    `CREATE OR REPLACE TEMP TABLE changes AS
    SELECT s.source_row_id, r.source_row_id IS NULL AS is_new
    FROM stage s LEFT JOIN ${existing} r ON r.source = $1 AND r.source_row_id = s.source_row_id
    WHERE r.source_row_id IS NULL OR r.raw <> s.raw`,
    [source],
  );
  const k = (await store.one<{ inserted: number; updated: number; total: number }>(`SELECT
      (SELECT count(*) FROM changes WHERE is_new) AS inserted,
      (SELECT count(*) FROM changes WHERE NOT is_new) AS updated,
      (SELECT count(*) FROM stage) AS total`))!;
  await store.run(
    `DELETE FROM source_rows WHERE source = $1 AND source_row_id IN (SELECT source_row_id FROM changes WHERE NOT is_new)`,
    [source],
  );
  // when every row is new or changed (a first import), the join with `changes` selects all of the stage
  const all = k.inserted + k.updated === k.total;
  steps.next();
  await store.run(
    `INSERT INTO source_rows SELECT $1, s.source_row_id, $2, s.line, s.raw FROM stage s ${all ? '' : 'SEMI JOIN changes USING (source_row_id)'}`,
    [source, batchId],
  );
  return {
    inserted: k.inserted,
    updated: k.updated,
    unchanged: k.total - k.inserted - k.updated,
    duplicates: dup,
  };
}

const ts = (col: string) => `to_timestamp(${col})`;

/** Upserts the incidents of changed rows; a value missing from the new rows keeps the stored one. */
async function upsertIncidents(
  store: Store,
  batchId: number,
  source: string,
  steps: WriteSteps,
  allChanged = false,
): Promise<number> {
  const rows = allChanged
    ? 'stage'
    : '(SELECT * FROM stage WHERE incident_id IN (SELECT s.incident_id FROM stage s SEMI JOIN changes USING (source_row_id)))';
  // The new values of each touched incident: the latest row's value of each field (arg_max skips
  // a NULL argument, so a row without the field leaves the earlier value standing). An incident on
  // one row only (four in ten in the SF file) is taken as it is, without the aggregate.
  const INCIDENT_VALUES = [
    'incident_type',
    'category',
    'priority',
    'emergency',
    'lat',
    'lon',
    'address',
    'station_area',
    'battalion',
    'zone',
    'risk_class',
    'neighborhood',
  ];
  const touched = `WITH r AS NOT MATERIALIZED (SELECT * FROM ${rows}), multi AS (SELECT incident_id FROM r GROUP BY incident_id HAVING count(*) > 1)
    SELECT incident_id, call_received, call_created, closed_at, ${INCIDENT_VALUES.join(', ')} FROM r ANTI JOIN multi USING (incident_id)
    UNION ALL
    SELECT incident_id, min(call_received), min(call_created), max(closed_at), ${INCIDENT_VALUES.map((c) => `arg_max(${c}, line)`).join(', ')}
    FROM r SEMI JOIN multi USING (incident_id) GROUP BY incident_id`;
  // merged with the stored row, in the table's column order; a value missing from the new rows keeps the stored one
  const merge = (stored: boolean) => {
    const v = (c: string, fallback?: string) =>
      `coalesce(${[`t.${c}`, stored ? `i.${c}` : null, fallback].filter(Boolean).join(', ')})`;
    const at = (c: string) => (stored ? `coalesce(${ts(`t.${c}`)}, i.${c})` : ts(`t.${c}`));
    // the source is the one that recorded the incident first
    return `SELECT t.incident_id, ${stored ? 'coalesce(i.source, $1)' : '$1'} AS source, ${at('call_received')} AS call_received, ${at('call_created')} AS call_created,
      ${v('incident_type')} AS incident_type, ${v('category', "'OTHER'")} AS category,
      ${INCIDENT_VALUES.slice(2)
        .map((c) => `${v(c)} AS ${c}`)
        .join(', ')},
      ${at('closed_at')} AS closed_at, $2 AS batch_id
    FROM (${touched}) t ${stored ? 'LEFT JOIN incidents i USING (incident_id)' : ''}`;
  };
  steps.next();
  const stored = (await store.one<{ n: number }>(
    `SELECT count(*) AS n FROM incidents WHERE incident_id IN (SELECT incident_id FROM ${rows})`,
  ))!.n;
  if (stored === 0) {
    // none stored yet (a first import): insert directly, without keeping the merge to delete against
    await store.run(`INSERT INTO incidents ${merge(false)}`, [source, batchId]);
  } else {
    await store.run(`CREATE OR REPLACE TEMP TABLE merged AS ${merge(true)}`, [source, batchId]);
    await store.run('DELETE FROM incidents WHERE incident_id IN (SELECT incident_id FROM merged)');
    await store.run('INSERT INTO incidents SELECT * FROM merged');
  }
  return (await store.one<{ n: number }>(
    'SELECT count(*) AS n FROM incidents WHERE batch_id = $1',
    [batchId],
  ))!.n;
}

async function applyWide(
  store: Store,
  file: string,
  batchId: number,
  source: string,
  steps: WriteSteps,
): Promise<ApplyCounts> {
  const diff = await stageAndDiff(store, file, batchId, source, 'source_rows', steps);
  await store.run(
    `DELETE FROM unit_responses WHERE source = $1 AND source_row_id IN (SELECT source_row_id FROM changes WHERE NOT is_new)`,
    [source],
  );
  const all = diff.unchanged === 0; // every staged row is new or changed
  // A unit response the live feed recorded first stays the one response (the row is kept as a raw
  // row, with a warning); the check is skipped when the database holds none.
  const live =
    (await store.one('SELECT 1 FROM unit_responses WHERE source_row_id IS NULL LIMIT 1')) !==
    undefined;
  const fromLive =
    '(SELECT incident_id, unit_id FROM unit_responses WHERE source_row_id IS NULL AND source <> $1)';
  let alreadyRecorded = 0;
  if (live) {
    await store.run(
      `INSERT INTO import_warnings SELECT $2, $3, s.line, 'unit_id', 'already_recorded',
        'unit ' || s.unit_id || ' on incident ' || s.incident_id || ' is already recorded from the live feed; this row is kept as a raw row only'
      FROM stage s SEMI JOIN changes USING (source_row_id) SEMI JOIN ${fromLive} l USING (incident_id, unit_id)`,
      [source, batchId, file],
    );
    alreadyRecorded = (await store.one<{ n: number }>(
      "SELECT count(*) AS n FROM import_warnings WHERE batch_id = $1 AND kind = 'already_recorded'",
      [batchId],
    ))!.n;
  }
  steps.next();
  await store.run(
    `INSERT INTO unit_responses
    SELECT s.response_id, s.incident_id, $1, s.source_row_id, ${responseColumnsInTableOrder()}, $2
    FROM stage s ${all ? '' : 'SEMI JOIN changes USING (source_row_id)'} ${live ? `ANTI JOIN ${fromLive} l USING (incident_id, unit_id)` : ''}`,
    [source, batchId],
  );
  const incidents = await upsertIncidents(store, batchId, source, steps, all);
  return { ...diff, incidents, alreadyRecorded };
}

/** unit_responses columns after (response_id, incident_id, source, source_row_id), in table order. */
function responseColumnsInTableOrder(): string {
  return [
    's.unit_id',
    's.unit_type',
    's.unit_type_source',
    's.home_station',
    's.own_agency',
    's.dispatch_order',
    ...UNIT_STAMPS.map((u) => ts(`s.${u}`)),
    's.cancelled',
    's.staffing',
  ].join(', ');
}

/**
 * Narrow events: each is kept by event id; the unit responses of touched (incident, unit) pairs are
 * then folded again from all their events, the latest-received event of a status winning.
 */
async function applyEvents(
  store: Store,
  file: string,
  batchId: number,
  source: string,
  steps: WriteSteps,
): Promise<ApplyCounts> {
  const diff = await stageAndDiff(store, file, batchId, source, 'source_rows', steps);
  await store.run(`CREATE OR REPLACE TEMP TABLE touched_units AS
    SELECT DISTINCT incident_id, unit_id FROM unit_status_events WHERE event_id IN (SELECT source_row_id FROM changes WHERE NOT is_new)
    UNION SELECT DISTINCT incident_id, unit_id FROM stage SEMI JOIN changes USING (source_row_id)`);
  await store.run(
    `DELETE FROM unit_status_events WHERE event_id IN (SELECT source_row_id FROM changes WHERE NOT is_new)`,
  );
  steps.next();
  await store.run(
    `INSERT INTO unit_status_events
    SELECT s.event_id, $1, s.incident_id, s.unit_id, s.status, to_timestamp(s.status_at), $2::BIGINT * 1000000000 + s.line,
      s.unit_type, s.unit_type_source, s.own_agency, s.home_station, s.staffing, $2
    FROM stage s SEMI JOIN changes USING (source_row_id)`,
    [source, batchId],
  );
  steps.next();
  // each stamp column from the latest-received event of the status that sets it (src/contracts/live.ts)
  const statusSetting = (column: string) =>
    Object.keys(STATUS_TO_STAMP).find((s) => STATUS_TO_STAMP[s] === column)!;
  const stampOf = (column: string) =>
    `arg_max(e.status_at, e.seq) FILTER (WHERE e.status = '${statusSetting(column)}')`;
  await store.run(
    `DELETE FROM unit_responses WHERE response_id IN (SELECT incident_id || '|' || unit_id FROM touched_units)`,
  );
  await store.run(
    `INSERT INTO unit_responses
    SELECT e.incident_id || '|' || e.unit_id, e.incident_id, $1, NULL, e.unit_id,
      coalesce(arg_max(e.unit_type, e.seq) FILTER (WHERE e.unit_type IS NOT NULL), 'OTHER'),
      arg_max(e.unit_type_source, e.seq) FILTER (WHERE e.unit_type_source IS NOT NULL),
      arg_max(e.home_station, e.seq) FILTER (WHERE e.home_station IS NOT NULL),
      coalesce(arg_max(e.own_agency, e.seq) FILTER (WHERE e.own_agency IS NOT NULL), true),
      NULL,
      ${UNIT_STAMPS.map(stampOf).join(', ')},
      NULL, arg_max(e.staffing, e.seq) FILTER (WHERE e.staffing IS NOT NULL), $2
    FROM unit_status_events e SEMI JOIN touched_units USING (incident_id, unit_id)
      -- a unit response a file recorded first stays the one response; the events are kept as events
      ANTI JOIN (SELECT incident_id, unit_id FROM unit_responses WHERE source_row_id IS NOT NULL) f USING (incident_id, unit_id)
    GROUP BY e.incident_id, e.unit_id`,
    [source, batchId],
  );
  // dispatch order follows dispatch time within the incident (a file's responses keep the order it gave)
  await store.run(`UPDATE unit_responses u SET dispatch_order = o.k FROM (
      SELECT response_id, row_number() OVER (PARTITION BY incident_id ORDER BY dispatched NULLS LAST, unit_id) AS k
      FROM unit_responses WHERE incident_id IN (SELECT incident_id FROM touched_units)) o
    WHERE u.response_id = o.response_id AND u.source_row_id IS NULL`);
  const incidents = await upsertIncidents(store, batchId, source, steps);
  return { ...diff, incidents };
}
