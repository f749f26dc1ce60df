import { localFields } from '../../platform/time.ts';
import type { Store } from '../../platform/db.ts';
import {
  alertsFor,
  liveState,
  stationEmptyAlerts,
  statusOf,
  type LiveAlert,
  type LiveEvent,
  type LiveIncident,
  type LiveState,
} from './live.ts';
import type { Category } from './model.ts';
import { cadStatusEvents } from './profiles/cad-status-events.ts';

/**
 * The live picture kept in memory, so an update reaches the board in milliseconds instead of after
 * a database round trip. It starts from the database (liveState) and applies each event batch the
 * way the importer folds events into unit responses (a later event of a status replaces the earlier),
 * with the same code maps as the cad-status-events profile. The database stays the record: events
 * are stored by the importer before the sender is answered.
 */
interface Stamps {
  dispatched: number | null;
  enroute: number | null;
  onScene: number | null;
  transport: number | null;
  hospital: number | null;
  cleared: number | null;
}
interface ModelUnit {
  unit: string;
  unitType: string;
  homeStation: string | null;
  stamps: Stamps;
}
interface ModelIncident extends Omit<LiveIncident, 'units' | 'active'> {
  units: Map<string, ModelUnit>;
}

const STAMP_OF: Record<string, keyof Stamps> = {
  dispatched: 'dispatched',
  enroute: 'enroute',
  on_scene: 'onScene',
  transporting: 'transport',
  at_hospital: 'hospital',
  available: 'cleared',
};

const upper = (m: Record<string, string>) =>
  new Map(Object.entries(m).map(([k, v]) => [k.toUpperCase(), v]));
const UNIT_TYPES = upper(cadStatusEvents.unitTypes);
const CATEGORIES = upper(cadStatusEvents.categories);
const OTHER_AGENCY = new Set(cadStatusEvents.otherAgencyUnitTypes.map((s) => s.toUpperCase()));
const EMERGENCY = new Set(cadStatusEvents.emergencyPriorities.map((s) => s.toUpperCase()));
const seconds = (iso: string | undefined) => (iso === undefined ? null : Date.parse(iso) / 1000);

/** Overnight fatigue (docs/fire-metrics.md §5): more than 2 runs, or more than 120 min committed, between 22:00 and 06:00. */
export const NIGHT = { startHour: 22, endHour: 6, maxRuns: 2, maxBusySeconds: 7200 } as const;

export class LiveModel {
  private incidents = new Map<string, ModelIncident>();
  /** units known per home station */
  private roster = new Map<string, Set<string>>();
  /** per unit, the current night's runs and busy time */
  private nights = new Map<
    string,
    { night: number; runs: Set<string>; busy: Map<string, [number, number | null]> }
  >();

  constructor(private readonly timeZone: string) {}

  static async load(store: Store, now: number, timeZone: string): Promise<LiveModel> {
    const model = new LiveModel(timeZone);
    const state = await liveState(store, now);
    for (const i of state.incidents) {
      model.incidents.set(i.id, {
        ...i,
        units: new Map(
          i.units.map((u) => [
            u.unit,
            {
              unit: u.unit,
              unitType: u.unitType,
              homeStation: u.homeStation,
              stamps: {
                dispatched: u.dispatched,
                enroute: u.enroute,
                onScene: u.onScene,
                transport: null,
                hospital: null,
                cleared: u.cleared,
              },
            },
          ]),
        ),
      });
    }
    for (const s of state.stations)
      model.roster.set(s.station, new Set([...s.available, ...s.committed]));
    return model;
  }

  /** Applies a batch; returns the incidents it touched, as the board shows them now. */
  apply(events: LiveEvent[], now: number): LiveIncident[] {
    const touched = new Set<string>();
    for (const e of events) {
      const unitTypeCode = e.unit_type?.toUpperCase();
      if (unitTypeCode && OTHER_AGENCY.has(unitTypeCode)) continue; // other agencies are not on the department's board
      let inc = this.incidents.get(e.incident);
      if (!inc) {
        inc = {
          id: e.incident,
          type: null,
          category: 'OTHER',
          priority: null,
          emergency: null,
          received: null,
          lat: null,
          lon: null,
          address: null,
          station: null,
          units: new Map(),
        };
        this.incidents.set(e.incident, inc);
      }
      if (e.type !== undefined) {
        inc.type = e.type;
        inc.category = (CATEGORIES.get(e.type.toUpperCase()) ?? 'OTHER') as Category;
      }
      if (e.priority !== undefined) {
        inc.priority = e.priority;
        inc.emergency = EMERGENCY.has(e.priority.toUpperCase());
      }
      if (e.received !== undefined)
        inc.received = Math.min(inc.received ?? Infinity, seconds(e.received)!);
      if (e.lat !== undefined) inc.lat = e.lat;
      if (e.lon !== undefined) inc.lon = e.lon;
      if (e.address !== undefined) inc.address = e.address;
      if (e.station_area !== undefined) inc.station = e.station_area;
      let unit = inc.units.get(e.unit);
      if (!unit) {
        unit = {
          unit: e.unit,
          unitType: 'OTHER',
          homeStation: null,
          stamps: {
            dispatched: null,
            enroute: null,
            onScene: null,
            transport: null,
            hospital: null,
            cleared: null,
          },
        };
        inc.units.set(e.unit, unit);
      }
      if (unitTypeCode) unit.unitType = UNIT_TYPES.get(unitTypeCode) ?? 'OTHER';
      if (e.home_station !== undefined) {
        unit.homeStation = e.home_station;
        let r = this.roster.get(e.home_station);
        if (!r) this.roster.set(e.home_station, (r = new Set()));
        r.add(e.unit);
      }
      unit.stamps[STAMP_OF[e.status]!] = seconds(e.at);
      this.countNight(e.unit, e.incident, unit.stamps);
      touched.add(e.incident);
    }
    const out = [...touched].map((id) => this.view(this.incidents.get(id)!, now));
    for (const i of out) if (!i.active) this.incidents.delete(i.id);
    return out;
  }

  /** The night (local day index of its evening) an instant belongs to, or null in the daytime. */
  private nightOf(t: number): number | null {
    const lf = localFields(t, this.timeZone);
    if (lf.hour >= NIGHT.startHour) return lf.localDay;
    if (lf.hour < NIGHT.endHour) return lf.localDay - 1;
    return null;
  }

  private countNight(unit: string, incident: string, st: Stamps): void {
    if (st.dispatched === null) return;
    const night = this.nightOf(st.dispatched);
    if (night === null) return;
    let n = this.nights.get(unit);
    if (!n || n.night !== night)
      this.nights.set(unit, (n = { night, runs: new Set(), busy: new Map() }));
    n.runs.add(incident);
    n.busy.set(incident, [st.dispatched, st.cleared]);
  }

  private fatigueAlerts(units: Iterable<string>, now: number): LiveAlert[] {
    const tonight = this.nightOf(now);
    const out: LiveAlert[] = [];
    for (const unit of new Set(units)) {
      const n = this.nights.get(unit);
      if (!n || n.night !== tonight) continue;
      const busy = [...n.busy.values()].reduce(
        (a, [d, c]) => a + Math.max(0, Math.min(c ?? now, now) - d),
        0,
      );
      if (n.runs.size > NIGHT.maxRuns || busy > NIGHT.maxBusySeconds) {
        out.push({
          kind: 'fatigue',
          unit,
          message: `${unit}: ${n.runs.size} runs and ${Math.round(busy / 60)} min committed tonight (limit ${NIGHT.maxRuns} runs or ${NIGHT.maxBusySeconds / 60} min)`,
        });
      }
    }
    return out;
  }

  private view(inc: ModelIncident, now: number): LiveIncident {
    const visible = (t: number | null) => (t !== null && t <= now ? t : null);
    const units = [...inc.units.values()]
      .filter((u) => u.stamps.dispatched === null || u.stamps.dispatched <= now)
      .map((u) => {
        const [status, since] = statusOf(u.stamps, now);
        return {
          unit: u.unit,
          unitType: u.unitType,
          homeStation: u.homeStation,
          status,
          since,
          dispatched: visible(u.stamps.dispatched),
          enroute: visible(u.stamps.enroute),
          onScene: visible(u.stamps.onScene),
          cleared: visible(u.stamps.cleared),
        };
      });
    return { ...inc, units, active: units.some((u) => u.status !== 'available') };
  }

  stations(now: number): LiveState['stations'] {
    const committed = new Set<string>();
    for (const inc of this.incidents.values())
      for (const u of this.view(inc, now).units)
        if (u.status !== 'available') committed.add(u.unit);
    return [...this.roster]
      .map(([station, units]) => ({
        station,
        available: [...units].filter((u) => !committed.has(u)).sort(),
        committed: [...units].filter((u) => committed.has(u)).sort(),
      }))
      .sort((a, b) => a.station.localeCompare(b.station, 'en', { numeric: true }));
  }

  /** The whole picture now (for a client's first snapshot); drops incidents that have ended. */
  snapshot(now: number): LiveState {
    const incidents = [...this.incidents.values()]
      .map((i) => this.view(i, now))
      .filter((i) => i.active);
    const live = new Set(incidents.map((i) => i.id));
    for (const id of [...this.incidents.keys()]) if (!live.has(id)) this.incidents.delete(id);
    const stations = this.stations(now);
    return {
      now,
      incidents,
      stations,
      alerts: [
        ...alertsFor(incidents, now),
        ...stationEmptyAlerts(stations),
        ...this.fatigueAlerts(this.nights.keys(), now),
      ],
    };
  }

  /** An update for touched incidents, with the station board and alerts as they stand. */
  update(touched: LiveIncident[], now: number): LiveState {
    const stations = this.stations(now);
    const units = touched.flatMap((i) => i.units.map((u) => u.unit));
    return {
      now,
      incidents: touched,
      stations,
      alerts: [
        ...alertsFor(touched, now),
        ...stationEmptyAlerts(stations),
        ...this.fatigueAlerts(units, now),
      ],
    };
  }
}
