import { z } from 'zod';
import { UserError } from '../../platform/errors.ts';
import { isoDay } from '../../platform/params.ts';
import type { Store } from '../../platform/db.ts';
import { isKA, type Crash } from './crashes.ts';
import { haversineM, normaliseRoadName } from '../../platform/geo.ts';
import type { ActionEvaluation } from '../../contracts/collisions.ts';

/** One treated site's counts before and after its action. */
type SiteCounts = ActionEvaluation['sites'][number];

/**
 * Safety actions (the "three Es": engineering, education, enforcement), where and when they happened,
 * and before/after evaluation at the treated locations (docs/collisions.md §8):
 * - naive: CMF = (A/t_A)/(B/t_B), shown and labelled as biased by regression to the mean and trends;
 * - comparison group: the untreated rest of the network over the same periods corrects for trends;
 *   CMF = (A_t/E) / (1 + Var(E)/E²) with E = B_t · A_c/B_c and Var(E)/E² = 1/B_t + 1/B_c + 1/A_c
 *   (Hauer 1997 in the form of Gross, Persaud & Lyon 2010, without a comparison-ratio variance term);
 * - Empirical Bayes, when a safety performance function and volumes are supplied (HSM Part B, 9A).
 */
export const ACTION_KINDS = ['engineering', 'education', 'enforcement'] as const;

export const ActionInputSchema = z.strictObject({
  kind: z.enum(ACTION_KINDS),
  title: z.string().trim().min(3).max(200),
  description: z.string().max(4000).optional(),
  lat: z.coerce.number().min(-90).max(90),
  lon: z.coerce.number().min(-180).max(180),
  radiusM: z.coerce
    .number()
    .min(10)
    .max(5000)
    .default(100)
    .describe('crashes within this distance are at the treated location'),
  road: z
    .string()
    .max(200)
    .optional()
    .describe('only crashes on this road (primary or secondary) count'),
  started: isoDay,
  finished: isoDay
    .optional()
    .describe('end of construction or of the campaign; the after period starts here'),
});
export type ActionInput = z.output<typeof ActionInputSchema>;
export interface Action extends ActionInput {
  id: number;
  createdBy: string | null;
  createdAt: string;
}

export async function addAction(
  store: Store,
  input: ActionInput,
  user: string | null,
): Promise<Action> {
  if (input.finished && input.finished < input.started)
    throw new UserError('finished is before started');
  return store.transaction(async () => {
    const id = (await store.one<{ id: number }>(
      'SELECT coalesce(max(action_id), 0) + 1 AS id FROM street_actions',
    ))!.id;
    await store.run(
      `INSERT INTO street_actions (action_id, kind, title, description, lat, lon, radius_m, road, started, finished, created_by)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::DATE, $10::DATE, $11)`,
      [
        id,
        input.kind,
        input.title,
        input.description ?? null,
        input.lat,
        input.lon,
        input.radiusM,
        input.road ?? null,
        input.started,
        input.finished ?? null,
        user,
      ],
    );
    return (await listActions(store)).find((a) => a.id === id)!;
  });
}

export async function listActions(store: Store): Promise<Action[]> {
  const rows = await store.all<{
    id: number;
    kind: string;
    title: string;
    description: string | null;
    lat: number;
    lon: number;
    radius_m: number;
    road: string | null;
    started: string;
    finished: string | null;
    created_by: string | null;
    created_at: string;
  }>(`SELECT action_id AS id, kind, title, description, lat, lon, radius_m, road,
      strftime(started, '%Y-%m-%d') AS started, strftime(finished, '%Y-%m-%d') AS finished, created_by, created_at::VARCHAR AS created_at
    FROM street_actions ORDER BY started, action_id`);
  return rows.map((r) => ({
    id: r.id,
    kind: r.kind as Action['kind'],
    title: r.title,
    description: r.description ?? undefined,
    lat: r.lat,
    lon: r.lon,
    radiusM: r.radius_m,
    road: r.road ?? undefined,
    started: r.started,
    finished: r.finished ?? undefined,
    createdBy: r.created_by,
    createdAt: r.created_at,
  }));
}

export const SpfSchema = z.strictObject({
  a: z.number(),
  b: z.number(),
  k: z.number().positive().describe('negative-binomial overdispersion per site'),
  sites: z.record(
    z.string(),
    z.strictObject({
      lengthMiles: z.number().positive(),
      aadtBefore: z.number().positive(),
      aadtAfter: z.number().positive(),
    }),
  ),
});
export type Spf = z.output<typeof SpfSchema>;

const DAY = 86400000;
const shiftYears = (iso: string, years: number) => {
  const d = new Date(`${iso}T00:00:00Z`);
  d.setUTCFullYear(d.getUTCFullYear() + years);
  return d.toISOString().slice(0, 10);
};

export function atSite(c: Crash, a: Action): boolean {
  if (c.lat === null || c.lon === null) return false;
  if (haversineM({ lat: c.lat, lon: c.lon }, { lat: a.lat, lon: a.lon }) > a.radiusM) return false;
  if (!a.road) return true;
  const r = normaliseRoadName(a.road);
  return normaliseRoadName(c.primary) === r || normaliseRoadName(c.secondary) === r;
}

export function evaluateActions(
  crashes: Crash[],
  actions: Action[],
  opts: { years: number; spf?: Spf; severity?: 'all' | 'ka' },
) {
  if (!actions.length) throw new UserError('No actions to evaluate.');
  const lastDate = crashes.at(-1)?.date ?? '0000-00-00',
    firstDate = crashes[0]?.date ?? '9999-12-31';
  const count = (c: Crash) => (opts.severity === 'ka' ? isKA(c) : true);
  const sites: SiteCounts[] = actions.map((a) => {
    const bFrom = shiftYears(a.started, -opts.years),
      bTo = a.started;
    const aFrom = a.finished ?? a.started,
      aTo = shiftYears(aFrom, opts.years);
    const aEnd = aTo < lastDate ? aTo : lastDate,
      bStart = bFrom > firstDate ? bFrom : firstDate;
    const at = crashes.filter((c) => atSite(c, a));
    const inB = at.filter((c) => c.date >= bStart && c.date < bTo),
      inA = at.filter((c) => c.date > aFrom && c.date <= aEnd);
    return {
      action: a.id,
      title: a.title,
      before: inB.filter(count).length,
      after: inA.filter(count).length,
      beforeKa: inB.filter(isKA).length,
      afterKa: inA.filter(isKA).length,
      beforeYears: Math.max(0, (Date.parse(bTo) - Date.parse(bStart)) / DAY / 365.25),
      afterYears: Math.max(0, (Date.parse(aEnd) - Date.parse(aFrom)) / DAY / 365.25),
      periods: {
        before: [bStart, bTo] as [string, string],
        after: [aFrom, aEnd] as [string, string],
      },
    };
  });
  const short = sites.filter(
    (s) => s.afterYears < opts.years * 0.999 || s.beforeYears < opts.years * 0.999,
  );
  const B = sites.reduce((x, s) => x + s.before, 0),
    A = sites.reduce((x, s) => x + s.after, 0);
  const tB = sites.reduce((x, s) => x + s.beforeYears, 0),
    tA = sites.reduce((x, s) => x + s.afterYears, 0);
  const naiveCmf = B > 0 && tA > 0 ? A / tA / (B / tB) : null;
  // comparison group: crashes away from every treated site, in each site's own periods
  const untreated = crashes.filter((c) => !actions.some((a) => atSite(c, a)) && count(c));
  let Bc = 0,
    Ac = 0,
    E = 0;
  for (const s of sites) {
    const bc = untreated.filter(
      (c) => c.date >= s.periods.before[0] && c.date < s.periods.before[1],
    ).length;
    const ac = untreated.filter(
      (c) => c.date > s.periods.after[0] && c.date <= s.periods.after[1],
    ).length;
    Bc += bc;
    Ac += ac;
    if (bc > 0) E += s.before * (ac / bc);
  }
  let comparison = null;
  if (B > 0 && Bc > 0 && Ac > 0 && E > 0) {
    const relVarSum = 1 / B + 1 / Bc + 1 / Ac;
    const cmf = A / E / (1 + relVarSum);
    const se = Math.sqrt(cmf * cmf * ((A > 0 ? 1 / A : 0) + relVarSum)) / (1 + relVarSum);
    comparison = {
      cmf,
      se,
      expectedWithout: E,
      comparisonBefore: Bc,
      comparisonAfter: Ac,
      reductionPercent: 100 * (1 - cmf),
      ...significance(1 - cmf, se),
    };
  }
  let eb = null;
  if (opts.spf) {
    let sumObsA = 0,
      sumExpA = 0,
      varExpA = 0;
    const perSite = sites.map((s) => {
      const site = opts.spf!.sites[String(s.action)];
      if (!site)
        throw new UserError(
          `The SPF file has no site "${s.action}" (give lengthMiles, aadtBefore and aadtAfter for every action evaluated).`,
        );
      const pred = (aadt: number) =>
        Math.exp(opts.spf!.a + opts.spf!.b * Math.log(aadt) + Math.log(site.lengthMiles));
      const predB = pred(site.aadtBefore) * s.beforeYears,
        predA = pred(site.aadtAfter) * s.afterYears;
      const w = 1 / (1 + opts.spf!.k * predB);
      const expB = w * predB + (1 - w) * s.before;
      const r = predA / predB;
      const expA = expB * r;
      sumObsA += s.after;
      sumExpA += expA;
      varExpA += r * r * (1 - w) * expB;
      return {
        action: s.action,
        predictedBefore: predB,
        weight: w,
        expectedBefore: expB,
        ratio: r,
        expectedAfter: expA,
        observedAfter: s.after,
      };
    });
    const orPrime = sumObsA / sumExpA,
      rel = varExpA / (sumExpA * sumExpA);
    const or = orPrime / (1 + rel);
    const se = Math.sqrt(orPrime * orPrime * ((sumObsA > 0 ? 1 / sumObsA : 0) + rel)) / (1 + rel);
    eb = {
      cmf: or,
      se,
      expectedWithout: sumExpA,
      reductionPercent: 100 * (1 - or),
      sites: perSite,
      ...significance(1 - or, se),
    };
  }
  return {
    years: opts.years,
    severity: opts.severity ?? 'all',
    sites,
    incompletePeriods: short.map((s) => s.action),
    naive: {
      cmf: naiveCmf,
      before: B,
      after: A,
      beforeYears: tB,
      afterYears: tA,
      reductionPercent: naiveCmf === null ? null : 100 * (1 - naiveCmf),
      caution:
        'Naive before/after is biased: sites are usually treated after bad years (regression to the mean), and region-wide trends are not removed.',
    },
    comparisonGroup: comparison ?? {
      unavailable: 'needs crashes at the sites before and on the untreated network in both periods',
    },
    empiricalBayes: eb ?? {
      unavailable: 'supply a safety performance function and volumes (--spf FILE)',
    },
  };
}

/** HSM: |effect/SE| ≥ 1.7 is significant at about 90%, ≥ 2.0 at about 95%. */
function significance(effect: number, se: number) {
  const ratio = se > 0 ? Math.abs(effect / se) : 0;
  return {
    significance:
      ratio >= 2
        ? 'significant at about 95%'
        : ratio >= 1.7
          ? 'significant at about 90%'
          : 'not significant',
  };
}
