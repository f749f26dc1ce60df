import { binomialTestTwoSided, poissonInterval } from '../../platform/distributions.ts';
import { isKA, ksiPeople, type Crash } from './crashes.ts';

/**
 * Progress to an injury-reduction target (docs/collisions.md §9). The baseline is one year or the mean of
 * the 3 or 5 years ending with the baseline year; the target is B × (1 − reduction); the glide path
 * falls linearly from B in the baseline year to the target in the target year. Every count carries an
 * exact Poisson (Garwood) 95% interval, and the latest 12 months are compared with the baseline period
 * by the exact conditional test: given the total, the recent count is Binomial(total, t_A/(t_A + t_B)).
 */
export type TargetMetric = 'injury' | 'ka' | 'ksi' | 'crashes';
export const METRIC_LABEL: Record<TargetMetric, string> = {
  injury: 'injury crashes (K, A, B, C)',
  ka: 'fatal and serious-injury crashes (K, A)',
  ksi: 'people killed or seriously injured',
  crashes: 'all crashes',
};

export interface TargetOptions {
  metric: TargetMetric;
  baselineYear?: number;
  baselineYears: 1 | 3 | 5;
  reduction: number;
  targetYear?: number;
}

const value = (c: Crash, m: TargetMetric) =>
  m === 'ksi'
    ? ksiPeople(c)
    : m === 'ka'
      ? isKA(c)
        ? 1
        : 0
      : m === 'injury'
        ? c.severity === 'O'
          ? 0
          : 1
        : 1;

const monthKey = (y: number, m: number) => `${y}-${String(m).padStart(2, '0')}`;

export function targetProgress(crashes: Crash[], o: TargetOptions) {
  if (!crashes.length) return null;
  const monthly = new Map<string, number>();
  for (const c of crashes) {
    const k = monthKey(c.year, c.month);
    monthly.set(k, (monthly.get(k) ?? 0) + value(c, o.metric));
  }
  const first = crashes[0]!,
    last = crashes[crashes.length - 1]!;
  const months: { month: string; value: number; rolling12: number | null }[] = [];
  const window: number[] = [];
  for (
    let y = first.year, m = first.month;
    y < last.year || (y === last.year && m <= last.month);
    m === 12 ? (y++, (m = 1)) : m++
  ) {
    const v = monthly.get(monthKey(y, m)) ?? 0;
    window.push(v);
    if (window.length > 12) window.shift();
    months.push({
      month: monthKey(y, m),
      value: v,
      rolling12: window.length === 12 ? window.reduce((a, b) => a + b, 0) : null,
    });
  }
  // a year counts as complete when the data runs into its December
  const lastComplete = last.month === 12 ? last.year : last.year - 1;
  const yearly = new Map<number, number>();
  for (const c of crashes) yearly.set(c.year, (yearly.get(c.year) ?? 0) + value(c, o.metric));
  const firstComplete = first.month === 1 ? first.year : first.year + 1;
  const baselineYear = o.baselineYear ?? firstComplete + o.baselineYears - 1;
  const baseYears = Array.from(
    { length: o.baselineYears },
    (_, i) => baselineYear - o.baselineYears + 1 + i,
  );
  const missing = baseYears.filter((y) => y < firstComplete || y > lastComplete);
  if (missing.length)
    throw new Error(
      `the baseline needs complete years ${baseYears.join(', ')}; the data covers ${firstComplete}–${lastComplete} completely`,
    );
  const baseTotal = baseYears.reduce((a, y) => a + (yearly.get(y) ?? 0), 0);
  const baseline = baseTotal / o.baselineYears;
  const target = baseline * (1 - o.reduction);
  const targetYear = o.targetYear ?? baselineYear + 5;
  const glide = (y: number) =>
    y <= baselineYear
      ? baseline
      : y >= targetYear
        ? target
        : baseline - ((baseline - target) * (y - baselineYear)) / (targetYear - baselineYear);
  const [bLo, bHi] = poissonInterval(baseTotal);
  const years = [...yearly.keys()]
    .sort((a, b) => a - b)
    .map((y) => {
      const n = yearly.get(y)!;
      const [lo, hi] = poissonInterval(n);
      return {
        year: y,
        value: n,
        low: lo,
        high: hi,
        complete: y >= firstComplete && y <= lastComplete,
        glidePath: y >= baselineYear ? glide(y) : null,
        onTrack: y > baselineYear && y <= lastComplete ? n <= glide(y) : null,
      };
    });
  // latest 12 months against the baseline period (conditional exact test)
  const recent = months.at(-1)!.rolling12;
  const recentEnd = months.at(-1)!.month;
  let comparison = null;
  if (recent !== null) {
    const tA = 1,
      tB = o.baselineYears;
    const pValue = binomialTestTwoSided(recent, recent + baseTotal, tA / (tA + tB));
    const [lo, hi] = poissonInterval(recent);
    const change = baseline > 0 ? (recent - baseline) / baseline : null;
    comparison = {
      period: `12 months to ${recentEnd}`,
      value: recent,
      low: lo,
      high: hi,
      change,
      pValue,
      significant: pValue < 0.05,
      onTrack: recent <= glide(Number(recentEnd.slice(0, 4))),
      verdict:
        change === null
          ? 'no baseline'
          : pValue < 0.05
            ? `${change < 0 ? 'down' : 'up'} ${Math.abs(change * 100).toFixed(0)}% on the baseline, a change too large to be chance alone (p ${pValue < 0.001 ? '< 0.001' : `= ${pValue.toFixed(3)}`})`
            : `${change < 0 ? 'down' : 'up'} ${Math.abs(change * 100).toFixed(0)}% on the baseline, but a change this size can happen by chance with counts this small (p = ${pValue.toFixed(2)})`,
    };
  }
  return {
    metric: o.metric,
    label: METRIC_LABEL[o.metric],
    baseline: {
      years: baseYears,
      value: baseline,
      total: baseTotal,
      low: bLo / o.baselineYears,
      high: bHi / o.baselineYears,
    },
    target: { reduction: o.reduction, year: targetYear, value: target },
    lastCompleteYear: lastComplete,
    years,
    months,
    latest12: comparison,
    definitions: {
      baseline:
        o.baselineYears === 1 ? `${baselineYear}` : `mean of ${baseYears[0]}–${baselineYear}`,
      glidePath: `linear from the baseline (${baselineYear}) to the target (${targetYear})`,
      interval: 'exact Poisson (Garwood) 95% interval',
      test: 'exact conditional binomial test of the latest 12 months against the baseline period, two-sided',
    },
  };
}
export type TargetProgress = NonNullable<ReturnType<typeof targetProgress>>;
