import { z } from 'zod';
import type { Store } from '../../platform/db.ts';
import { isoInstant } from '../../platform/params.ts';
import {
  FREE_STATUSES,
  UNIT_STATUS_STAMPS,
  UNIT_STATUSES,
  type LiveAlert,
  type LiveIncident,
  type LiveState,
  type LiveStation,
  type LiveUnit,
  type UnitStamps,
  type UnitStatus,
} from '../../contracts/live.ts';

export type { LiveAlert, LiveIncident, LiveState, LiveUnit, UnitStatus };

/**
 * The live picture: incidents in progress, where every unit is, and the default alerts of docs/fire-metrics.md §5.
 * Live CAD events arrive as narrow unit-status events and are stored by the same import path as
 * files, so the board and the analytics read the same rows.
 */

/** Events replayed by the demo feed carry this source; analytics leave them out. */
export const REPLAY_SOURCE = 'replay';

export const LiveEventSchema = z.strictObject({
  id: z.string().min(1).max(200),
  incident: z.string().min(1).max(100),
  unit: z.string().min(1).max(50),
  status: z.enum(UNIT_STATUSES),
  at: isoInstant,
  received: isoInstant.optional(),
  type: z.string().max(200).optional(),
  priority: z.string().max(20).optional(),
  lat: z.number().min(-90).max(90).optional(),
  lon: z.number().min(-180).max(180).optional(),
  address: z.string().max(300).optional(),
  station_area: z.string().max(20).optional(),
  unit_type: z.string().max(40).optional(),
  home_station: z.string().max(20).optional(),
});
export type LiveEvent = z.output<typeof LiveEventSchema>;

const stamp = isoInstant.optional();
const STAMP_KEYS = Object.fromEntries(UNIT_STATUSES.map((s) => [s, stamp])) as Record<
  UnitStatus,
  typeof stamp
>;

/**
 * A wide unit response (one object per unit on an incident, every stamp a field named by its
 * status), as some CAD systems send. It becomes one status event per stamp, with ids derived from
 * incident, unit and status, so re-sending it is idempotent and a later stamp replaces the earlier one.
 */
export const LiveResponseSchema = LiveEventSchema.omit({ id: true, status: true, at: true })
  .extend(STAMP_KEYS)
  .refine((r) => UNIT_STATUSES.some((s) => r[s] !== undefined), {
    message: `has no stamp (${UNIT_STATUSES.join(', ')})`,
  });

export function responseToEvents(r: z.output<typeof LiveResponseSchema>): LiveEvent[] {
  const incident = Object.fromEntries(
    Object.entries(r).filter(([k]) => !(k in UNIT_STATUS_STAMPS)),
  ) as Omit<LiveEvent, 'id' | 'status' | 'at'>;
  return UNIT_STATUSES.filter((status) => r[status] !== undefined).map((status) => ({
    ...incident,
    id: `${r.incident}|${r.unit}|${status}`,
    status,
    at: r[status]!,
  }));
}

/** An item of a live post: a status event (has `status`), or a wide unit response. */
export function parseLiveItem(
  item: unknown,
): { ok: true; events: LiveEvent[] } | { ok: false; issues: z.core.$ZodIssue[] } {
  const isEvent = typeof item === 'object' && item !== null && 'status' in item;
  if (isEvent) {
    const r = LiveEventSchema.safeParse(item);
    return r.success ? { ok: true, events: [r.data] } : { ok: false, issues: r.error.issues };
  }
  const r = LiveResponseSchema.safeParse(item);
  return r.success
    ? { ok: true, events: responseToEvents(r.data) }
    : { ok: false, issues: r.error.issues };
}

/** Alert thresholds (docs/fire-metrics.md §5 defaults, seconds). */
export const ALERTS = {
  turnout: 300,
  travel: 600,
  fireCommitment: 3600,
  unitCommitmentInShift: 7200,
} as const;

/** How long an incident stays on the board after it started: a day (seconds). */
export const LIVE_WINDOW = 86400;

/** A unit response as the fold left it (from its status events, or as a file recorded it). */
export interface FoldedResponse {
  unit: string;
  unitType: string;
  homeStation: string | null;
  ownAgency: boolean;
  stamps: UnitStamps;
}

/** An incident's own fields, as the board shows them. */
export type IncidentFields = Omit<LiveIncident, 'units' | 'active'>;

export const noStamps = (): UnitStamps =>
  Object.fromEntries(UNIT_STATUSES.map((s) => [UNIT_STATUS_STAMPS[s].field, null])) as UnitStamps;

/**
 * A unit as the board shows it at `now`: the furthest status (in the table's order) whose stamp has
 * been reached, stamps still ahead of `now` hidden; null before its first stamp.
 */
export function unitAt(r: FoldedResponse, now: number): LiveUnit | null {
  const reached = noStamps();
  let status: UnitStatus | null = null;
  for (const s of UNIT_STATUSES) {
    const field = UNIT_STATUS_STAMPS[s].field;
    const t = r.stamps[field];
    if (t === null || t > now) continue;
    reached[field] = t;
    status = s;
  }
  if (status === null) return null;
  const since = reached[UNIT_STATUS_STAMPS[status].field]!;
  return {
    unit: r.unit,
    unitType: r.unitType,
    homeStation: r.homeStation,
    status,
    since,
    ...reached,
  };
}

const byDispatch = (a: LiveUnit, b: LiveUnit) =>
  (a.dispatched ?? Infinity) - (b.dispatched ?? Infinity) || a.unit.localeCompare(b.unit);

/**
 * An incident as the board shows it at `now`: its own agency's units, and active while one of them
 * is committed and the incident started (call received, or when none was, its first unit stamp)
 * within the last LIVE_WINDOW.
 */
export function incidentAt(
  fields: IncidentFields,
  responses: FoldedResponse[],
  now: number,
): LiveIncident {
  const units = responses
    .filter((r) => r.ownAgency)
    .map((r) => unitAt(r, now))
    .filter((u) => u !== null)
    .sort(byDispatch);
  const active =
    startedAt(fields, responses) > now - LIVE_WINDOW &&
    units.some((u) => !FREE_STATUSES.includes(u.status));
  return { ...fields, active, units };
}

/** When an incident started: its call received, or when none was, its first unit stamp (NaN: neither). */
export function startedAt(fields: IncidentFields, responses: FoldedResponse[]): number {
  if (fields.received !== null) return fields.received;
  const stamps = responses.flatMap((r) => Object.values(r.stamps).filter((t) => t !== null));
  return stamps.length ? Math.min(...stamps) : NaN;
}

/** The station board: each home station's units, committed when on an active incident now. */
export function stationsOf(
  roster: Iterable<[station: string, unit: string]>,
  incidents: LiveIncident[],
): LiveStation[] {
  const committed = new Set(
    incidents.flatMap((i) =>
      i.units.filter((u) => !FREE_STATUSES.includes(u.status)).map((u) => u.unit),
    ),
  );
  const board = new Map<string, LiveStation>();
  for (const [station, unit] of roster) {
    let b = board.get(station);
    if (!b) board.set(station, (b = { station, available: [], committed: [] }));
    const list = committed.has(unit) ? b.committed : b.available;
    if (!list.includes(unit)) list.push(unit);
  }
  for (const b of board.values()) {
    b.available.sort();
    b.committed.sort();
  }
  return [...board.values()].sort((a, b) =>
    a.station.localeCompare(b.station, 'en', { numeric: true }),
  );
}

const STAMP_COLUMNS = UNIT_STATUSES.map((s) => UNIT_STATUS_STAMPS[s]);
const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));

/** A unit_responses row (selected with RESPONSE_SELECT) as a folded response. */
function responseOf(r: Record<string, unknown>): FoldedResponse {
  return {
    unit: r.unit_id as string,
    unitType: r.unit_type as string,
    homeStation: r.home_station as string | null,
    ownAgency: r.own_agency as boolean,
    stamps: Object.fromEntries(STAMP_COLUMNS.map((c) => [c.field, num(r[c.column])])) as UnitStamps,
  };
}
const RESPONSE_SELECT = `u.unit_id, u.unit_type, u.home_station, u.own_agency, ${STAMP_COLUMNS.map((c) => `epoch(u.${c.column}) AS ${c.column}`).join(', ')}`;

/** An incidents row (selected with INCIDENT_SELECT) as the board's incident fields. */
function incidentOf(r: Record<string, unknown>): IncidentFields {
  return {
    id: r.incident_id as string,
    type: r.incident_type as string | null,
    category: r.category as string,
    priority: r.priority as string | null,
    emergency: r.emergency as boolean | null,
    received: num(r.received),
    lat: num(r.lat),
    lon: num(r.lon),
    address: r.address as string | null,
    station: r.station_area as string | null,
  };
}
const INCIDENT_SELECT = `i.incident_id, i.incident_type, i.category, i.priority, i.emergency,
  epoch(i.call_received) AS received, i.lat, i.lon, i.address, i.station_area`;
const FIRST_STAMP = `epoch(least(${STAMP_COLUMNS.map((c) => `u.${c.column}`).join(', ')}))`;

/** Groups rows of (incident fields, response) by incident, in row order. */
function byIncident(rows: Record<string, unknown>[]) {
  const out = new Map<string, { fields: IncidentFields; responses: FoldedResponse[] }>();
  for (const r of rows) {
    const id = r.incident_id as string;
    let inc = out.get(id);
    if (!inc) out.set(id, (inc = { fields: incidentOf(r), responses: [] }));
    inc.responses.push(responseOf(r));
  }
  return out;
}

/** Every (home station, unit) of the department on record. */
async function roster(store: Store): Promise<[string, string][]> {
  const rows = await store.all<{ home_station: string; unit_id: string }>(
    `SELECT DISTINCT home_station, unit_id FROM unit_responses WHERE home_station IS NOT NULL AND own_agency`,
  );
  return rows.map((r) => [r.home_station, r.unit_id]);
}

/**
 * The live picture at `now`, from the database: the incidents incidentAt finds active, read from the
 * unit responses the import folded, and the station board.
 */
export async function liveState(store: Store, now: number): Promise<LiveState> {
  // candidates: an own unit that has begun and is not free yet; incidentAt decides
  const rows = await store.all<Record<string, unknown>>(
    `WITH candidates AS (SELECT DISTINCT u.incident_id FROM unit_responses u
        WHERE u.own_agency AND ${FIRST_STAMP} <= $1
          AND NOT coalesce(epoch(u.cleared) <= $1 OR epoch(u.in_quarters) <= $1, false))
    SELECT ${INCIDENT_SELECT}, ${RESPONSE_SELECT}
    FROM incidents i SEMI JOIN candidates USING (incident_id) JOIN unit_responses u USING (incident_id)
    WHERE coalesce(epoch(i.call_received) > $1 - ${LIVE_WINDOW}, true)
    ORDER BY i.call_received, i.incident_id`,
    [now],
  );
  const incidents = [...byIncident(rows).values()]
    .map((i) => incidentAt(i.fields, i.responses, now))
    .filter((i) => i.active);
  const stations = stationsOf(await roster(store), incidents);
  return {
    now,
    incidents,
    stations,
    alerts: [...alertsFor(incidents, now), ...stationEmptyAlerts(stations)],
  };
}

/** A stored status event, as the live model keeps it to fold a unit again. */
export interface StoredEvent {
  id: string;
  incident: string;
  unit: string;
  status: UnitStatus;
  at: number;
  /** arrival order: the import's sequence (batch, then position in the batch) */
  seq: number;
  raw: string;
  unitType: string | null;
  ownAgency: boolean | null;
  homeStation: string | null;
}

/**
 * What the live model starts from: every incident that started within LIVE_WINDOW (ended ones
 * too, for a late event may reopen them), its status events (with the raw row the import compares a
 * re-sent event with), the responses files recorded, and the rest of the station roster.
 */
export async function liveRecord(store: Store, now: number) {
  // the incidents that started within the window (a call received then, or none and a first stamp then)
  const recent = `(SELECT i.incident_id FROM incidents i LEFT JOIN unit_responses u USING (incident_id)
    WHERE i.call_received IS NULL OR epoch(i.call_received) > $1 - ${LIVE_WINDOW}
    GROUP BY i.incident_id, i.call_received
    HAVING coalesce(epoch(i.call_received), min(${FIRST_STAMP})) > $1 - ${LIVE_WINDOW})`;
  const incidents = await store.all<Record<string, unknown>>(
    `SELECT ${INCIDENT_SELECT} FROM incidents i SEMI JOIN ${recent} w USING (incident_id)`,
    [now],
  );
  const fileResponses = await store.all<Record<string, unknown>>(
    `SELECT u.incident_id, ${RESPONSE_SELECT} FROM unit_responses u SEMI JOIN ${recent} w USING (incident_id)
    WHERE u.source_row_id IS NOT NULL`,
    [now],
  );
  const events = await store.all<Record<string, unknown>>(
    `SELECT e.event_id, e.incident_id, e.unit_id, e.status, epoch(e.status_at) AS at, e.seq, r.raw,
      e.unit_type, e.own_agency, e.home_station
    FROM unit_status_events e SEMI JOIN ${recent} w USING (incident_id)
      JOIN source_rows r ON r.source = e.source AND r.source_row_id = e.event_id
    ORDER BY e.seq`,
    [now],
  );
  const others = await store.all<{ home_station: string; unit_id: string }>(
    `SELECT DISTINCT home_station, unit_id FROM unit_responses u ANTI JOIN ${recent} w USING (incident_id)
    WHERE home_station IS NOT NULL AND own_agency`,
    [now],
  );
  return {
    incidents: incidents.map(incidentOf),
    fileResponses: fileResponses.map((r) => ({
      incident: r.incident_id as string,
      ...responseOf(r),
    })),
    events: events.map((e): StoredEvent => ({
      id: e.event_id as string,
      incident: e.incident_id as string,
      unit: e.unit_id as string,
      status: e.status as UnitStatus,
      at: Number(e.at),
      seq: Number(e.seq),
      raw: e.raw as string,
      unitType: e.unit_type as string | null,
      ownAgency: e.own_agency as boolean | null,
      homeStation: e.home_station as string | null,
    })),
    roster: others.map((r): [string, string] => [r.home_station, r.unit_id]),
  };
}

export function alertsFor(incidents: LiveIncident[], now: number): LiveAlert[] {
  const alerts: LiveAlert[] = [];
  const mins = (s: number) => `${Math.round(s / 60)} min`;
  for (const inc of incidents) {
    for (const u of inc.units) {
      if (FREE_STATUSES.includes(u.status)) continue;
      const arrived = u.staging ?? u.onScene; // as travel time in the metrics: staging, where recorded
      const turnout = u.enroute ?? (arrived === null ? now : null);
      if (u.dispatched !== null && turnout !== null && turnout - u.dispatched > ALERTS.turnout) {
        alerts.push({
          kind: 'long_turnout',
          incident: inc.id,
          unit: u.unit,
          message: `${u.unit}: turnout ${mins(turnout - u.dispatched)} (over ${mins(ALERTS.turnout)})`,
        });
      }
      if (u.enroute !== null) {
        const travel = (arrived ?? now) - u.enroute;
        if (travel > ALERTS.travel)
          alerts.push({
            kind: 'long_travel',
            incident: inc.id,
            unit: u.unit,
            message: `${u.unit}: travel ${mins(travel)} (over ${mins(ALERTS.travel)})`,
          });
      }
      if (
        inc.category === 'FIRE' &&
        u.dispatched !== null &&
        now - u.dispatched > ALERTS.fireCommitment
      ) {
        alerts.push({
          kind: 'long_commitment',
          incident: inc.id,
          unit: u.unit,
          message: `${u.unit}: committed ${mins(now - u.dispatched)} at a fire (over ${mins(ALERTS.fireCommitment)})`,
        });
      }
      if (u.dispatched !== null && now - u.dispatched > ALERTS.unitCommitmentInShift) {
        alerts.push({
          kind: 'fatigue',
          incident: inc.id,
          unit: u.unit,
          message: `${u.unit}: committed ${mins(now - u.dispatched)} without a break (over ${mins(ALERTS.unitCommitmentInShift)})`,
        });
      }
    }
  }
  return alerts;
}

export function stationEmptyAlerts(stations: LiveStation[]): LiveAlert[] {
  return stations
    .filter((s) => s.available.length === 0 && s.committed.length > 0)
    .map((s) => ({
      kind: 'station_empty' as const,
      station: s.station,
      message: `Station ${s.station} is empty: ${s.committed.join(', ')} committed`,
    }));
}
