import { summarizeByGroup, type Summary } from '../core/stats.ts';
import { localFields } from '../core/time.ts';
import type { FireConfig } from './config.ts';
import type { Frame } from './frame.ts';
import { objectiveFor, SEGMENTS, type Objective, type Segment, type Standard } from './standards.ts';

/**
 * Response-time segments (fire.md §3). A segment value is used only when both stamps exist, it is
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

const INCIDENT_LEVEL = new Set<Segment>(['alarmAnswering', 'callProcessing', 'totalResponse', 'firstUnitTurnout', 'firstUnitTravel', 'erf']);

export const EXCLUSION_REASONS = ['missing_stamp', 'negative', 'over_cap', 'no_own_unit', 'other_agency', 'not_assembled'] as const;
type Reason = (typeof EXCLUSION_REASONS)[number];
const R: Record<Reason, number> = { missing_stamp: 1, negative: 2, over_cap: 3, no_own_unit: 4, other_agency: 5, not_assembled: 6 };

export const GROUP_KEYS = ['station', 'unit', 'unitType', 'category', 'priority', 'hour', 'dow', 'month', 'shift', 'neighborhood', 'battalion'] as const;
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
    if (d === d && (firstDispatch[i] === -1 || d < R_.dispatched[firstDispatch[i]!]!)) firstDispatch[i] = r;
    const a = arrivalTime(f, r);
    if (a === a && (firstArrival[i] === -1 || a < arrivalTime(f, firstArrival[i]!))) firstArrival[i] = r;
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
  if (from !== from || to !== to) { c.reasons[k] = R.missing_stamp; return; }
  const d = to - from;
  if (d < 0) c.reasons[k] = R.negative;
  else if (d > cap) c.reasons[k] = R.over_cap;
  else c.values[k] = d;
}

interface GradingCtx { category: string; unitType?: string; riskClass: string | null; zone: string | null }

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
    c.objectiveLabels.add(`${o.seconds}${o.category ? ` ${o.category.join('/')}` : ''}${o.unitTypes ? ` ${o.unitTypes.join('/')}` : ''}`);
  };
}

function segmentColumns(f: Frame, config: FireConfig, standard: Standard | null, facts: IncidentFacts, wanted: readonly Segment[]): Partial<Record<Segment, SegmentColumn>> {
  const I = f.incidents, Rs = f.responses;
  const cap = config.caps.default;
  const make = (level: 'incident' | 'response'): SegmentColumn => {
    const n = level === 'incident' ? I.n : Rs.n;
    return { level, values: new Float64Array(n).fill(NaN), reasons: new Uint8Array(n), applies: null,
      objective: new Float64Array(n).fill(NaN), fraction: new Float64Array(n).fill(NaN), objectiveLabels: new Set() };
  };
  const cols: Partial<Record<Segment, SegmentColumn>> = Object.fromEntries(wanted.map((s) => [s, make(INCIDENT_LEVEL.has(s) ? 'incident' : 'response')]));
  const incidentSegs = wanted.filter((s) => INCIDENT_LEVEL.has(s) && s !== 'erf');
  if (incidentSegs.length) {
    for (let i = 0; i < I.n; i++) {
      const rec = I.received[i]!;
      const fd = facts.firstDispatch[i]!, fa = facts.firstArrival[i]!;
      const own = facts.hasOwn[i] === 1;
      for (const seg of incidentSegs) {
        const c = cols[seg]!;
        if (seg !== 'alarmAnswering' && !own) { c.reasons[i] = R.no_own_unit; continue; }
        switch (seg) {
          case 'alarmAnswering': put(c, i, rec, I.created[i]!, cap); break;
          case 'callProcessing': put(c, i, rec, fd >= 0 ? Rs.dispatched[fd]! : NaN, cap); break;
          case 'totalResponse': put(c, i, rec, fa >= 0 ? arrivalTime(f, fa) : NaN, cap); break;
          case 'firstUnitTurnout': put(c, i, fa >= 0 ? Rs.dispatched[fa]! : NaN, fa >= 0 ? Rs.enroute[fa]! : NaN, cap); break;
          case 'firstUnitTravel': put(c, i, fa >= 0 ? Rs.enroute[fa]! : NaN, fa >= 0 ? arrivalTime(f, fa) : NaN, cap); break;
        }
      }
    }
  }
  const responseSegs = wanted.filter((s) => !INCIDENT_LEVEL.has(s));
  if (responseSegs.length) {
    for (let r = 0; r < Rs.n; r++) {
      if (!isCounted(f, r, config)) {
        for (const seg of responseSegs) cols[seg]!.reasons[r] = R.other_agency;
        continue;
      }
      for (const seg of responseSegs) {
        const c = cols[seg]!;
        if (seg === 'turnout') put(c, r, Rs.dispatched[r]!, Rs.enroute[r]!, cap);
        else if (seg === 'travel') put(c, r, Rs.enroute[r]!, arrivalTime(f, r), cap);
        else put(c, r, Rs.dispatched[r]!, Rs.cleared[r]!, config.caps.commitment);
      }
    }
  }
  if (cols.erf) {
    const erf = cols.erf;
    const pattern = new RegExp(config.erf.incidentTypePattern, 'i');
    erf.applies = new Uint8Array(I.n);
    const byIncident = responsesByIncident(f);
    for (let i = 0; i < I.n; i++) {
      if (!I.type[i] || !pattern.test(I.type[i]!)) continue;
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
          const fa = facts.firstArrival[k]!;
          grade(c, seg, k, { category: I.category[k]!, riskClass: I.riskClass[k] ?? null, zone: I.zone[k] ?? null,
            unitType: seg.startsWith('firstUnit') && fa >= 0 ? Rs.unitType[fa]! : undefined });
        } else {
          const i = Rs.inc[k]!;
          grade(c, seg, k, { category: I.category[i]!, unitType: Rs.unitType[k]!, riskClass: I.riskClass[i] ?? null, zone: I.zone[i] ?? null });
        }
      }
    }
  }
  return cols;
}

/** Staffing of a response: the source's, else the configured default for its unit type. */
export function staffingOf(f: Frame, r: number, config: FireConfig): number {
  const s = f.responses.staffing[r]!;
  return s === s ? s : (config.staffing[f.responses.unitType[r] as keyof FireConfig['staffing']] ?? 0);
}

/**
 * ERF assembly: own units in arrival order, cumulative staffing; the time the configured number of
 * persons is reached, from call received.
 */
export function erfAssembly(f: Frame, config: FireConfig, i: number, responsesOf: number[]): [number, number] {
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

/** The shift letter on duty at an instant, from the configured rotation. */
export function shiftAt(t: number, config: FireConfig): string {
  if (t !== t) return 'unknown';
  const lf = localFields(t, config.timeZone);
  const [y, m, d] = config.shifts.anchor.split('-').map(Number);
  const anchorDay = Math.floor(Date.UTC(y!, m! - 1, d!) / 86400000);
  const [hh, mm] = config.shifts.changeTime.split(':').map(Number);
  const dayIndex = lf.localDay - anchorDay - (lf.secondOfDay < hh! * 3600 + mm! * 60 ? 1 : 0);
  const p = config.shifts.pattern;
  return p[((dayIndex % p.length) + p.length) % p.length]!.toUpperCase();
}

/** The group label of each incident for a key. */
export function incidentKeys(f: Frame, key: GroupKey, config: FireConfig, facts: IncidentFacts): string[] {
  const I = f.incidents;
  const out: string[] = new Array(I.n);
  for (let i = 0; i < I.n; i++) {
    const t = I.received[i]!;
    const lf = t === t ? localFields(t, f.timeZone) : null;
    switch (key) {
      case 'station': out[i] = I.station[i] ?? 'unknown'; break;
      case 'category': out[i] = I.category[i]!; break;
      case 'priority': out[i] = I.priority[i] ?? 'unknown'; break;
      case 'neighborhood': out[i] = I.neighborhood[i] ?? 'unknown'; break;
      case 'battalion': out[i] = I.battalion[i] ?? 'unknown'; break;
      case 'hour': out[i] = lf ? String(lf.hour) : 'unknown'; break;
      case 'dow': out[i] = lf ? DOW[lf.dow]! : 'unknown'; break;
      case 'month': out[i] = lf ? `${lf.year}-${String(lf.month).padStart(2, '0')}` : 'unknown'; break;
      case 'shift': out[i] = shiftAt(t, config); break;
      case 'unit': case 'unitType': {
        // incident-level figures are credited to the first-arriving unit, else the first dispatched
        const r = facts.firstArrival[i]! >= 0 ? facts.firstArrival[i]! : facts.firstDispatch[i]!;
        out[i] = r >= 0 ? (key === 'unit' ? f.responses.unit[r]! : f.responses.unitType[r]!) : 'none';
        break;
      }
    }
  }
  return out;
}

function responseKeys(f: Frame, key: GroupKey, incKeys: string[]): string[] {
  const Rs = f.responses;
  const out: string[] = new Array(Rs.n);
  for (let r = 0; r < Rs.n; r++) {
    out[r] = key === 'unit' ? Rs.unit[r]! : key === 'unitType' ? Rs.unitType[r]! : incKeys[Rs.inc[r]!]!;
  }
  return out;
}

function sortKeys(key: GroupKey, keys: string[]): string[] {
  if (key === 'dow') return keys.sort((a, b) => DOW.indexOf(a) - DOW.indexOf(b));
  return keys.sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
}

function encode(labels: string[], order: string[]): Int32Array {
  const idx = new Map(order.map((k, i) => [k, i]));
  const out = new Int32Array(labels.length);
  for (let i = 0; i < labels.length; i++) out[i] = idx.get(labels[i]!)!;
  return out;
}

function resultsFor(col: SegmentColumn, groups: Int32Array, groupCount: number): SegmentResult[] {
  const summaries = summarizeByGroup(groups, col.values, groupCount);
  const out: SegmentResult[] = summaries.map((s) => ({ ...s, excluded: {}, graded: 0, compliance: null, requiredFraction: null, pass: null, objective: null }));
  const met = new Float64Array(groupCount);
  const worstFraction = new Float64Array(groupCount);
  const names = Object.keys(R) as Reason[];
  for (let k = 0; k < col.values.length; k++) {
    if (col.applies && !col.applies[k]) continue;
    const g = groups[k]!;
    const v = col.values[k]!;
    if (v !== v) {
      const reason = col.reasons[k]!;
      if (reason) { const name = names[reason - 1]!; out[g]!.excluded[name] = (out[g]!.excluded[name] ?? 0) + 1; }
      continue;
    }
    const o = col.objective[k]!;
    if (o === o) {
      out[g]!.graded++;
      if (v <= o) met[g]!++;
      worstFraction[g] = Math.max(worstFraction[g]!, col.fraction[k]!);
    }
  }
  const label = col.objectiveLabels.size === 0 ? null : col.objectiveLabels.size === 1 ? Number([...col.objectiveLabels][0]!.split(' ')[0]) : [...col.objectiveLabels].join('; ');
  for (let g = 0; g < groupCount; g++) {
    const res = out[g]!;
    res.objective = label;
    if (res.graded > 0) {
      res.compliance = met[g]! / res.graded;
      res.requiredFraction = worstFraction[g]!;
      res.pass = res.compliance >= res.requiredFraction;
    }
  }
  return out;
}

export interface MetricsResult {
  standard: { id: string; name: string } | null;
  incidents: number;
  unitResponses: number;
  segments: Partial<SegmentResults>;
}

export interface GroupedMetricsResult {
  standard: { id: string; name: string } | null;
  by: string;
  groups: MetricsGroup[];
}

/** Group ids of incidents and responses for one or more keys, groups in natural order of the keys. */
function groupCodes(f: Frame, keys: readonly GroupKey[], config: FireConfig, facts: IncidentFacts) {
  let gi = new Float64Array(f.incidents.n), gr = new Float64Array(f.responses.n);
  const orders: string[][] = [];
  for (const key of keys) {
    const incLabels = incidentKeys(f, key, config, facts);
    const respLabels = responseKeys(f, key, incLabels);
    const order = sortKeys(key, [...new Set([...incLabels, ...respLabels])]);
    orders.push(order);
    const ci = encode(incLabels, order), cr = encode(respLabels, order);
    for (let i = 0; i < gi.length; i++) gi[i] = gi[i]! * order.length + ci[i]!;
    for (let r = 0; r < gr.length; r++) gr[r] = gr[r]! * order.length + cr[r]!;
  }
  // compact the combinations that occur, keeping their order
  const present = [...new Set([...gi, ...gr])].sort((x, y) => x - y);
  const index = new Map(present.map((c, k) => [c, k]));
  const labels = present.map((c) => {
    const parts: string[] = [];
    for (let k = orders.length - 1; k >= 0; k--) {
      const n = orders[k]!.length;
      parts.unshift(orders[k]![c % n]!);
      c = Math.floor(c / n);
    }
    return parts;
  });
  const toIds = (g: Float64Array) => { const out = new Int32Array(g.length); for (let k = 0; k < g.length; k++) out[k] = index.get(g[k]!)!; return out; };
  const out = { gi: toIds(gi), gr: toIds(gr), labels };
  gi = gr = new Float64Array(0);
  return out;
}

/**
 * The requested segments over the frame, whole or per group of one or more keys. Without a
 * standard, no grading is done (faster for pure percentile queries).
 */
export function computeMetrics(f: Frame, config: FireConfig, standard: Standard | null): MetricsResult;
export function computeMetrics(f: Frame, config: FireConfig, standard: Standard | null, by: readonly GroupKey[], segments?: readonly Segment[]): GroupedMetricsResult;
export function computeMetrics(f: Frame, config: FireConfig, standard: Standard | null, by?: readonly GroupKey[], segments: readonly Segment[] = SEGMENTS): MetricsResult | GroupedMetricsResult {
  const facts = incidentFacts(f, config);
  const cols = segmentColumns(f, config, standard, facts, segments);
  const std = standard ? { id: standard.id, name: standard.name } : null;
  if (!by || by.length === 0) {
    const seg = Object.fromEntries(segments.map((s) => [s, resultsFor(cols[s]!, new Int32Array(cols[s]!.values.length), 1)[0]!]));
    return { standard: std, incidents: f.incidents.n, unitResponses: f.responses.n, segments: seg };
  }
  const { gi, gr, labels } = groupCodes(f, by, config, facts);
  const per = Object.fromEntries(segments.map((s) => [s, resultsFor(cols[s]!, cols[s]!.level === 'incident' ? gi : gr, labels.length)])) as Record<Segment, SegmentResult[]>;
  const incCount = new Int32Array(labels.length), respCount = new Int32Array(labels.length);
  for (const g of gi) incCount[g]!++;
  for (const g of gr) respCount[g]!++;
  const groups = labels.map((parts, g) => ({
    key: parts.join(' / '),
    keys: Object.fromEntries(by.map((k, j) => [k, parts[j]!])),
    incidents: incCount[g]!, unitResponses: respCount[g]!,
    ...Object.fromEntries(segments.map((s) => [s, per[s][g]!])),
  })) as MetricsGroup[];
  return { standard: std, by: by.join(','), groups };
}
