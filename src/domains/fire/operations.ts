import { summarize } from '../../platform/stats.ts';
import { addDays, localDateStart, localFields, offsetAt } from '../../platform/time.ts';
import type { FireConfig } from './config.ts';
import { text, type Frame } from './frame.ts';
import { arrivalTime, incidentFacts, isCounted, responsesByIncident } from './metrics.ts';
import type { UnitUtilization } from '../../contracts/fire.ts';

/**
 * Operational metrics (docs/fire-metrics.md §5): unit hour utilization, concurrency, first-due reliability and
 * call volume. Each reads the same frame as the response-time metrics.
 */

export interface Period {
  start: number;
  end: number;
  hours: number;
  /** how the period was chosen */
  basis: 'filter' | 'data';
}

/** The first and last call received (UTC seconds) of the data on record, the demo replay left out. */
export interface DataExtent {
  first: number;
  last: number;
}

/** The local midnight starting the day `days` after the one holding instant t (exact on DST days). */
function localMidnight(t: number, tz: string, days: number): number {
  const { year, month, day } = localFields(t, tz);
  const date = `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
  return localDateStart(addDays(date, days), tz);
}

/**
 * The period staffed time is counted over: the whole local days from the first to the last call on
 * record, narrowed to the filter's dates (docs/fire-metrics.md §5.1). A unit's staffing is known only
 * where there is data, and so a range typed wider than the data reads as, and costs no more than,
 * the data's own. Null when no day of the data falls in the filter.
 */
export function periodOf(f: Frame, data: DataExtent | null): Period | null {
  if (!data) return null;
  const start = Math.max(f.window.start ?? -Infinity, localMidnight(data.first, f.timeZone, 0));
  const end = Math.min(f.window.end ?? Infinity, localMidnight(data.last, f.timeZone, 1));
  if (end <= start) return null;
  const basis = start === f.window.start && end === f.window.end ? 'filter' : 'data';
  return { start, end, hours: (end - start) / 3600, basis };
}

/** Merges intervals (sorted by start) into their union. */
function union(intervals: [number, number][]): [number, number][] {
  intervals.sort((x, y) => x[0] - y[0]);
  const out: [number, number][] = [];
  for (const [s, e] of intervals) {
    const last = out[out.length - 1];
    if (last && s <= last[1]) last[1] = Math.max(last[1], e);
    else out.push([s, e]);
  }
  return out;
}

/** Adds the seconds of [s, e) falling in each local hour of day to `byHour`. */
function spreadByHour(s: number, e: number, tz: string, byHour: Float64Array): void {
  let t = s;
  while (t < e) {
    // A whole day with one offset adds an hour to every hour of day: long periods cost a step a
    // day, not a step an hour (zones change offset at most once a day).
    if (
      t + 86400 <= e &&
      (t + offsetAt(tz, t)) % 3600 === 0 &&
      offsetAt(tz, t) === offsetAt(tz, t + 86400)
    ) {
      for (let h = 0; h < 24; h++) byHour[h]! += 3600;
      t += 86400;
      continue;
    }
    const lf = localFields(t, tz);
    const next = Math.min(e, t + (3600 - (lf.secondOfDay % 3600)));
    byHour[lf.hour]! += next - t;
    t = next;
  }
}

export interface UtilizationResult {
  definition: string;
  period: Period;
  units: UnitUtilization[];
  byUnitType: {
    unitType: string;
    units: number;
    meanUhu: number;
    maxUhu: number;
    maxUnit: string;
  }[];
  byHour: number[];
  excluded: { missing_stamp: number; over_cap: number; other_agency: number };
}

/**
 * Unit hour utilization. Busy time is dispatched → cleared of each own-agency response to an
 * incident in the frame, the union per unit (a unit is not twice busy), clipped to the period.
 */
export function unitHourUtilization(
  f: Frame,
  config: FireConfig,
  data: DataExtent | null,
): UtilizationResult | null {
  const period = periodOf(f, data);
  if (!period) return null;
  const Rs = f.responses;
  const excluded = { missing_stamp: 0, over_cap: 0, other_agency: 0 };
  const perUnit = new Map<
    string,
    { unitType: string; intervals: [number, number][]; responses: number; transports: number }
  >();
  for (let r = 0; r < Rs.n; r++) {
    if (!isCounted(f, r, config)) {
      excluded.other_agency++;
      continue;
    }
    const u = text(Rs.unit, r)!;
    let e = perUnit.get(u);
    if (!e)
      perUnit.set(
        u,
        (e = { unitType: text(Rs.unitType, r)!, intervals: [], responses: 0, transports: 0 }),
      );
    e.responses++;
    const d = Rs.dispatched[r]!,
      c = Rs.cleared[r]!;
    if (d !== d || c !== c || c < d) {
      excluded.missing_stamp++;
      continue;
    }
    if (c - d > config.caps.commitment) {
      excluded.over_cap++;
      continue;
    }
    const t = Rs.transport[r]!;
    if (t === t && t >= period.start && t < period.end) e.transports++;
    const s = Math.max(d, period.start),
      en = Math.min(c, period.end);
    if (en > s) e.intervals.push([s, en]);
  }
  // staffed seconds in each hour of day over the period (exact across DST days)
  const staffedByHour = new Float64Array(24);
  spreadByHour(period.start, period.end, f.timeZone, staffedByHour);
  const units: UnitUtilization[] = [];
  const allByHour = new Float64Array(24);
  for (const [unit, e] of perUnit) {
    const byHour = new Float64Array(24);
    let busy = 0;
    for (const [s, en] of union(e.intervals)) {
      busy += en - s;
      spreadByHour(s, en, f.timeZone, byHour);
    }
    for (let h = 0; h < 24; h++) allByHour[h]! += byHour[h]!;
    const unitHours = period.hours;
    units.push({
      unit,
      unitType: e.unitType,
      responses: e.responses,
      busyHours: busy / 3600,
      uhu: busy / (period.hours * 3600),
      transports: e.transports,
      transportsPerUnitHour: e.transports / unitHours,
      byHour: Array.from(byHour, (b, h) => (staffedByHour[h]! > 0 ? b / staffedByHour[h]! : 0)),
    });
  }
  units.sort((a, b) => b.uhu - a.uhu || a.unit.localeCompare(b.unit));
  const types = new Map<string, UnitUtilization[]>();
  for (const u of units) types.set(u.unitType, [...(types.get(u.unitType) ?? []), u]);
  const byUnitType = [...types]
    .map(([unitType, us]) => ({
      unitType,
      units: us.length,
      meanUhu: us.reduce((a, u) => a + u.uhu, 0) / us.length,
      maxUhu: us[0]!.uhu,
      maxUnit: us[0]!.unit,
    }))
    .sort((a, b) => a.unitType.localeCompare(b.unitType));
  return {
    definition:
      'busy time (dispatched → cleared, union per unit, clipped to the period) ÷ staffed time (24 h a day); transports ÷ unit hours also given',
    period,
    units,
    byUnitType,
    byHour: Array.from(allByHour, (b, h) =>
      units.length && staffedByHour[h]! > 0 ? b / (staffedByHour[h]! * units.length) : 0,
    ),
    excluded,
  };
}

/** When an incident is in progress: call received until its last own-agency unit cleared. */
function incidentSpans(f: Frame, config: FireConfig): { start: Float64Array; end: Float64Array } {
  const n = f.incidents.n;
  const start = Float64Array.from(f.incidents.received);
  const end = new Float64Array(n).fill(NaN);
  const Rs = f.responses;
  for (let r = 0; r < Rs.n; r++) {
    if (!isCounted(f, r, config)) continue;
    const c = Rs.cleared[r]!;
    const i = Rs.inc[r]!;
    if (c === c && c - start[i]! <= config.caps.commitment && !(end[i]! >= c)) end[i] = c;
  }
  return { start, end };
}

export interface ConcurrencyResult {
  definition: string;
  /** incidents already in progress when each new incident arrived: level → number of incidents */
  atArrival: Record<string, number>;
  /** the same, counting only incidents in the same first-due station area */
  atArrivalSameArea: Record<string, number>;
  /** share of the period's time with at least N incidents in progress */
  shareOfTimeAtLeast: Record<string, number>;
  maxInProgress: number;
  /** first-unit travel by the number of incidents in progress in the same first-due area (0, 1, 2, 3+) */
  firstUnitTravelByLevel: { level: string; n: number; p50: number | null; p90: number | null }[];
  excluded: { no_end_time: number };
}

const level = (k: number, top: number) => (k >= top ? `${top}+` : String(k));

export function concurrency(
  f: Frame,
  config: FireConfig,
  data: DataExtent | null,
): ConcurrencyResult {
  const { start, end } = incidentSpans(f, config);
  const n = f.incidents.n;
  const ok: number[] = [];
  let noEnd = 0;
  for (let i = 0; i < n; i++) {
    if (start[i]! === start[i]! && end[i]! === end[i]!) ok.push(i);
    else noEnd++;
  }
  ok.sort((a, b) => start[a]! - start[b]! || a - b);
  // The incidents in progress at each arrival: started earlier (ties: earlier in order), not yet ended.
  const atArrival: Record<number, number> = {};
  const sameArea: Record<string, number> = {};
  const levelOf = new Int32Array(n).fill(-1);
  const active: number[] = [];
  const activeByArea = new Map<string, number[]>();
  for (const i of ok) {
    const t = start[i]!;
    for (let k = active.length - 1; k >= 0; k--) if (end[active[k]!]! <= t) active.splice(k, 1);
    const area = text(f.incidents.station, i) ?? '';
    const list = activeByArea.get(area) ?? [];
    for (let k = list.length - 1; k >= 0; k--) if (end[list[k]!]! <= t) list.splice(k, 1);
    levelOf[i] = list.length;
    atArrival[active.length] = (atArrival[active.length] ?? 0) + 1;
    const la = String(list.length);
    sameArea[la] = (sameArea[la] ?? 0) + 1;
    active.push(i);
    list.push(i);
    activeByArea.set(area, list);
  }
  // time-weighted: sweep starts (+1) and ends (−1) over the period
  const period = periodOf(f, data);
  const events: [number, number][] = [];
  for (const i of ok) {
    events.push([start[i]!, 1]);
    events.push([end[i]!, -1]);
  }
  events.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const timeAt = new Map<number, number>();
  let cur = 0,
    maxIn = 0;
  let prev = period?.start ?? events[0]?.[0] ?? 0;
  for (const [t, d] of events) {
    const a = Math.max(prev, period?.start ?? -Infinity),
      b = Math.min(t, period?.end ?? Infinity);
    if (b > a) timeAt.set(cur, (timeAt.get(cur) ?? 0) + (b - a));
    prev = Math.max(prev, t);
    cur += d;
    maxIn = Math.max(maxIn, cur);
  }
  if (period && prev < period.end)
    timeAt.set(cur, (timeAt.get(cur) ?? 0) + (period.end - Math.max(prev, period.start)));
  const total = [...timeAt.values()].reduce((a, b) => a + b, 0);
  const shareOfTimeAtLeast: Record<string, number> = {};
  for (let k = 1; k <= Math.max(1, maxIn); k++) {
    let s = 0;
    for (const [lv, secs] of timeAt) if (lv >= k) s += secs;
    shareOfTimeAtLeast[String(k)] = total > 0 ? s / total : 0;
  }
  // first-unit travel by concurrency level at arrival
  const facts = incidentFacts(f, config);
  const travelBy = new Map<string, number[]>();
  for (const i of ok) {
    const r = facts.firstArrival[i]!;
    if (r < 0) continue;
    const v = arrivalTime(f, r) - f.responses.enroute[r]!;
    if (!(v >= 0 && v <= config.caps.default)) continue;
    const l = level(levelOf[i]!, 3);
    travelBy.set(l, [...(travelBy.get(l) ?? []), v]);
  }
  return {
    definition:
      'an incident is in progress from call received until its last own-agency unit cleared; counts are of other incidents in progress at each call',
    atArrival,
    atArrivalSameArea: sameArea,
    shareOfTimeAtLeast,
    maxInProgress: maxIn,
    firstUnitTravelByLevel: ['0', '1', '2', '3+']
      .filter((l) => travelBy.has(l))
      .map((l) => {
        const s = summarize(travelBy.get(l)!);
        return { level: l, n: s.n, p50: s.p50, p90: s.p90 };
      }),
    excluded: { no_end_time: noEnd },
  };
}

export interface ReliabilityRow {
  station: string;
  incidents: number;
  firstDueFirst: number;
  reliability: number | null;
  /** of the incidents the first-due station missed: its units were all committed elsewhere at the call */
  firstDueBusy: number;
  coveredBy: Record<string, number>;
}

export interface ReliabilityResult {
  definition: string;
  stations: ReliabilityRow[];
  overall: { incidents: number; firstDueFirst: number; reliability: number | null };
  excluded: { no_station_area: number; no_arrival: number };
}

/**
 * First-due reliability. Units with a home station (engines, trucks, rescues) are compared: the
 * first of them to arrive either came from the incident's first-due station area or from another.
 */
export function firstDueReliability(f: Frame, config: FireConfig): ReliabilityResult {
  const I = f.incidents,
    Rs = f.responses;
  const byInc = responsesByIncident(f);
  const unitsOf = new Map<string, Set<string>>();
  const busy = new Map<string, [number, number, number][]>(); // unit → [dispatched, cleared, incident]
  for (let r = 0; r < Rs.n; r++) {
    const h = text(Rs.home, r);
    if (!h || !isCounted(f, r, config)) continue;
    const unit = text(Rs.unit, r)!;
    unitsOf.set(h, (unitsOf.get(h) ?? new Set()).add(unit));
    const d = Rs.dispatched[r]!,
      c = Rs.cleared[r]!;
    if (d === d && c === c) {
      let b = busy.get(unit);
      if (!b) busy.set(unit, (b = []));
      b.push([d, c, Rs.inc[r]!]);
    }
  }
  const rows = new Map<string, ReliabilityRow>();
  let noArea = 0,
    noArrival = 0;
  for (let i = 0; i < I.n; i++) {
    const area = text(I.station, i);
    if (!area) {
      noArea++;
      continue;
    }
    let best = -1;
    for (const r of byInc[i]!) {
      if (!text(Rs.home, r) || !isCounted(f, r, config)) continue;
      const a = arrivalTime(f, r);
      if (a === a && (best < 0 || a < arrivalTime(f, best))) best = r;
    }
    if (best < 0) {
      noArrival++;
      continue;
    }
    const key = area.replace(/^0+(?=\d)/, '');
    let row = rows.get(key);
    if (!row)
      rows.set(
        key,
        (row = {
          station: key,
          incidents: 0,
          firstDueFirst: 0,
          reliability: null,
          firstDueBusy: 0,
          coveredBy: {},
        }),
      );
    row.incidents++;
    const from = text(Rs.home, best)!;
    if (from === key) {
      row.firstDueFirst++;
      continue;
    }
    row.coveredBy[from] = (row.coveredBy[from] ?? 0) + 1;
    const t = I.received[i]!;
    const own = [...(unitsOf.get(key) ?? [])];
    if (
      own.length &&
      t === t &&
      own.every((u) => (busy.get(u) ?? []).some(([d, c, inc]) => inc !== i && d <= t && t < c))
    )
      row.firstDueBusy++;
  }
  const stations = [...rows.values()]
    .map((r) => ({ ...r, reliability: r.incidents ? r.firstDueFirst / r.incidents : null }))
    .sort((a, b) => a.station.localeCompare(b.station, 'en', { numeric: true }));
  const inc = stations.reduce((a, r) => a + r.incidents, 0),
    first = stations.reduce((a, r) => a + r.firstDueFirst, 0);
  return {
    definition:
      "share of incidents in a station's first-due area where the first-arriving unit with a home station came from that station",
    stations,
    overall: { incidents: inc, firstDueFirst: first, reliability: inc ? first / inc : null },
    excluded: { no_station_area: noArea, no_arrival: noArrival },
  };
}

export interface VolumeResult {
  definition: string;
  incidents: number;
  /** [day of week 0 = Monday][hour 0–23] → incidents */
  hourOfWeek: number[][];
  byDay: { date: string; incidents: number }[];
  byCategory: Record<string, number>;
  excluded: { missing_received: number };
}

export function callVolume(f: Frame): VolumeResult {
  const grid = Array.from({ length: 7 }, () => new Array<number>(24).fill(0));
  const days = new Map<string, number>();
  const byCategory: Record<string, number> = {};
  let missing = 0;
  for (let i = 0; i < f.incidents.n; i++) {
    const category = text(f.incidents.category, i)!;
    byCategory[category] = (byCategory[category] ?? 0) + 1;
    const t = f.incidents.received[i]!;
    if (t !== t) {
      missing++;
      continue;
    }
    const lf = localFields(t, f.timeZone);
    grid[lf.dow]![lf.hour]!++;
    const date = `${lf.year}-${String(lf.month).padStart(2, '0')}-${String(lf.day).padStart(2, '0')}`;
    days.set(date, (days.get(date) ?? 0) + 1);
  }
  return {
    definition: 'incidents by local day of week (Monday first) and hour of call received',
    incidents: f.incidents.n,
    hourOfWeek: grid,
    byDay: [...days].sort().map(([date, incidents]) => ({ date, incidents })),
    byCategory,
    excluded: { missing_received: missing },
  };
}
