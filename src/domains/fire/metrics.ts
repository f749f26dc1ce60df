import { summarizeByGroup, type Summary } from '../../platform/stats.ts';
import { civilFromDays } from '../../platform/time.ts';
import { UserError } from '../../platform/errors.ts';
import type { FireConfig } from './config.ts';
import { NO_DAY, text, type Frame } from './frame.ts';
import {
  objectiveFor,
  SEGMENTS,
  type Objective,
  type Segment,
  type Standard,
} from './standards.ts';

/**
 * Response-time segments (docs/fire-metrics.md §3). A segment value is used only when both stamps exist, it is
 * ≥ 0 and at most the plausibility cap; every other value is counted under its exclusion reason.
 */
export const SEGMENT_DEFINITIONS: Record<Segment, string> = {
  alarmAnswering: 'call created − call received (incident)',
  callProcessing: 'earliest own-agency unit dispatched − call received (incident)',
  turnout: 'en route − dispatched (each own-agency unit response)',
  travel: 'on scene (or staging, where recorded) − en route (each own-agency unit response)',
  totalResponse: 'earliest own-agency unit on scene − call received (incident)',
  firstUnitTurnout: 'turnout of the first-arriving own-agency unit (incident)',
  firstUnitTravel: 'travel of the first-arriving own-agency unit (incident)',
  commitment: 'cleared − dispatched (each own-agency unit response)',
  erf: 'call received → the moment the Nth person arrives, units counted in arrival order (incidents needing an effective response force)',
};

const INCIDENT_LEVEL = new Set<Segment>([
  'alarmAnswering',
  'callProcessing',
  'totalResponse',
  'firstUnitTurnout',
  'firstUnitTravel',
  'erf',
]);

export const EXCLUSION_REASONS = [
  'missing_stamp',
  'negative',
  'over_cap',
  'no_own_unit',
  'other_agency',
  'not_assembled',
] as const;
type Reason = (typeof EXCLUSION_REASONS)[number];
const R: Record<Reason, number> = {
  missing_stamp: 1,
  negative: 2,
  over_cap: 3,
  no_own_unit: 4,
  other_agency: 5,
  not_assembled: 6,
};

export const GROUP_KEYS = [
  'station',
  'unit',
  'unitType',
  'category',
  'priority',
  'hour',
  'dow',
  'day',
  'month',
  'shift',
  'neighborhood',
  'battalion',
] as const;
export type GroupKey = (typeof GROUP_KEYS)[number];

export interface SegmentResult extends Summary {
  excluded: Partial<Record<Reason, number>>;
  /** values with an objective in the chosen standard */
  graded: number;
  /** share of graded values at or under their objective */
  compliance: number | null;
  /** the standard's required share, and whether it was met */
  requiredFraction: number | null;
  pass: boolean | null;
  /** the objective in seconds, or a list when it differs by category or unit type */
  objective: number | string | null;
}

export type SegmentResults = Record<Segment, SegmentResult>;

export interface MetricsGroup extends SegmentResults {
  key: string;
  keys: Partial<Record<GroupKey, string>>;
  incidents: number;
  unitResponses: number;
}

/** Per-entity values of one segment: NaN where excluded, with the reason and the objective. */
interface SegmentColumn {
  level: 'incident' | 'response';
  values: Float64Array;
  reasons: Uint8Array;
  /** entities that take part at all (e.g. ERF only for incidents that need one) */
  applies: Uint8Array | null;
  objective: Float64Array;
  fraction: Float64Array;
  objectiveLabels: Set<string>;
}

/** Per-incident facts every incident-level segment and operation metric needs. */
export interface IncidentFacts {
  firstDispatch: Int32Array;
  firstArrival: Int32Array;
  hasOwn: Uint8Array;
}

export function arrivalTime(f: Frame, r: number): number {
  const s = f.responses.staging[r]!;
  return s === s ? s : f.responses.onScene[r]!;
}

export function isCounted(f: Frame, r: number, config: FireConfig): boolean {
  return config.includeOtherAgencies || f.responses.own[r] === 1;
}

export function incidentFacts(f: Frame, config: FireConfig): IncidentFacts {
  const n = f.incidents.n;
  const firstDispatch = new Int32Array(n).fill(-1);
  const firstArrival = new Int32Array(n).fill(-1);
  const hasOwn = new Uint8Array(n);
  const R_ = f.responses;
  for (let r = 0; r < R_.n; r++) {
    if (!isCounted(f, r, config)) continue;
    const i = R_.inc[r]!;
    hasOwn[i] = 1;
    const d = R_.dispatched[r]!;
    if (d === d && (firstDispatch[i] === -1 || d < R_.dispatched[firstDispatch[i]!]!))
      firstDispatch[i] = r;
    const a = arrivalTime(f, r);
    if (a === a && (firstArrival[i] === -1 || a < arrivalTime(f, firstArrival[i]!)))
      firstArrival[i] = r;
  }
  return { firstDispatch, firstArrival, hasOwn };
}

function interval(from: number, to: number, cap: number): [number, number] {
  if (from !== from || to !== to) return [NaN, R.missing_stamp];
  const d = to - from;
  if (d < 0) return [NaN, R.negative];
  if (d > cap) return [NaN, R.over_cap];
  return [d, 0];
}

/** Writes one interval into a segment column, or its exclusion reason (the hot loop: no allocation). */
function put(c: SegmentColumn, k: number, from: number, to: number, cap: number): void {
  if (from !== from || to !== to) {
    c.reasons[k] = R.missing_stamp;
    return;
  }
  const d = to - from;
  if (d < 0) c.reasons[k] = R.negative;
  else if (d > cap) c.reasons[k] = R.over_cap;
  else c.values[k] = d;
}

interface GradingCtx {
  category: string;
  unitType?: string;
  riskClass: string | null;
  zone: string | null;
}

/** Looks up objectives once per distinct (segment, category, unit type, risk class, zone). */
function grader(standard: Standard) {
  const memo = new Map<string, Objective | null>();
  return (c: SegmentColumn, seg: Segment, k: number, ctx: GradingCtx) => {
    const key = `${seg}|${ctx.category}|${ctx.unitType ?? ''}|${ctx.riskClass ?? ''}|${ctx.zone ?? ''}`;
    let o = memo.get(key);
    if (o === undefined) memo.set(key, (o = objectiveFor(standard, seg, ctx) ?? null));
    if (!o) return;
    c.objective[k] = o.seconds;
    c.fraction[k] = o.fraction;
    c.objectiveLabels.add(
      `${o.seconds}${o.category ? ` ${o.category.join('/')}` : ''}${o.unitTypes ? ` ${o.unitTypes.join('/')}` : ''}`,
    );
  };
}

function segmentColumns(
  f: Frame,
  config: FireConfig,
  standard: Standard | null,
  factsOf: () => IncidentFacts,
  wanted: readonly Segment[],
): Partial<Record<Segment, SegmentColumn>> {
  const I = f.incidents,
    Rs = f.responses;
  const cap = config.caps.default;
  const make = (level: 'incident' | 'response'): SegmentColumn => {
    const n = level === 'incident' ? I.n : Rs.n;
    const graded = standard ? n : 0; // grading arrays only when a standard is asked for
    return {
      level,
      values: new Float64Array(n).fill(NaN),
      reasons: new Uint8Array(n),
      applies: null,
      objective: new Float64Array(graded).fill(NaN),
      fraction: new Float64Array(graded).fill(NaN),
      objectiveLabels: new Set(),
    };
  };
  const cols: Partial<Record<Segment, SegmentColumn>> = Object.fromEntries(
    wanted.map((s) => [s, make(INCIDENT_LEVEL.has(s) ? 'incident' : 'response')]),
  );
  const incidentSegs = wanted.filter((s) => INCIDENT_LEVEL.has(s) && s !== 'erf');
  if (incidentSegs.length) {
    const facts = factsOf();
    for (let i = 0; i < I.n; i++) {
      const rec = I.received[i]!;
      const fd = facts.firstDispatch[i]!,
        fa = facts.firstArrival[i]!;
      const own = facts.hasOwn[i] === 1;
      for (const seg of incidentSegs) {
        const c = cols[seg]!;
        if (seg !== 'alarmAnswering' && !own) {
          c.reasons[i] = R.no_own_unit;
          continue;
        }
        switch (seg) {
          case 'alarmAnswering':
            put(c, i, rec, I.created[i]!, cap);
            break;
          case 'callProcessing':
            put(c, i, rec, fd >= 0 ? Rs.dispatched[fd]! : NaN, cap);
            break;
          case 'totalResponse':
            put(c, i, rec, fa >= 0 ? arrivalTime(f, fa) : NaN, cap);
            break;
          case 'firstUnitTurnout':
            put(c, i, fa >= 0 ? Rs.dispatched[fa]! : NaN, fa >= 0 ? Rs.enroute[fa]! : NaN, cap);
            break;
          case 'firstUnitTravel':
            put(c, i, fa >= 0 ? Rs.enroute[fa]! : NaN, fa >= 0 ? arrivalTime(f, fa) : NaN, cap);
            break;
        }
      }
    }
  }
  const turnout = cols.turnout,
    travel = cols.travel,
    commitment = cols.commitment;
  if (turnout || travel || commitment) {
    const { own, dispatched, enroute, staging, onScene, cleared } = Rs;
    const all = config.includeOtherAgencies,
      capC = config.caps.commitment;
    for (let r = 0; r < Rs.n; r++) {
      if (!all && own[r] !== 1) {
        if (turnout) turnout.reasons[r] = R.other_agency;
        if (travel) travel.reasons[r] = R.other_agency;
        if (commitment) commitment.reasons[r] = R.other_agency;
        continue;
      }
      const d = dispatched[r]!,
        e = enroute[r]!;
      if (turnout) put(turnout, r, d, e, cap);
      if (travel) {
        const st = staging[r]!;
        put(travel, r, e, st === st ? st : onScene[r]!, cap);
      }
      if (commitment) put(commitment, r, d, cleared[r]!, capC);
    }
  }
  if (cols.erf) {
    const erf = cols.erf;
    const pattern = new RegExp(config.erf.incidentTypePattern, 'i');
    const needsErf = I.type.labels.map((l) => l !== null && pattern.test(l)); // tested once per distinct type
    erf.applies = new Uint8Array(I.n);
    const byIncident = responsesByIncident(f);
    for (let i = 0; i < I.n; i++) {
      if (!needsErf[I.type.codes[i]!]) continue;
      erf.applies[i] = 1;
      const [v, reason] = erfAssembly(f, config, i, byIncident[i]!);
      erf.values[i] = v;
      erf.reasons[i] = reason;
    }
  }
  if (standard) {
    const grade = grader(standard);
    for (const seg of wanted) {
      const c = cols[seg]!;
      for (let k = 0; k < c.values.length; k++) {
        if (c.values[k]! !== c.values[k]!) continue;
        if (c.level === 'incident') {
          const fa = factsOf().firstArrival[k]!;
          grade(c, seg, k, {
            category: text(I.category, k)!,
            riskClass: text(I.riskClass, k),
            zone: text(I.zone, k),
            unitType: seg.startsWith('firstUnit') && fa >= 0 ? text(Rs.unitType, fa)! : undefined,
          });
        } else {
          const i = Rs.inc[k]!;
          grade(c, seg, k, {
            category: text(I.category, i)!,
            unitType: text(Rs.unitType, k)!,
            riskClass: text(I.riskClass, i),
            zone: text(I.zone, i),
          });
        }
      }
    }
  }
  return cols;
}

/** Staffing of a response: the source's, else the configured default for its unit type. */
export function staffingOf(f: Frame, r: number, config: FireConfig): number {
  const s = f.responses.staffing[r]!;
  return s === s
    ? s
    : (config.staffing[text(f.responses.unitType, r) as keyof FireConfig['staffing']] ?? 0);
}

/**
 * ERF assembly: own units in arrival order, cumulative staffing; the time the configured number of
 * persons is reached, from call received.
 */
export function erfAssembly(
  f: Frame,
  config: FireConfig,
  i: number,
  responsesOf: number[],
): [number, number] {
  const rec = f.incidents.received[i]!;
  if (rec !== rec) return [NaN, R.missing_stamp];
  const arrivals = responsesOf
    .filter((r) => isCounted(f, r, config) && arrivalTime(f, r) === arrivalTime(f, r))
    .sort((a, b) => arrivalTime(f, a) - arrivalTime(f, b));
  let persons = 0;
  for (const r of arrivals) {
    persons += staffingOf(f, r, config);
    if (persons >= config.erf.persons) return interval(rec, arrivalTime(f, r), config.caps.default);
  }
  return [NaN, R.not_assembled];
}

export function responsesByIncident(f: Frame): number[][] {
  const out: number[][] = Array.from({ length: f.incidents.n }, () => []);
  for (let r = 0; r < f.responses.n; r++) out[f.responses.inc[r]!]!.push(r);
  return out;
}

const DOW = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];

/** Index into the rotation pattern of the shift on duty at a local day and second of day. */
function shiftIndex(localDay: number, localSecond: number, config: FireConfig): number {
  const [y, m, d] = config.shifts.anchor.split('-').map(Number);
  const anchorDay = Math.floor(Date.UTC(y!, m! - 1, d!) / 86400000);
  const [hh, mm] = config.shifts.changeTime.split(':').map(Number);
  const dayIndex = localDay - anchorDay - (localSecond < hh! * 3600 + mm! * 60 ? 1 : 0);
  const n = config.shifts.pattern.length;
  return ((dayIndex % n) + n) % n;
}

/** Integer codes of one grouping key for every incident and response; codes are ranks in `labels`. */
interface KeyCodes {
  inc: Int32Array;
  /** per response; null where each response takes its incident's code (every key but unit and unit type) */
  resp: Int32Array | null;
  labels: string[];
}

/** Re-numbers codes so that they follow the key's natural order. */
function sorted(
  key: GroupKey,
  codes: Int32Array[],
  labels: string[],
): { codes: Int32Array[]; labels: string[] } {
  const order = sortKeys(key, [...labels]);
  const rank = new Int32Array(labels.length);
  const pos = new Map(order.map((l, k) => [l, k]));
  labels.forEach((l, k) => {
    rank[k] = pos.get(l)!;
  });
  return {
    codes: codes.map((c) => {
      const out = new Int32Array(c.length);
      for (let k = 0; k < c.length; k++) out[k] = rank[c[k]!]!;
      return out;
    }),
    labels: order,
  };
}

/** Codes of a calendar key computed once per distinct local day (few) and looked up per incident. */
function byDay(f: Frame, label: (day: number) => string): { codes: Int32Array; labels: string[] } {
  const days = f.derived.localDay;
  let lo = Infinity,
    hi = -Infinity;
  for (const d of days)
    if (d !== NO_DAY) {
      if (d < lo) lo = d;
      if (d > hi) hi = d;
    }
  const index = new Map<string, number>([['unknown', 0]]);
  const labels = ['unknown'];
  const perDay = new Int32Array(lo <= hi ? hi - lo + 1 : 0);
  for (let d = lo; d <= hi; d++) {
    const l = label(d);
    let c = index.get(l);
    if (c === undefined) {
      index.set(l, (c = labels.length));
      labels.push(l);
    }
    perDay[d - lo] = c;
  }
  const codes = new Int32Array(days.length);
  for (let i = 0; i < days.length; i++) codes[i] = days[i] === NO_DAY ? 0 : perDay[days[i]! - lo]!;
  return { codes, labels };
}

function keyCodes(
  f: Frame,
  key: GroupKey,
  config: FireConfig,
  factsOf: () => IncidentFacts,
): KeyCodes {
  const I = f.incidents,
    Rs = f.responses,
    D = f.derived;
  if (key === 'unit' || key === 'unitType') {
    const resp = { codes: Rs[key].codes, labels: Rs[key].labels.map((l) => l ?? 'unknown') };
    const none = resp.labels.length;
    // incident-level figures are credited to the first-arriving unit, else the first dispatched
    const facts = factsOf();
    const inc = new Int32Array(I.n);
    let usedNone = false;
    for (let i = 0; i < I.n; i++) {
      const r = facts.firstArrival[i]! >= 0 ? facts.firstArrival[i]! : facts.firstDispatch[i]!;
      if (r >= 0) inc[i] = resp.codes[r]!;
      else {
        inc[i] = none;
        usedNone = true;
      }
    }
    const labels = usedNone ? [...resp.labels, 'none'] : resp.labels;
    const s = sorted(key, [inc, resp.codes], labels);
    return { inc: s.codes[0]!, resp: s.codes[1]!, labels: s.labels };
  }
  let inc: { codes: Int32Array; labels: string[] };
  switch (key) {
    case 'station':
    case 'category':
    case 'priority':
    case 'neighborhood':
    case 'battalion':
      inc = { codes: I[key].codes, labels: I[key].labels.map((l) => l ?? 'unknown') };
      break;
    case 'month':
      inc = byDay(f, (d) => {
        const c = civilFromDays(d);
        return `${c.y}-${String(c.m).padStart(2, '0')}`;
      });
      break;
    case 'dow':
      inc = byDay(f, (d) => DOW[(((d + 3) % 7) + 7) % 7]!);
      break;
    case 'day':
      inc = byDay(f, (d) => {
        const c = civilFromDays(d);
        return `${c.y}-${String(c.m).padStart(2, '0')}-${String(c.d).padStart(2, '0')}`;
      });
      break;
    case 'hour': {
      const codes = new Int32Array(I.n);
      for (let i = 0; i < I.n; i++)
        codes[i] = D.localSecond[i]! < 0 ? 24 : Math.floor(D.localSecond[i]! / 3600);
      inc = { codes, labels: [...Array.from({ length: 24 }, (_, h) => String(h)), 'unknown'] };
      break;
    }
    case 'shift': {
      const p = config.shifts.pattern.toUpperCase();
      const codes = new Int32Array(I.n);
      for (let i = 0; i < I.n; i++)
        codes[i] =
          D.localDay[i] === NO_DAY
            ? p.length
            : shiftIndex(D.localDay[i]!, D.localSecond[i]!, config);
      inc = { codes, labels: [...p.split(''), 'unknown'] };
      break;
    }
  }
  const s = sorted(key, [inc.codes], inc.labels);
  return { inc: s.codes[0]!, resp: null, labels: s.labels };
}

function sortKeys(key: GroupKey, keys: string[]): string[] {
  if (key === 'dow') return keys.sort((a, b) => DOW.indexOf(a) - DOW.indexOf(b));
  return keys.sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
}

const REASON_NAMES = Object.keys(R) as Reason[];

function resultsFor(col: SegmentColumn, groups: Int32Array, groupCount: number): SegmentResult[] {
  const summaries = summarizeByGroup(groups, col.values, groupCount);
  const reasons = new Int32Array(groupCount * 8);
  const graded = new Int32Array(groupCount);
  const met = new Int32Array(groupCount);
  const worstFraction = new Float64Array(groupCount);
  const { values, reasons: why, applies, objective, fraction } = col;
  const n = values.length;
  for (let k = 0; k < n; k++) {
    const v = values[k]!;
    if (v !== v && (applies === null || applies[k] === 1)) reasons[groups[k]! * 8 + why[k]!]!++;
  }
  if (col.objectiveLabels.size > 0) {
    for (let k = 0; k < n; k++) {
      const v = values[k]!,
        o = objective[k]!;
      if (v !== v || o !== o) continue;
      const g = groups[k]!;
      graded[g]!++;
      if (v <= o) met[g]!++;
      if (fraction[k]! > worstFraction[g]!) worstFraction[g] = fraction[k]!;
    }
  }
  const label =
    col.objectiveLabels.size === 0
      ? null
      : col.objectiveLabels.size === 1
        ? Number([...col.objectiveLabels][0]!.split(' ')[0])
        : [...col.objectiveLabels].join('; ');
  return summaries.map((s, g) => {
    const excluded: SegmentResult['excluded'] = {};
    for (let reason = 1; reason < 8; reason++) {
      const c = reasons[g * 8 + reason]!;
      if (c) excluded[REASON_NAMES[reason - 1]!] = c;
    }
    const compliance = graded[g]! > 0 ? met[g]! / graded[g]! : null;
    const requiredFraction = graded[g]! > 0 ? worstFraction[g]! : null;
    return {
      ...s,
      excluded,
      graded: graded[g]!,
      compliance,
      requiredFraction,
      pass: compliance === null ? null : compliance >= requiredFraction!,
      objective: label,
    };
  });
}

export interface MetricsResult {
  standard: { id: string; name: string } | null;
  incidents: number;
  unitResponses: number;
  segments: SegmentResults;
}

export interface GroupedMetricsResult {
  standard: { id: string; name: string } | null;
  by: string;
  groups: MetricsGroup[];
}

/** Group ids of incidents and responses for one or more keys, groups in natural order of the keys. */
function groupCodes(
  f: Frame,
  keys: readonly GroupKey[],
  config: FireConfig,
  facts: () => IncidentFacts,
) {
  const parts = keys.map((k) => keyCodes(f, k, config, facts));
  const total = parts.reduce((a, kc) => a * kc.labels.length, 1);
  if (total > 5e7)
    throw new UserError(
      `Grouping by ${keys.join(', ')} makes ${total} combinations; group by fewer or coarser keys.`,
    );
  // combined codes: incidents first; responses by their own codes only where a key has them
  const I = f.incidents,
    Rs = f.responses;
  const gi = new Int32Array(I.n);
  for (const kc of parts) {
    const c = kc.inc,
      m = kc.labels.length;
    for (let k = 0; k < I.n; k++) gi[k] = gi[k]! * m + c[k]!;
  }
  let gr: Int32Array | null = null;
  if (parts.some((kc) => kc.resp !== null)) {
    gr = new Int32Array(Rs.n);
    for (const kc of parts) {
      const m = kc.labels.length;
      if (kc.resp) {
        const c = kc.resp;
        for (let k = 0; k < Rs.n; k++) gr[k] = gr[k]! * m + c[k]!;
      } else {
        const c = kc.inc,
          inc = Rs.inc;
        for (let k = 0; k < Rs.n; k++) gr[k] = gr[k]! * m + c[inc[k]!]!;
      }
    }
  }
  // compact the combinations that occur, keeping their order (a dense table: combinations are few)
  const seen = new Int32Array(total).fill(-1);
  for (const g of gr ? [gi, gr] : [gi]) for (let k = 0; k < g.length; k++) seen[g[k]!] = 0;
  const present: number[] = [];
  for (let c = 0; c < total; c++)
    if (seen[c] === 0) {
      seen[c] = present.length;
      present.push(c);
    }
  const toIds = (g: Int32Array) => {
    const out = new Int32Array(g.length);
    for (let k = 0; k < g.length; k++) out[k] = seen[g[k]!]!;
    return out;
  };
  const giIds = toIds(gi);
  let grIds: Int32Array;
  if (gr) grIds = toIds(gr);
  else {
    grIds = new Int32Array(Rs.n);
    const inc = Rs.inc;
    for (let k = 0; k < Rs.n; k++) grIds[k] = giIds[inc[k]!]!;
  }
  const labels = present.map((c) => {
    const out: string[] = [];
    for (let k = parts.length - 1; k >= 0; k--) {
      const m = parts[k]!.labels.length;
      out.unshift(parts[k]!.labels[c % m]!);
      c = Math.floor(c / m);
    }
    return out;
  });
  return { gi: giIds, gr: grIds, labels };
}

/**
 * The requested segments over the frame, whole or per group of one or more keys. Without a
 * standard, no grading is done (faster for pure percentile queries).
 */
export function computeMetrics(
  f: Frame,
  config: FireConfig,
  standard: Standard | null,
): MetricsResult;
export function computeMetrics(
  f: Frame,
  config: FireConfig,
  standard: Standard | null,
  by: readonly GroupKey[],
  segments?: readonly Segment[],
): GroupedMetricsResult;
export function computeMetrics(
  f: Frame,
  config: FireConfig,
  standard: Standard | null,
  by?: readonly GroupKey[],
  segments: readonly Segment[] = SEGMENTS,
): MetricsResult | GroupedMetricsResult {
  let facts: IncidentFacts | null = null;
  const factsOf = () => (facts ??= incidentFacts(f, config)); // only incident-level figures and unit keys need them
  const cols = segmentColumns(f, config, standard, factsOf, segments);
  const std = standard ? { id: standard.id, name: standard.name } : null;
  if (!by || by.length === 0) {
    // without `segments` (the only way this overload is called) every segment is computed
    const seg = Object.fromEntries(
      segments.map((s) => [s, resultsFor(cols[s]!, new Int32Array(cols[s]!.values.length), 1)[0]!]),
    ) as SegmentResults;
    return { standard: std, incidents: f.incidents.n, unitResponses: f.responses.n, segments: seg };
  }
  const { gi, gr, labels } = groupCodes(f, by, config, factsOf);
  const per = Object.fromEntries(
    segments.map((s) => [
      s,
      resultsFor(cols[s]!, cols[s]!.level === 'incident' ? gi : gr, labels.length),
    ]),
  ) as Record<Segment, SegmentResult[]>;
  const incCount = new Int32Array(labels.length),
    respCount = new Int32Array(labels.length);
  for (let k = 0; k < gi.length; k++) incCount[gi[k]!]!++; // indexed: for-of over typed arrays is several times slower
  for (let k = 0; k < gr.length; k++) respCount[gr[k]!]!++;
  const groups = labels.map((parts, g) => ({
    key: parts.join(' / '),
    keys: Object.fromEntries(by.map((k, j) => [k, parts[j]!])),
    incidents: incCount[g]!,
    unitResponses: respCount[g]!,
    ...Object.fromEntries(segments.map((s) => [s, per[s][g]!])),
  })) as MetricsGroup[];
  return { standard: std, by: by.join(','), groups };
}

/**
 * The ERF curve: of the incidents that need an effective response force, the share assembled
 * within each minute after the call (from the same assembly times as the erf segment).
 */
export function erfCurve(
  f: Frame,
  config: FireConfig,
): {
  persons: number;
  incidents: number;
  assembled: number;
  minutes: { minute: number; share: number }[];
} {
  const pattern = new RegExp(config.erf.incidentTypePattern, 'i');
  const needsErf = f.incidents.type.labels.map((l) => l !== null && pattern.test(l));
  const byIncident = responsesByIncident(f);
  const times: number[] = [];
  let incidents = 0;
  for (let i = 0; i < f.incidents.n; i++) {
    if (!needsErf[f.incidents.type.codes[i]!]) continue;
    incidents++;
    const [v] = erfAssembly(f, config, i, byIncident[i]!);
    if (v === v) times.push(v);
  }
  times.sort((a, b) => a - b);
  const last = Math.ceil((times[times.length - 1] ?? 0) / 60);
  const minutes = Array.from({ length: last + 1 }, (_, m) => ({
    minute: m,
    share: incidents ? times.filter((t) => t <= m * 60).length / incidents : 0,
  }));
  return { persons: config.erf.persons, incidents, assembled: times.length, minutes };
}
