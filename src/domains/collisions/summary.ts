import { z } from 'zod';
import type { Store } from '../../platform/db.ts';
import type { Severity } from './profiles.ts';

/**
 * Collision summaries: crashes by KABCO severity and an EPDO (equivalent property damage only) score
 * from a named, versioned weight set (docs/collisions.md §2). `ka-equal` weights fatal crashes as severe-injury
 * ones, so a single fatality does not swing the score. `I` (an injury crash of unknown level, as NYC
 * records them) takes the HSM's combined injury weight (11) in `hsm` and `ka-equal`, and the B weight in
 * `fhwa2025`.
 */
export const WEIGHT_SETS: Record<string, Record<Severity, number>> = {
  hsm: { K: 542, A: 29, B: 11, C: 6, O: 1, I: 11 },
  fhwa2025: { K: 883, A: 94, B: 21, C: 11, O: 1, I: 21 },
  'ka-equal': { K: 29, A: 29, B: 11, C: 6, O: 1, I: 11 },
};
export const WEIGHT_SET_NAMES = Object.keys(WEIGHT_SETS) as [string, ...string[]];

export const StreetsSummaryQuerySchema = z.strictObject({
  by: z.enum(['year', 'severity', 'mode']).optional(),
  weights: z.enum(WEIGHT_SET_NAMES).default('hsm'),
});
export type StreetsSummaryQuery = z.output<typeof StreetsSummaryQuerySchema>;

interface Counts {
  crashes: number;
  bySeverity: Partial<Record<Severity, number>>;
  killed: number;
  injured: number;
  epdo: { weights: string; value: number };
}

function counts(
  rows: { severity: string; n: number; killed: number; injured: number }[],
  weights: string,
): Counts {
  const by: Partial<Record<Severity, number>> = { K: 0, A: 0, B: 0, C: 0, O: 0 };
  let killed = 0,
    injured = 0;
  for (const r of rows) {
    by[r.severity as Severity] = (by[r.severity as Severity] ?? 0) + r.n;
    killed += r.killed;
    injured += r.injured;
  }
  const w = WEIGHT_SETS[weights]!;
  return {
    crashes: Object.values(by).reduce((a, b) => a + b, 0),
    bySeverity: by,
    killed,
    injured,
    epdo: {
      weights,
      value: (Object.keys(by) as Severity[]).reduce((s, k) => s + by[k]! * w[k], 0),
    },
  };
}

export type StreetsSummary = Counts & { by?: string; groups?: (Counts & { key: string })[] };

export async function streetsSummary(
  store: Store,
  q: StreetsSummaryQuery,
): Promise<StreetsSummary> {
  const key =
    q.by === 'year'
      ? 'year(collision_date)::VARCHAR'
      : q.by === 'mode'
        ? `CASE WHEN pedestrian THEN 'pedestrian' WHEN bicycle THEN 'bicycle' WHEN motorcycle THEN 'motorcycle' ELSE 'other' END`
        : q.by === 'severity'
          ? 'severity'
          : `'all'`;
  const rows = await store.all<{
    k: string;
    severity: string;
    n: number;
    killed: number;
    injured: number;
  }>(`SELECT ${key} AS k, severity,
      count(*) AS n, sum(killed)::INTEGER AS killed, sum(injured)::INTEGER AS injured FROM collisions GROUP BY 1, 2 ORDER BY 1, 2`);
  const whole = counts(rows, q.weights);
  if (!q.by) return whole;
  const keys = [...new Set(rows.map((r) => r.k))];
  return {
    ...whole,
    by: q.by,
    groups: keys.map((k) => ({
      key: k,
      ...counts(
        rows.filter((r) => r.k === k),
        q.weights,
      ),
    })),
  };
}

/**
 * Injury crashes (K–C) in the rolling 12 months ending with the latest crash on record, the 12
 * months before, and a baseline: the mean of the given number of calendar years before the window.
 */
export async function injuryCrashWindows(store: Store, baselineYears: number) {
  const last = await store.one<{ d: string | null }>(
    `SELECT strftime(max(collision_date), '%Y-%m-%d') AS d FROM collisions`,
  );
  if (!last?.d) return null;
  const r = (await store.one<{ cur: number; prior: number; base: number; firstYear: number }>(
    `SELECT
      count(*) FILTER (WHERE collision_date > $1::DATE - INTERVAL 365 DAY) AS cur,
      count(*) FILTER (WHERE collision_date <= $1::DATE - INTERVAL 365 DAY AND collision_date > $1::DATE - INTERVAL 730 DAY) AS prior,
      count(*) FILTER (WHERE year(collision_date) BETWEEN year($1::DATE) - $2 AND year($1::DATE) - 1) AS base,
      min(year(collision_date)) AS "firstYear"
    FROM collisions WHERE severity IN ('K', 'A', 'B', 'C')`,
    [last.d, baselineYears],
  ))!;
  const from = new Date(Date.parse(last.d) - 364 * 86400000).toISOString().slice(0, 10);
  return {
    period: `${from}…${last.d}`,
    to: last.d,
    current: r.cur,
    prior: r.prior || null,
    baseline: r.base / baselineYears,
  };
}

/** The same counts for crashes already in memory (a filtered set). */
export function summariseCrashes(
  crashes: { severity: string; killed: number; injured: number }[],
  weights: string,
): Counts {
  const rows = new Map<string, { severity: string; n: number; killed: number; injured: number }>();
  for (const c of crashes) {
    const r = rows.get(c.severity) ?? { severity: c.severity, n: 0, killed: 0, injured: 0 };
    r.n++;
    r.killed += c.killed;
    r.injured += c.injured;
    rows.set(c.severity, r);
  }
  return counts([...rows.values()], weights);
}
