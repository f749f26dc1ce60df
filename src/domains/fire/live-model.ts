import { UNIT_STATUS_STAMPS, type UnitStatus } from '../../contracts/live.ts';
import { localFields } from '../../platform/time.ts';
import type { Store } from '../../platform/db.ts';
import {
  alertsFor,
  incidentAt,
  LIVE_WINDOW,
  liveRecord,
  noStamps,
  startedAt,
  stationEmptyAlerts,
  stationsOf,
  type FoldedResponse,
  type IncidentFields,
  type LiveAlert,
  type LiveEvent,
  type LiveIncident,
  type LiveState,
  type StoredEvent,
} from './live.ts';
import { eventNormaliser, recordGetter } from './normalise.ts';
import { cadStatusEvents } from './profiles/cad-status-events.ts';

/**
 * The live picture kept in memory, so an update reaches the board in milliseconds instead of after
 * a database round trip. The database stays the record (events are stored by the importer before
 * the sender is answered); the model folds each batch exactly as the import does, so that the
 * board, the database (liveState) and a model loaded after a restart agree:
 *
 * - each event is read by the importer's own normaliser (codes, unit types, categories, agencies);
 * - in a batch, of events sharing an id the last is kept; an event re-sent unchanged (same id, same
 *   raw row) is not new and changes nothing; one re-sent changed replaces the earlier of its id;
 * - a unit's stamp of a status is that of the latest *received* event of the status (batch, then
 *   position in it), not the latest `at`: a correction sent later wins even when it is earlier in
 *   time, as the import's fold of unit_status_events does (arg_max by seq);
 * - an incident's fields are merged per batch as the import's upsert does: each field from the
 *   batch's last row that has it, the call received from the batch's earliest, else kept.
 *
 * Incidents are kept while they are within LIVE_WINDOW, ended ones too: a late event may reopen one.
 */
interface ModelUnit {
  /** its status events by id */
  events: Map<string, StoredEvent>;
  /** the response a file recorded first: it stays the one response, events do not change it */
  file: FoldedResponse | null;
  /** the fold of the above, kept until an event changes it */
  folded: FoldedResponse | null;
}
interface ModelIncident {
  fields: IncidentFields;
  units: Map<string, ModelUnit>;
}

const normalise = eventNormaliser(cadStatusEvents);
/** the import's sequence of an event: its batch, then its position in the batch */
const SEQ_PER_BATCH = 1_000_000_000;

/** A unit's response folded from its events: each stamp from the latest-received event of its status. */
function foldEvents(unit: string, events: Iterable<StoredEvent>): FoldedResponse | null {
  const sorted = [...events].sort((a, b) => a.seq - b.seq);
  if (!sorted.length) return null;
  const r: FoldedResponse = {
    unit,
    unitType: 'OTHER',
    homeStation: null,
    ownAgency: true,
    stamps: noStamps(),
  };
  for (const e of sorted) {
    r.stamps[UNIT_STATUS_STAMPS[e.status].field] = e.at;
    if (e.unitType !== null) r.unitType = e.unitType;
    if (e.ownAgency !== null) r.ownAgency = e.ownAgency;
    if (e.homeStation !== null) r.homeStation = e.homeStation;
  }
  return r;
}

const blankIncident = (id: string): IncidentFields => ({
  id,
  type: null,
  category: 'OTHER',
  priority: null,
  emergency: null,
  received: null,
  lat: null,
  lon: null,
  address: null,
  station: null,
});

/** A normalised event of a batch, with what the import stages for it. */
interface Row {
  event: StoredEvent;
  received: number | null;
  fields: Partial<Omit<IncidentFields, 'received'>>;
}

function rowOf(e: LiveEvent, line: number, batch: number): Row | null {
  const r = normalise(recordGetter(cadStatusEvents, e));
  if (!r.ok) return null; // the import quarantines it
  const { event, incident: i, unit: u } = r;
  return {
    event: {
      id: event.event_id,
      incident: event.incident_id,
      unit: event.unit_id,
      status: event.status as UnitStatus,
      at: event.at,
      seq: batch * SEQ_PER_BATCH + line,
      raw: JSON.stringify(e), // as the import keeps the raw row, to compare a re-sent event
      unitType: u.unit_type ?? null,
      ownAgency: u.own_agency ?? null,
      homeStation: u.home_station ?? null,
    },
    received: i.call_received ?? null,
    fields: {
      type: i.incident_type,
      category: i.category,
      priority: i.priority,
      emergency: i.emergency,
      lat: i.lat,
      lon: i.lon,
      address: i.address,
      station: i.station_area,
    },
  };
}

/** Overnight fatigue (docs/fire-metrics.md §5): more than 2 runs, or more than 120 min committed, between 22:00 and 06:00. */
export const NIGHT = { startHour: 22, endHour: 6, maxRuns: 2, maxBusySeconds: 7200 } as const;

export class LiveModel {
  private incidents = new Map<string, ModelIncident>();
  /** every event held, by id (an id re-sent may move to another unit) */
  private events = new Map<string, StoredEvent>();
  /** "station|unit" of the department's units on responses not held here */
  private roster = new Set<string>();
  /** the last batch applied (or loaded): the next one gets the next */
  private batch = 0;
  /** per unit, the current night's runs and busy time */
  private nights = new Map<
    string,
    { night: number; runs: Set<string>; busy: Map<string, [number, number | null]> }
  >();

  constructor(private readonly timeZone: string) {}

  static async load(store: Store, now: number, timeZone: string): Promise<LiveModel> {
    const model = new LiveModel(timeZone);
    const record = await liveRecord(store, now);
    for (const fields of record.incidents)
      model.incidents.set(fields.id, { fields, units: new Map() });
    for (const { incident, ...r } of record.fileResponses) {
      const unit = model.unitOf(incident, r.unit);
      unit.file = unit.folded = r;
    }
    for (const e of record.events) {
      model.unitOf(e.incident, e.unit).events.set(e.id, e);
      model.events.set(e.id, e);
      model.batch = Math.max(model.batch, Math.floor(e.seq / SEQ_PER_BATCH));
    }
    for (const inc of model.incidents.values())
      for (const [id, u] of inc.units) u.folded = u.file ?? foldEvents(id, u.events.values());
    for (const [station, unit] of record.roster) model.roster.add(`${station}|${unit}`);
    return model;
  }

  private incidentOf(id: string): ModelIncident {
    let inc = this.incidents.get(id);
    if (!inc) this.incidents.set(id, (inc = { fields: blankIncident(id), units: new Map() }));
    return inc;
  }

  private unitOf(incident: string, unit: string): ModelUnit {
    const inc = this.incidentOf(incident);
    let u = inc.units.get(unit);
    if (!u) inc.units.set(unit, (u = { events: new Map(), file: null, folded: null }));
    return u;
  }

  /** Applies a batch (one import); returns the incidents it changed, as the board shows them now. */
  apply(events: LiveEvent[], now: number): LiveIncident[] {
    const batch = ++this.batch;
    // of events sharing an id the last is kept; "line" is the position in the batch, as in the import
    const kept = new Map<string, Row>();
    events.forEach((e, k) => {
      const row = rowOf(e, k + 1, batch);
      if (!row) return;
      kept.delete(row.event.id);
      kept.set(row.event.id, row);
    });
    const rows = [...kept.values()].sort((a, b) => a.event.seq - b.event.seq);
    const changed = rows.filter((r) => this.events.get(r.event.id)?.raw !== r.event.raw);
    const touched = new Set(changed.map((r) => r.event.incident));
    // each touched incident's rows, gathered in one pass (a filter per incident was quadratic in the batch)
    const rowsOf = new Map<string, Row[]>();
    for (const r of rows)
      if (touched.has(r.event.incident)) {
        const list = rowsOf.get(r.event.incident);
        if (list) list.push(r);
        else rowsOf.set(r.event.incident, [r]);
      }
    for (const [id, list] of rowsOf) this.mergeFields(id, list);
    const refold = new Map<ModelUnit, [incident: string, unit: string]>();
    for (const { event: e } of changed) {
      const old = this.events.get(e.id);
      if (old) {
        const from = this.unitOf(old.incident, old.unit);
        from.events.delete(e.id);
        refold.set(from, [old.incident, old.unit]);
        touched.add(old.incident);
      }
      const to = this.unitOf(e.incident, e.unit);
      to.events.set(e.id, e);
      this.events.set(e.id, e);
      refold.set(to, [e.incident, e.unit]);
    }
    for (const [u, [incident, unit]] of refold) {
      u.folded = u.file ?? foldEvents(unit, u.events.values());
      if (u.folded?.ownAgency) this.countNight(unit, incident, u.folded);
    }
    const out = [...touched].map((id) => this.view(this.incidents.get(id)!, now));
    this.prune(now);
    return out;
  }

  /** The import's upsert of an incident: each field from the batch's last row having it, the call received from its earliest. */
  private mergeFields(id: string, rows: Row[]): void {
    const fields = this.incidentOf(id).fields as unknown as Record<string, unknown>;
    for (const r of rows)
      for (const [k, v] of Object.entries(r.fields))
        if (v !== null && v !== undefined) fields[k] = v;
    const received = rows.map((r) => r.received).filter((t) => t !== null);
    if (received.length) fields.received = Math.min(...received);
  }

  /** The night (local day index of its evening) an instant belongs to, or null in the daytime. */
  private nightOf(t: number): number | null {
    const lf = localFields(t, this.timeZone);
    if (lf.hour >= NIGHT.startHour) return lf.localDay;
    if (lf.hour < NIGHT.endHour) return lf.localDay - 1;
    return null;
  }

  private countNight(unit: string, incident: string, { stamps: st }: FoldedResponse): void {
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

  private responses(inc: ModelIncident): FoldedResponse[] {
    return [...inc.units.values()].flatMap((u) => (u.folded ? [u.folded] : []));
  }

  private view(inc: ModelIncident, now: number): LiveIncident {
    return incidentAt(inc.fields, this.responses(inc), now);
  }

  /** Lets go of incidents that started before LIVE_WINDOW: they are off the board for good. */
  private prune(now: number): void {
    for (const [id, inc] of this.incidents) {
      const responses = this.responses(inc);
      if (!(startedAt(inc.fields, responses) <= now - LIVE_WINDOW)) continue;
      for (const r of responses)
        if (r.ownAgency && r.homeStation !== null) this.roster.add(`${r.homeStation}|${r.unit}`);
      for (const u of inc.units.values()) for (const e of u.events.keys()) this.events.delete(e);
      this.incidents.delete(id);
    }
  }

  private stations(incidents: LiveIncident[]): LiveState['stations'] {
    const roster = new Set(this.roster);
    for (const inc of this.incidents.values())
      for (const r of this.responses(inc))
        if (r.ownAgency && r.homeStation !== null) roster.add(`${r.homeStation}|${r.unit}`);
    const pairs = [...roster].map((k) => k.split('|') as [string, string]);
    return stationsOf(pairs, incidents);
  }

  private active(now: number): LiveIncident[] {
    return [...this.incidents.values()].map((i) => this.view(i, now)).filter((i) => i.active);
  }

  /** The whole picture now (for a client's first snapshot). */
  snapshot(now: number): LiveState {
    this.prune(now);
    const incidents = this.active(now);
    const stations = this.stations(incidents);
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
    const stations = this.stations(this.active(now));
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
