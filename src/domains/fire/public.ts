import { isoDay } from '../../platform/params.ts';
import {
  MIN_GROUP,
  shownOverMonths,
  wholeMonths,
  type PublicPeriod,
} from '../../platform/small-groups.ts';
import { z } from 'zod';
import type { FireService } from './service.ts';

/**
 * What residents may see: city-wide and neighbourhood aggregates of response performance and call
 * volume, over whole months. No addresses, coordinates, unit-level rows or incident ids, and no
 * figure resting on fewer than MIN_GROUP incidents, directly or as a difference of two answers
 * (see core/small-groups.ts).
 */
export { MIN_GROUP };

export const PublicQuerySchema = z
  .strictObject({
    from: isoDay
      .optional()
      .describe('first month included: any day of it (public periods are whole months)'),
    to: isoDay.optional().describe('last month included: any day of it'),
  })
  .transform(wholeMonths);
export type PublicQuery = z.input<typeof PublicQuerySchema> | PublicPeriod;

const PUBLIC_SEGMENTS = ['callProcessing', 'turnout', 'travel', 'totalResponse'] as const;
type Seg = {
  n: number;
  p50: number | null;
  p90: number | null;
  compliance: number | null;
  objective: unknown;
  pass: boolean | null;
};
type Group = Record<string, Seg> & { key: string; keys: Record<string, string>; incidents: number };
/** What is counted behind a figure: incidents, or the values of one segment. */
type Kind = 'incidents' | (typeof PUBLIC_SEGMENTS)[number];
const countOf = (g: Group, kind: Kind) => (kind === 'incidents' ? g.incidents : g[kind]!.n);

const WITHHELD = { withheld: true } as const;
const figures = (s: Seg) => ({
  p50: s.p50,
  p90: s.p90,
  objectiveSeconds: typeof s.objective === 'number' ? s.objective : null,
  shareMeetingObjective: s.compliance,
  meetsStandard: s.pass,
});
const pick = (s: Seg) => ({ n: s.n, ...figures(s) });
/** Percentiles and shares of fewer than MIN_GROUP values single out the calls behind them; n is not shown (one count per neighbourhood). */
const percentiles = (s: Seg) => (s.n >= MIN_GROUP ? figures(s) : WITHHELD);

const filters = (p: PublicPeriod) => ({
  ...(p.from ? { from: p.from } : {}),
  ...(p.to ? { to: p.to } : {}),
});

async function grouped(
  fire: FireService,
  p: PublicPeriod,
  priority: 'all' | 'emergency',
  by: ('month' | 'neighborhood')[],
): Promise<Group[]> {
  return ((await fire.metrics({ ...filters(p), priority, by })) as unknown as { groups: Group[] })
    .groups;
}

/** month → part → count, for one kind of count. */
function monthCells(
  groups: Group[],
  kind: Kind,
  part: (g: Group) => string,
): Map<string, Map<string, number>> {
  const months = new Map<string, Map<string, number>>();
  for (const g of groups) {
    const cells =
      months.get(g.keys.month!) ?? months.set(g.keys.month!, new Map()).get(g.keys.month!)!;
    cells.set(part(g), (cells.get(part(g)) ?? 0) + countOf(g, kind));
  }
  return months;
}

/**
 * The period a public answer covers: the months asked for, else the latest month with enough calls
 * to show (a month just begun by a live feed may have too few). All of history is not the default:
 * one month of 1–9 calls in it (a sparse older file) would withhold every figure, since nested
 * periods differ by that month.
 */
async function publicPeriod(fire: FireService, q: PublicQuery): Promise<PublicPeriod> {
  if (q.from || q.to) return wholeMonths(q);
  const latest = await fire.latestMonthWith(MIN_GROUP);
  return latest ? wholeMonths({ from: `${latest}-01`, to: `${latest}-01` }) : wholeMonths({});
}

export async function publicPerformance(fire: FireService, q: PublicQuery) {
  const period = await publicPeriod(fire, q);
  const all = await grouped(fire, period, 'all', ['month']);
  const emergency = new Map(
    (await grouped(fire, period, 'emergency', ['month'])).map((g) => [g.keys.month!, g]),
  );
  // each month's count of one kind, as the parts that may be told apart: "all" minus "emergency"
  // gives the non-emergency rest, so that is a part too, one never shown
  const cells = (kind: Kind, priority: 'all' | 'emergency') =>
    new Map(
      all.map((g) => {
        const e = emergency.get(g.keys.month!);
        const em = e ? countOf(e, kind) : 0;
        const parts: [string, number][] =
          priority === 'all'
            ? [['all', countOf(g, kind)]]
            : [
                ['emergency', em],
                ['other', countOf(g, kind) - em],
              ];
        return [g.keys.month!, new Map(parts)];
      }),
    );
  const out: Record<string, unknown> & { period: PublicPeriod } = {
    period,
    minimumGroup: MIN_GROUP,
    unit: 'seconds',
  };
  for (const priority of ['emergency', 'all'] as const) {
    const m = (await fire.metrics({ ...filters(period), priority })) as unknown as Record<
      string,
      Seg
    > & { incidents: number; standard: { name: string } };
    out.standard = m.standard.name;
    const ok = (kind: Kind, n: number) =>
      n >= MIN_GROUP && shownOverMonths(cells(kind, priority), new Set(['other'])).has(priority);
    // turnout and travel count unit responses: many of them can still come from a handful of calls
    const incidents = ok('incidents', m.incidents);
    out[priority] = {
      incidents: incidents ? m.incidents : null,
      ...Object.fromEntries(
        PUBLIC_SEGMENTS.map((s) => [s, incidents && ok(s, m[s]!.n) ? pick(m[s]!) : WITHHELD]),
      ),
    };
  }
  return out;
}

export async function publicNeighborhoods(fire: FireService, q: PublicQuery) {
  const period = await publicPeriod(fire, q);
  const calls = await grouped(fire, period, 'all', ['neighborhood', 'month']);
  // an unknown neighbourhood is never shown, but it counts toward what total minus shown gives away
  const shown = shownOverMonths(
    monthCells(calls, 'incidents', (g) => g.keys.neighborhood!),
    new Set(['unknown']),
  );
  const incidents = new Map<string, number>();
  for (const g of calls)
    incidents.set(g.keys.neighborhood!, (incidents.get(g.keys.neighborhood!) ?? 0) + g.incidents);
  const emergency = new Map(
    (await grouped(fire, period, 'emergency', ['neighborhood'])).map((g) => [
      g.keys.neighborhood!,
      g,
    ]),
  );
  const rows = [...incidents.keys()]
    .filter((k) => k !== 'unknown')
    .sort()
    .map((k) => {
      const e = emergency.get(k);
      return shown.has(k) && incidents.get(k)! >= MIN_GROUP
        ? {
            neighborhood: k,
            incidents: incidents.get(k)!,
            emergencyTotalResponse: e ? percentiles(e.totalResponse!) : WITHHELD,
          }
        : { neighborhood: k, withheld: true };
    });
  return { period, minimumGroup: MIN_GROUP, neighborhoods: rows };
}
