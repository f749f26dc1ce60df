import type { DuckDBConnection, DuckDBValue } from '@duckdb/node-api';
import { UserError } from '../../platform/errors.ts';
import { addDays, localDateStart, offsetAt } from '../../platform/time.ts';
import type { Store } from '../../platform/db.ts';
import type { FireFilters } from '../../contracts/fire.ts';

/**
 * A columnar, in-memory view of the incidents and unit responses that match a filter. Every fire
 * metric is computed from a frame, so CLI, API and reports get the same figures from one code path.
 * Times are epoch seconds (NaN = missing stamp); text columns are dictionary-coded, so a frame of
 * millions of rows is a handful of typed arrays rather than millions of strings.
 */
export type Filters = Omit<FireFilters, 'timeZone'>;

/** A dictionary-coded text column: the value of row k is labels[codes[k]] (null where missing). */
export interface Dict {
  codes: Int32Array;
  labels: (string | null)[];
}

export const text = (d: Dict, k: number): string | null => d.labels[d.codes[k]!]!;

export interface IncidentColumns {
  n: number;
  received: Float64Array;
  created: Float64Array;
  closed: Float64Array;
  lat: Float64Array;
  lon: Float64Array;
  /** 1 emergency, 0 not, -1 unknown */
  emergency: Int8Array;
  type: Dict;
  category: Dict;
  priority: Dict;
  station: Dict;
  battalion: Dict;
  zone: Dict;
  riskClass: Dict;
  neighborhood: Dict;
}

export interface ResponseColumns {
  n: number;
  /** index of the response's incident in the incident columns */
  inc: Int32Array;
  own: Uint8Array;
  staffing: Float64Array;
  order: Float64Array;
  dispatched: Float64Array;
  enroute: Float64Array;
  staging: Float64Array;
  onScene: Float64Array;
  transport: Float64Array;
  hospital: Float64Array;
  cleared: Float64Array;
  unit: Dict;
  unitType: Dict;
  home: Dict;
}

/** Local calendar day and second of day of each call, in the agency's zone, computed once per frame. */
export interface Derived {
  /** days since 1970-01-01 in local time; NO_DAY where the call time is missing */
  localDay: Int32Array;
  /** seconds since local midnight; -1 where missing */
  localSecond: Int32Array;
}

export const NO_DAY = -2147483648;

export interface Frame {
  timeZone: string;
  filters: Filters;
  /** The filter's window as UTC instants [start, end), when dates were given. */
  window: { start: number | null; end: number | null };
  incidents: IncidentColumns;
  responses: ResponseColumns;
  derived: Derived;
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;

export function filterWindow(
  filters: Filters,
  timeZone: string,
): { start: number | null; end: number | null } {
  for (const [k, v] of [
    ['from', filters.from],
    ['to', filters.to],
  ] as const) {
    if (v !== undefined && !DATE.test(v))
      throw new UserError(`--${k} "${v}" is not a date in the form YYYY-MM-DD`);
  }
  const start = filters.from ? localDateStart(filters.from, timeZone) : null;
  const end = filters.to ? localDateStart(addDays(filters.to, 1), timeZone) : null;
  if (start !== null && end !== null && end <= start)
    throw new UserError(`--to ${filters.to} is before --from ${filters.from}`);
  return { start, end };
}

/** The WHERE clause selecting incidents (alias i), with its parameters; one text for every query. */
export function incidentWhere(
  filters: Filters,
  window: { start: number | null; end: number | null },
): { sql: string; params: DuckDBValue[] } {
  const params: DuckDBValue[] = [];
  const p = (v: DuckDBValue) => {
    params.push(v);
    return `$${params.length}`;
  };
  const clauses: string[] = [];
  if (window.start !== null) clauses.push(`i.call_received >= to_timestamp(${p(window.start)})`);
  if (window.end !== null) clauses.push(`i.call_received < to_timestamp(${p(window.end)})`);
  if (filters.priority === 'emergency') clauses.push('i.emergency');
  if (filters.category?.length)
    clauses.push(`i.category IN (${filters.category.map((c) => p(c)).join(', ')})`);
  if (filters.station?.length)
    clauses.push(`i.station_area IN (${filters.station.map((c) => p(c)).join(', ')})`);
  return { sql: clauses.length ? `WHERE ${clauses.join(' AND ')}` : '', params };
}

const INCIDENT_TEXT = {
  type: 'incident_type',
  category: 'category',
  priority: 'priority',
  station: 'station_area',
  battalion: 'battalion',
  zone: 'zone',
  riskClass: 'risk_class',
  neighborhood: 'neighborhood',
} as const;
const INCIDENT_NUM = {
  received: 'epoch(t.call_received)',
  created: 'epoch(t.call_created)',
  closed: 'epoch(t.closed_at)',
  lat: 't.lat',
  lon: 't.lon',
} as const;
const RESPONSE_TEXT = { unit: 'unit_id', unitType: 'unit_type', home: 'home_station' } as const;
const RESPONSE_NUM = {
  staffing: 't.staffing',
  order: 't.dispatch_order',
  dispatched: 'epoch(t.dispatched)',
  enroute: 'epoch(t.enroute)',
  staging: 'epoch(t.staging)',
  onScene: 'epoch(t.on_scene)',
  transport: 'epoch(t.transport_started)',
  hospital: 'epoch(t.at_hospital)',
  cleared: 'epoch(t.cleared)',
} as const;

/**
 * Reads numeric columns of `table` in row order into typed arrays, and dictionary codes for its
 * text columns (small label tables joined in SQL, so no per-row string crosses into JS).
 */
async function readColumns(
  conn: DuckDBConnection,
  table: string,
  order: string,
  n: number,
  nums: Record<string, string>,
  ints: Record<string, string>,
  texts: Record<string, string>,
) {
  const dicts: Record<string, Dict> = {};
  const joins: string[] = [];
  const codeCols: string[] = [];
  for (const [name, col] of Object.entries(texts)) {
    await conn.run(`CREATE OR REPLACE TEMP TABLE dict_${name} AS SELECT label, (row_number() OVER (ORDER BY label NULLS FIRST) - 1)::INTEGER AS code
      FROM (SELECT DISTINCT ${col} AS label FROM ${table})`);
    const labels = ((
      await conn.runAndReadAll(`SELECT label FROM dict_${name} ORDER BY code`)
    ).getColumnsJS()[0] ?? []) as (string | null)[];
    dicts[name] = { codes: new Int32Array(n), labels };
    joins.push(`LEFT JOIN dict_${name} ON t.${col} IS NOT DISTINCT FROM dict_${name}.label`);
    codeCols.push(`dict_${name}.code`);
  }
  const numNames = Object.keys(nums),
    intNames = Object.keys(ints),
    textNames = Object.keys(texts);
  const out: Record<string, Float64Array | Int32Array> = {};
  for (const k of numNames) out[k] = new Float64Array(n);
  for (const k of intNames) out[k] = new Int32Array(n);
  const select = [
    ...numNames.map((k) => `coalesce((${nums[k]})::DOUBLE, 'NaN'::DOUBLE)`),
    ...intNames.map((k) => `coalesce((${ints[k]})::INTEGER, -1)`),
    ...codeCols,
  ];
  const result = await conn.stream(
    `SELECT ${select.join(', ')} FROM ${table} t ${joins.join(' ')} ORDER BY t.${order}`,
  );
  const targets = [
    ...numNames.map((k) => out[k]!),
    ...intNames.map((k) => out[k]!),
    ...textNames.map((k) => dicts[k]!.codes),
  ];
  let row = 0;
  for (
    let chunk = await result.fetchChunk();
    chunk && chunk.rowCount > 0;
    chunk = await result.fetchChunk()
  ) {
    const len = chunk.rowCount;
    for (let c = 0; c < targets.length; c++) {
      const v = chunk.getColumnVector(c);
      const target = targets[c]!;
      for (let k = 0; k < len; k++) target[row + k] = v.getItem(k) as number;
    }
    row += len;
  }
  return { nums: out, dicts };
}

export async function loadFrame(store: Store, filters: Filters, timeZone: string): Promise<Frame> {
  const window = filterWindow(filters, timeZone);
  const where = incidentWhere(filters, window);
  const unitTypes = filters.unitType ?? [];
  return store.withConnection(async (conn) => {
    // Each table is written in frame order (a sort, not a row_number() window: half the time on 5 M
    // rows), and DuckDB keeps insertion order, so a row's position is its rowid from the first.
    // Responses sort last by their unique id: rows tied on the rest (a unit listed twice on one
    // incident) keep one order on every load, so picks such as the first-arriving unit never change.
    await conn.run(
      `CREATE OR REPLACE TEMP TABLE frame_incidents AS
      SELECT i.incident_id, i.call_received, i.call_created, i.closed_at, i.lat, i.lon, i.emergency, ${Object.values(
        INCIDENT_TEXT,
      )
        .map((c) => `i.${c}`)
        .join(', ')}
      FROM analytic_incidents i ${where.sql} ORDER BY i.call_received NULLS LAST, i.incident_id`,
      where.params,
    );
    const base = (
      await conn.runAndReadAll('SELECT coalesce(min(rowid), 0)::BIGINT FROM frame_incidents')
    ).getRowsJS()[0]![0] as bigint;
    const unitClause = unitTypes.length
      ? `WHERE u.unit_type IN (${unitTypes.map((_, k) => `$${k + 1}`).join(', ')})`
      : '';
    await conn.run(
      `CREATE OR REPLACE TEMP TABLE frame_responses AS
      SELECT (f.rowid - ${base})::INTEGER AS inc, u.unit_id, u.unit_type, u.home_station, u.own_agency, u.staffing, u.dispatch_order,
        u.dispatched, u.enroute, u.staging, u.on_scene, u.transport_started, u.at_hospital, u.cleared
      FROM analytic_unit_responses u JOIN frame_incidents f USING (incident_id) ${unitClause}
      ORDER BY inc, u.dispatch_order NULLS LAST, u.dispatched NULLS LAST, u.unit_id, u.response_id`,
      unitTypes,
    );
    const counts = (
      await conn.runAndReadAll(
        'SELECT (SELECT count(*) FROM frame_incidents)::INTEGER, (SELECT count(*) FROM frame_responses)::INTEGER',
      )
    ).getRowsJS()[0] as number[];
    const [ni, nr] = [counts[0]!, counts[1]!];
    const inc = await readColumns(
      conn,
      'frame_incidents',
      'rowid',
      ni,
      INCIDENT_NUM,
      { emergency: 't.emergency' },
      INCIDENT_TEXT,
    );
    const resp = await readColumns(
      conn,
      'frame_responses',
      'rowid',
      nr,
      RESPONSE_NUM,
      { inc: 't.inc', own: 't.own_agency' },
      RESPONSE_TEXT,
    );
    const incidents = {
      n: ni,
      ...(inc.nums as Record<keyof typeof INCIDENT_NUM, Float64Array>),
      emergency: Int8Array.from(inc.nums.emergency!),
      ...(inc.dicts as Record<keyof typeof INCIDENT_TEXT, Dict>),
    } as IncidentColumns;
    const responses = {
      n: nr,
      ...(resp.nums as Record<keyof typeof RESPONSE_NUM, Float64Array>),
      inc: resp.nums.inc as Int32Array,
      own: Uint8Array.from(resp.nums.own!),
      ...(resp.dicts as Record<keyof typeof RESPONSE_TEXT, Dict>),
    } as ResponseColumns;
    return {
      timeZone,
      filters,
      window,
      incidents,
      responses,
      derived: derive(incidents, timeZone),
    };
  });
}

function derive(incidents: IncidentColumns, timeZone: string): Derived {
  const localDay = new Int32Array(incidents.n).fill(NO_DAY);
  const localSecond = new Int32Array(incidents.n).fill(-1);
  for (let i = 0; i < incidents.n; i++) {
    const t = incidents.received[i]!;
    if (t !== t) continue;
    const local = t + offsetAt(timeZone, t);
    const day = Math.floor(local / 86400);
    localDay[i] = day;
    localSecond[i] = Math.floor(local - day * 86400);
  }
  return { localDay, localSecond };
}
