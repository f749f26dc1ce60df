import { z } from 'zod';
import type { Store } from '../../platform/db.ts';
import { isoInstant } from '../../platform/params.ts';
import { STATUSES } from './model.ts';

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
  status: z.enum(STATUSES as [string, ...string[]]),
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

/**
 * A wide unit response (one object per unit on an incident, every stamp a field), as some CAD
 * systems send. It becomes one status event per stamp, with ids derived from incident, unit and
 * status, so re-sending it is idempotent and a later stamp replaces the earlier one.
 */
export const LiveResponseSchema = LiveEventSchema.omit({ id: true, status: true, at: true })
  .extend({
    dispatched: stamp,
    enroute: stamp,
    on_scene: stamp,
    transporting: stamp,
    at_hospital: stamp,
    available: stamp,
  })
  .refine((r) => STATUSES.some((s) => (r as Record<string, unknown>)[s] !== undefined), {
    message: 'has no stamp (dispatched, enroute, on_scene, transporting, at_hospital, available)',
  });

export function responseToEvents(r: z.output<typeof LiveResponseSchema>): LiveEvent[] {
  const { dispatched, enroute, on_scene, transporting, at_hospital, available, ...incident } = r;
  const stamps: Record<string, string | undefined> = {
    dispatched,
    enroute,
    on_scene,
    transporting,
    at_hospital,
    available,
  };
  return Object.entries(stamps)
    .filter(([, at]) => at !== undefined)
    .map(([status, at]) => ({
      ...incident,
      id: `${r.incident}|${r.unit}|${status}`,
      status,
      at: at!,
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

export type UnitStatus =
  'dispatched' | 'enroute' | 'on_scene' | 'transporting' | 'at_hospital' | 'available';

export interface LiveUnit {
  unit: string;
  unitType: string;
  homeStation: string | null;
  status: UnitStatus;
  since: number;
  dispatched: number | null;
  enroute: number | null;
  onScene: number | null;
  cleared: number | null;
}

export interface LiveIncident {
  id: string;
  type: string | null;
  category: string;
  priority: string | null;
  emergency: boolean | null;
  received: number | null;
  lat: number | null;
  lon: number | null;
  address: string | null;
  station: string | null;
  active: boolean;
  units: LiveUnit[];
}

export interface LiveAlert {
  kind: 'long_turnout' | 'long_travel' | 'long_commitment' | 'fatigue' | 'station_empty';
  message: string;
  incident?: string;
  unit?: string;
  station?: string;
}

export interface LiveState {
  now: number;
  incidents: LiveIncident[];
  alerts: LiveAlert[];
  /** per home station: units in quarters (available) and committed */
  stations: { station: string; available: string[]; committed: string[] }[];
}

export function statusOf(
  u: {
    dispatched: number | null;
    enroute: number | null;
    onScene: number | null;
    transport: number | null;
    hospital: number | null;
    cleared: number | null;
  },
  now: number,
): [UnitStatus, number] {
  const steps: [UnitStatus, number | null][] = [
    ['available', u.cleared],
    ['at_hospital', u.hospital],
    ['transporting', u.transport],
    ['on_scene', u.onScene],
    ['enroute', u.enroute],
    ['dispatched', u.dispatched],
  ];
  for (const [s, t] of steps) if (t !== null && t <= now) return [s, t];
  return ['dispatched', u.dispatched ?? now];
}

/**
 * The live state at `now`: incidents with at least one unit not yet cleared, received in the last
 * 24 hours (or only `incidentIds`, for an update after an ingest).
 */
export async function liveState(
  store: Store,
  now: number,
  incidentIds?: string[],
): Promise<LiveState> {
  const params: (string | number)[] = [now];
  const scope = incidentIds
    ? `i.incident_id IN (${
        incidentIds
          .map((id) => {
            params.push(id);
            return `$${params.length}`;
          })
          .join(', ') || "''"
      })`
    : `i.call_received > to_timestamp($1 - 86400) AND EXISTS (SELECT 1 FROM unit_responses a WHERE a.incident_id = i.incident_id
         AND a.own_agency AND (a.cleared IS NULL OR epoch(a.cleared) > $1) AND epoch(a.dispatched) <= $1)`;
  const rows = await store.all<Record<string, unknown>>(
    `SELECT i.incident_id, i.incident_type, i.category, i.priority, i.emergency,
      epoch(i.call_received) AS received, i.lat, i.lon, i.address, i.station_area,
      u.unit_id, u.unit_type, u.home_station, epoch(u.dispatched) AS dispatched, epoch(u.enroute) AS enroute,
      epoch(coalesce(u.staging, u.on_scene)) AS on_scene, epoch(u.transport_started) AS transport, epoch(u.at_hospital) AS hospital,
      epoch(u.cleared) AS cleared
    FROM incidents i JOIN unit_responses u USING (incident_id)
    WHERE ${scope} AND u.own_agency AND (u.dispatched IS NULL OR epoch(u.dispatched) <= $1)
    ORDER BY i.call_received, i.incident_id, u.dispatched, u.unit_id`,
    params,
  );
  const byId = new Map<string, LiveIncident>();
  const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
  for (const r of rows) {
    const id = r.incident_id as string;
    let inc = byId.get(id);
    if (!inc) {
      byId.set(
        id,
        (inc = {
          id,
          type: r.incident_type as string | null,
          category: r.category as string,
          priority: r.priority as string | null,
          emergency: r.emergency as boolean | null,
          received: num(r.received),
          lat: num(r.lat),
          lon: num(r.lon),
          address: r.address as string | null,
          station: r.station_area as string | null,
          active: false,
          units: [],
        }),
      );
    }
    const stamps = {
      dispatched: num(r.dispatched),
      enroute: num(r.enroute),
      onScene: num(r.on_scene),
      transport: num(r.transport),
      hospital: num(r.hospital),
      cleared: num(r.cleared),
    };
    const visible = (t: number | null) => (t !== null && t <= now ? t : null);
    const [status, since] = statusOf(stamps, now);
    inc.units.push({
      unit: r.unit_id as string,
      unitType: r.unit_type as string,
      homeStation: r.home_station as string | null,
      status,
      since,
      dispatched: visible(stamps.dispatched),
      enroute: visible(stamps.enroute),
      onScene: visible(stamps.onScene),
      cleared: visible(stamps.cleared),
    });
    if (status !== 'available') inc.active = true;
  }
  const incidents = [...byId.values()];
  const stations = await stationBoard(store, now);
  return {
    now,
    incidents,
    stations,
    alerts: [...alertsFor(incidents, now), ...stationEmptyAlerts(stations)],
  };
}

export function alertsFor(incidents: LiveIncident[], now: number): LiveAlert[] {
  const alerts: LiveAlert[] = [];
  const mins = (s: number) => `${Math.round(s / 60)} min`;
  for (const inc of incidents) {
    for (const u of inc.units) {
      if (u.status === 'available') continue;
      const turnout = u.enroute ?? (u.onScene === null ? now : null);
      if (u.dispatched !== null && turnout !== null && turnout - u.dispatched > ALERTS.turnout) {
        alerts.push({
          kind: 'long_turnout',
          incident: inc.id,
          unit: u.unit,
          message: `${u.unit}: turnout ${mins(turnout - u.dispatched)} (over ${mins(ALERTS.turnout)})`,
        });
      }
      if (u.enroute !== null) {
        const arrived = u.onScene ?? now;
        if (arrived - u.enroute > ALERTS.travel)
          alerts.push({
            kind: 'long_travel',
            incident: inc.id,
            unit: u.unit,
            message: `${u.unit}: travel ${mins(arrived - u.enroute)} (over ${mins(ALERTS.travel)})`,
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

/** Units known per home station (from all responses on record), split into in quarters and committed now. */
async function stationBoard(store: Store, now: number): Promise<LiveState['stations']> {
  const rows = await store.all<{ home_station: string; unit_id: string; committed: boolean }>(
    `SELECT home_station, unit_id,
      bool_or(epoch(dispatched) <= $1 AND (cleared IS NULL OR epoch(cleared) > $1) AND epoch(dispatched) > $1 - 86400) AS committed
    FROM unit_responses WHERE home_station IS NOT NULL AND own_agency GROUP BY home_station, unit_id ORDER BY home_station, unit_id`,
    [now],
  );
  const board = new Map<string, { station: string; available: string[]; committed: string[] }>();
  for (const r of rows) {
    let b = board.get(r.home_station);
    if (!b)
      board.set(r.home_station, (b = { station: r.home_station, available: [], committed: [] }));
    (r.committed ? b.committed : b.available).push(r.unit_id);
  }
  return [...board.values()].sort((a, b) =>
    a.station.localeCompare(b.station, 'en', { numeric: true }),
  );
}

export function stationEmptyAlerts(stations: LiveState['stations']): LiveAlert[] {
  return stations
    .filter((s) => s.available.length === 0 && s.committed.length > 0)
    .map((s) => ({
      kind: 'station_empty' as const,
      station: s.station,
      message: `Station ${s.station} is empty: ${s.committed.join(', ')} committed`,
    }));
}
