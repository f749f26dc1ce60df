import type { DuckDBValue } from '@duckdb/node-api';
import { UserError } from '../core/errors.ts';
import { addDays, localDateStart } from '../core/time.ts';
import type { Store } from '../store/db.ts';

/**
 * A columnar, in-memory view of the incidents and unit responses that match a filter. Every fire
 * metric is computed from a frame, so CLI, API and reports get the same figures from one code path.
 * Times are epoch seconds; NaN marks a missing stamp.
 */
export interface Filters {
  /** First local date included, YYYY-MM-DD (by call received). */
  from?: string;
  /** Last local date included, YYYY-MM-DD. */
  to?: string;
  priority?: 'all' | 'emergency';
  category?: string[];
  station?: string[];
  unitType?: string[];
}

export interface IncidentColumns {
  n: number;
  id: string[];
  received: Float64Array;
  created: Float64Array;
  closed: Float64Array;
  type: (string | null)[];
  category: string[];
  priority: (string | null)[];
  emergency: (boolean | null)[];
  station: (string | null)[];
  battalion: (string | null)[];
  zone: (string | null)[];
  riskClass: (string | null)[];
  neighborhood: (string | null)[];
  lat: Float64Array;
  lon: Float64Array;
}

export interface ResponseColumns {
  n: number;
  /** index of the response's incident in the incident columns */
  inc: Int32Array;
  unit: string[];
  unitType: string[];
  own: Uint8Array;
  home: (string | null)[];
  staffing: Float64Array;
  order: Float64Array;
  dispatched: Float64Array;
  enroute: Float64Array;
  staging: Float64Array;
  onScene: Float64Array;
  transport: Float64Array;
  hospital: Float64Array;
  cleared: Float64Array;
}

export interface Frame {
  timeZone: string;
  filters: Filters;
  /** The filter's window as UTC instants [start, end), when dates were given. */
  window: { start: number | null; end: number | null };
  incidents: IncidentColumns;
  responses: ResponseColumns;
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;

export function filterWindow(filters: Filters, timeZone: string): { start: number | null; end: number | null } {
  for (const [k, v] of [['from', filters.from], ['to', filters.to]] as const) {
    if (v !== undefined && !DATE.test(v)) throw new UserError(`--${k} "${v}" is not a date in the form YYYY-MM-DD`);
  }
  const start = filters.from ? localDateStart(filters.from, timeZone) : null;
  const end = filters.to ? localDateStart(addDays(filters.to, 1), timeZone) : null;
  if (start !== null && end !== null && end <= start) throw new UserError(`--to ${filters.to} is before --from ${filters.from}`);
  return { start, end };
}

/** The WHERE clause selecting incidents, with its parameters; one text for every frame query. */
export function incidentWhere(filters: Filters, window: { start: number | null; end: number | null }): { sql: string; params: DuckDBValue[] } {
  const clauses: string[] = [];
  const params: DuckDBValue[] = [];
  const p = (v: DuckDBValue) => { params.push(v); return `$${params.length}`; };
  if (window.start !== null) clauses.push(`i.call_received >= to_timestamp(${p(window.start)})`);
  if (window.end !== null) clauses.push(`i.call_received < to_timestamp(${p(window.end)})`);
  if (filters.priority === 'emergency') clauses.push('i.emergency');
  if (filters.category?.length) clauses.push(`i.category IN (${filters.category.map((c) => p(c)).join(', ')})`);
  if (filters.station?.length) clauses.push(`i.station_area IN (${filters.station.map((c) => p(c)).join(', ')})`);
  return { sql: clauses.length ? `WHERE ${clauses.join(' AND ')}` : '', params };
}

const num = (v: unknown): number => (v === null || v === undefined ? NaN : Number(v));
const f64 = (col: unknown[]): Float64Array => {
  const out = new Float64Array(col.length);
  for (let i = 0; i < col.length; i++) out[i] = num(col[i]);
  return out;
};

export async function loadFrame(store: Store, filters: Filters, timeZone: string): Promise<Frame> {
  const window = filterWindow(filters, timeZone);
  const where = incidentWhere(filters, window);
  const ir = await store.conn.runAndReadAll(`SELECT i.incident_id, epoch(i.call_received), epoch(i.call_created), epoch(i.closed_at),
      i.incident_type, i.category, i.priority, i.emergency, i.station_area, i.battalion, i.zone, i.risk_class, i.neighborhood, i.lat, i.lon
    FROM incidents i ${where.sql} ORDER BY i.call_received NULLS LAST, i.incident_id`, where.params);
  const ic = ir.getColumnsJS() as unknown[][];
  const ids = (ic[0] ?? []) as string[];
  const incidents: IncidentColumns = {
    n: ids.length, id: ids, received: f64(ic[1] ?? []), created: f64(ic[2] ?? []), closed: f64(ic[3] ?? []),
    type: (ic[4] ?? []) as (string | null)[], category: (ic[5] ?? []) as string[], priority: (ic[6] ?? []) as (string | null)[],
    emergency: (ic[7] ?? []) as (boolean | null)[], station: (ic[8] ?? []) as (string | null)[], battalion: (ic[9] ?? []) as (string | null)[],
    zone: (ic[10] ?? []) as (string | null)[], riskClass: (ic[11] ?? []) as (string | null)[], neighborhood: (ic[12] ?? []) as (string | null)[],
    lat: f64(ic[13] ?? []), lon: f64(ic[14] ?? []),
  };
  const unitClause = filters.unitType?.length
    ? ` AND u.unit_type IN (${filters.unitType.map((_, k) => `$${where.params.length + k + 1}`).join(', ')})` : '';
  const rr = await store.conn.runAndReadAll(`SELECT u.incident_id, u.unit_id, u.unit_type, u.own_agency, u.home_station, u.staffing, u.dispatch_order,
      epoch(u.dispatched), epoch(u.enroute), epoch(u.staging), epoch(u.on_scene), epoch(u.transport_started), epoch(u.at_hospital), epoch(u.cleared)
    FROM unit_responses u WHERE u.incident_id IN (SELECT i.incident_id FROM incidents i ${where.sql})${unitClause}
    ORDER BY u.incident_id, u.dispatch_order NULLS LAST, u.dispatched NULLS LAST, u.unit_id`, [...where.params, ...(filters.unitType ?? [])]);
  const rc = rr.getColumnsJS() as unknown[][];
  const index = new Map(ids.map((id, k) => [id, k]));
  const incCol = (rc[0] ?? []) as string[];
  const inc = new Int32Array(incCol.length);
  for (let k = 0; k < incCol.length; k++) inc[k] = index.get(incCol[k]!)!;
  const own = new Uint8Array(incCol.length);
  ((rc[3] ?? []) as boolean[]).forEach((v, k) => { own[k] = v ? 1 : 0; });
  const responses: ResponseColumns = {
    n: incCol.length, inc, unit: (rc[1] ?? []) as string[], unitType: (rc[2] ?? []) as string[], own,
    home: (rc[4] ?? []) as (string | null)[], staffing: f64(rc[5] ?? []), order: f64(rc[6] ?? []),
    dispatched: f64(rc[7] ?? []), enroute: f64(rc[8] ?? []), staging: f64(rc[9] ?? []), onScene: f64(rc[10] ?? []),
    transport: f64(rc[11] ?? []), hospital: f64(rc[12] ?? []), cleared: f64(rc[13] ?? []),
  };
  return { timeZone, filters, window, incidents, responses };
}
