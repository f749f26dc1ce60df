import { closeSync, openSync, readSync } from 'node:fs';
import Papa from 'papaparse';
import { basename } from 'node:path';
import { UserError } from '../../platform/errors.ts';
import {
  dropTemp,
  runImport,
  type ApplyResult,
  type ApplyTables,
  type ImportOptions as PipelineOptions,
  type ImportSource,
  type RowSink,
} from '../../platform/ingest.ts';
import { fieldText, FILTERED_OUT, rowFilter, type FieldColumns } from '../../platform/columns.ts';
import { inspectFile, readJsonRecords, TextDecoding } from '../../platform/sources.ts';
import type { Store } from '../../platform/db.ts';
import type { BatchSummary } from '../../platform/staging.ts';
import { loadMappingFile, type EventMapping, type Mapping, type WideMapping } from './mapping.ts';
import { fastPathBlocker, stageWithSql } from './sql-stage.ts';
import { INCIDENT_PLACE_FIELDS, STATUS_TO_STAMP, UNIT_STAMPS, type Category } from './model.ts';
import {
  eventNormaliser,
  recordGetter,
  recordKept,
  requiredFields,
  resolveColumns,
  wideNormaliser,
  type FieldGetter,
} from './normalise.ts';
import { cadStatusEvents } from './profiles/cad-status-events.ts';
import { flattenNeris, neris } from './profiles/neris.ts';
import { sfFireCalls } from './profiles/sf-fire-calls.ts';

export type { ImportStage } from '../../platform/ingest.ts';

export const PROFILES: Record<string, Mapping> = {
  'sf-fire-calls': sfFireCalls,
  'cad-status-events': cadStatusEvents,
  neris,
};

export interface ImportOptions extends PipelineOptions {
  /** Key space for the rows instead of the mapping's (the demo replay keeps its copies apart). */
  source?: string;
  profile?: string;
  mappingFile?: string;
  /** Runs inside the import's transaction once its rows are written: what it writes commits (or fails) with them. */
  beforeCommit?(summary: ImportSummary): Promise<void>;
}

export interface ImportSummary extends BatchSummary {
  incidentsTouched: number;
  /** how the file was read: by DuckDB with SQL checks (plain files), or row by row */
  path: 'sql' | 'rows';
}

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
  ...INCIDENT_PLACE_FIELDS,
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
const WIDE_STAGE = ['source_row_id', 'response_id', ...INCIDENT_COLS, ...UNIT_COLS, ...UNIT_STAMPS];
const EVENT_STAGE = [
  'source_row_id',
  'event_id',
  'status',
  'status_at',
  ...INCIDENT_COLS,
  ...UNIT_COLS,
];

const STAGE_TYPES: Record<string, string> = {
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

/** A CAD record: a CSV row's values, or a JSON record (a file's, or the live API's). */
type CadRecord = string[] | Record<string, unknown>;

/** Stages one normalised record (its getter reads the record's fields); the raw row when not the record's own. */
type Stager = (get: FieldGetter, sink: RowSink, raw?: string, category?: string | null) => void;

function eventStager(m: EventMapping): Stager {
  const norm = eventNormaliser(m);
  return (get, sink, raw) => {
    const r = norm(get);
    if (!r.ok) return sink.reject(r.field, r.reason, raw);
    for (const w of r.warnings) sink.warn(w.kind, w.field, w.message);
    sink.accept(
      {
        ...r.incident,
        ...r.unit,
        source_row_id: r.event.event_id,
        event_id: r.event.event_id,
        status: r.event.status,
        status_at: r.event.at,
        incident_id: r.event.incident_id,
        unit_id: r.event.unit_id,
      },
      raw,
    );
  };
}

function wideStager(m: WideMapping): Stager {
  const norm = wideNormaliser(m);
  return (get, sink, raw, category) => {
    const r = norm(get);
    if (!r.ok) return sink.reject(r.field, r.reason, raw);
    for (const w of r.warnings) sink.warn(w.kind, w.field, w.message);
    if (category) r.incident.category = category as Category;
    sink.accept({ ...r.incident, ...r.response, source_row_id: r.rowId }, raw);
  };
}

/**
 * How a CAD export is read: its mapping (given, or told from the header or the first JSON record)
 * decides the stage shape (one row per unit response, or one per status event), and fire's SQL
 * reader stages plain CSV files in DuckDB.
 */
function fireSource(label: string, opts: ImportOptions): ImportSource<CadRecord> {
  const name = basename(label);
  let mapping = chooseMapping(opts);
  let stager: Stager | null = null;
  let fields = new Map<string, FieldColumns>();
  let kept: (values: string[]) => boolean = () => true;
  let values: string[] = [];
  const fromRow: FieldGetter = (f) => {
    const c = fields.get(f);
    return c === undefined ? null : fieldText(c, values);
  };
  const use = (m: Mapping) => {
    mapping = m;
    stager = m.shape === 'events' ? eventStager(m) : wideStager(m);
  };
  if (mapping) use(mapping);
  const known = () => {
    if (!mapping) throw new UserError(`${name} holds no records.`);
    return mapping;
  };
  const events = () => known().shape === 'events';
  const keySpace = () => opts.source ?? known().source ?? known().name;
  return {
    domain: 'fire',
    get profile() {
      return known().name;
    },
    get source() {
      return keySpace();
    },
    get stage() {
      return {
        columns: events() ? EVENT_STAGE : WIDE_STAGE,
        types: STAGE_TYPES,
        key: 'source_row_id',
      };
    },
    get delimiter() {
      return mapping?.delimiter;
    },
    duplicateKind: 'duplicate_row_id',
    get writeSteps() {
      return events() ? 3 : 2;
    },
    get table() {
      // a unit's events are folded again from all of them: applyEvents replaces its own rows
      return events() ? undefined : { name: 'unit_responses', key: 'source_row_id' };
    },
    read: (file, _info, handlers) => readJsonRecords(file, handlers),
    header(h, warn) {
      if (!mapping) use(detectProfile(name, h));
      const m = mapping!;
      if (m === neris)
        throw new UserError(
          `${name}: the neris profile reads JSON incidents, and this file is CSV.`,
        );
      const res = resolveColumns(m, h);
      const required = requiredFields(m);
      const missingRequired = res.missing.filter(
        (x) => required.includes(x.field) || x.field === 'filter',
      );
      if (missingRequired.length) {
        throw new UserError(
          `${name}: no column for ${missingRequired.map((x) => `${x.field} (looked for: ${x.looked.join(', ')})`).join('; ')}. ` +
            `Columns in the file: ${h.join(', ')}`,
        );
      }
      for (const x of res.missing)
        warn(
          'missing_column',
          x.field,
          `no column for ${x.field} (looked for: ${x.looked.join(', ')})`,
        );
      for (const u of res.unmapped)
        warn(
          'unmapped_column',
          u,
          `column "${u}" is not mapped to a field; kept in the raw row only`,
        );
      fields = res.fields;
      kept = rowFilter(m, res.filterColumn);
    },
    row(record, line, sink) {
      if (Array.isArray(record)) {
        if (!kept(record)) return sink.leaveOut(FILTERED_OUT);
        values = record; // kept as received: the values in header order
        return stager!(fromRow, sink);
      }
      refuseDeepNesting(record, name, line);
      if (!mapping)
        use('unit_responses' in record || 'dispatch' in record ? neris : cadStatusEvents);
      if (mapping !== neris) {
        if (!recordKept(mapping!, record)) return sink.leaveOut(FILTERED_OUT);
        return stager!(recordGetter(mapping!, record), sink);
      }
      const flat = flattenNeris(record);
      if ('error' in flat) return sink.reject(flat.error.field, flat.error.reason);
      sink.counts(flat.rows.length);
      for (const row of flat.rows) {
        const v = row.values;
        stager!((f) => v[f] ?? null, sink, JSON.stringify(row.raw), v.category);
      }
    },
    finish(extra) {
      // JSON whose every element was rejected before a profile could be told: the default JSON profile, for a normal summary
      if (!mapping && extra.rowsRead > 0) use(cadStatusEvents);
    },
    async stageInSql(store, file, scan, reading) {
      const fast = fastPlan(file, opts);
      if (!fast) return null;
      use(fast.mapping);
      const staged = await stageWithSql(store, file, fast.mapping, fast.header, scan, reading);
      return {
        ...staged,
        columns: fast.header,
        drop: () => dropTemp(store, ['stage', 'located', 'checked', 'found_warnings']),
      };
    },
    apply: (store, t, batchId) =>
      (events() ? applyEvents : applyWide)(store, t, batchId, keySpace()),
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
 * Imports one CAD file through the ingest pipeline (platform/ingest.ts): rows are read and checked
 * in a stream, then applied in one transaction, so a failure or a killed process leaves the database
 * exactly as it was. Rows are keyed by source row id, so re-importing a file changes nothing and a
 * file with corrected rows updates them.
 */
export async function importFireFile(
  store: Store,
  file: string,
  opts: ImportOptions = {},
): Promise<ImportSummary> {
  return (await runImport(store, file, fireSource(file, opts), opts)) as ImportSummary;
}

/** Imports records already in memory (the live CAD API) with the same checks and guarantees as a file. */
export async function importFireRecords(
  store: Store,
  records: Record<string, unknown>[],
  label: string,
  opts: ImportOptions = {},
): Promise<ImportSummary> {
  return (await runImport(
    store,
    { records, label },
    fireSource(label, opts),
    opts,
  )) as ImportSummary;
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

const ts = (col: string) => `to_timestamp(${col})`;

/** The fire summary's own fields, and the warnings the apply step wrote. */
function applied(counts: { incidents: number; alreadyRecorded?: number }): ApplyResult {
  return {
    summary: { incidentsTouched: counts.incidents },
    warnings: { already_recorded: counts.alreadyRecorded ?? 0 },
  };
}

/** Upserts the incidents of changed rows; a value missing from the new rows keeps the stored one. */
async function upsertIncidents(
  store: Store,
  t: ApplyTables,
  batchId: number,
  source: string,
): Promise<number> {
  const rows =
    t.changed === t.staged
      ? 'stage'
      : '(SELECT * FROM stage WHERE incident_id IN (SELECT s.incident_id FROM stage s SEMI JOIN changes c ON c.key = s.source_row_id))';
  // The new values of each touched incident: the latest row's value of each field (arg_max skips
  // a NULL argument, so a row without the field leaves the earlier value standing). An incident on
  // one row only (four in ten in the SF file) is taken as it is, without the aggregate.
  const INCIDENT_VALUES = INCIDENT_COLS.filter(
    (c) => !['incident_id', 'call_received', 'call_created', 'closed_at'].includes(c),
  );
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
  t.step();
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

/**
 * One row per unit response: the responses of changed rows (the pipeline has deleted their old
 * versions), then their incidents.
 */
async function applyWide(store: Store, t: ApplyTables, batchId: number, source: string) {
  const all = t.changed === t.staged; // every staged row is new or changed
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
      FROM stage s SEMI JOIN changes c ON c.key = s.source_row_id SEMI JOIN ${fromLive} l USING (incident_id, unit_id)`,
      [source, batchId, t.file],
    );
    alreadyRecorded = (await store.one<{ n: number }>(
      "SELECT count(*)::INTEGER AS n FROM import_warnings WHERE batch_id = $1 AND kind = 'already_recorded'",
      [batchId],
    ))!.n;
  }
  t.step();
  await store.run(
    `INSERT INTO unit_responses
    SELECT s.response_id, s.incident_id, $1, s.source_row_id, ${responseColumnsInTableOrder()}, $2
    FROM stage s ${all ? '' : 'SEMI JOIN changes c ON c.key = s.source_row_id'} ${live ? `ANTI JOIN ${fromLive} l USING (incident_id, unit_id)` : ''}`,
    [source, batchId],
  );
  const incidents = await upsertIncidents(store, t, batchId, source);
  return applied({ incidents, alreadyRecorded });
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
async function applyEvents(store: Store, t: ApplyTables, batchId: number, source: string) {
  await store.run(`CREATE OR REPLACE TEMP TABLE touched_units AS
    SELECT DISTINCT incident_id, unit_id FROM unit_status_events WHERE event_id IN (SELECT key FROM changes WHERE NOT is_new)
    UNION SELECT DISTINCT incident_id, unit_id FROM stage s SEMI JOIN changes c ON c.key = s.source_row_id`);
  await store.run(
    `DELETE FROM unit_status_events WHERE event_id IN (SELECT key FROM changes WHERE NOT is_new)`,
  );
  t.step();
  await store.run(
    `INSERT INTO unit_status_events
    SELECT s.event_id, $1, s.incident_id, s.unit_id, s.status, to_timestamp(s.status_at), $2::BIGINT * 1000000000 + s.line,
      s.unit_type, s.unit_type_source, s.own_agency, s.home_station, s.staffing, $2
    FROM stage s SEMI JOIN changes c ON c.key = s.source_row_id`,
    [source, batchId],
  );
  t.step();
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
  const incidents = await upsertIncidents(store, t, batchId, source);
  return applied({ incidents });
}
