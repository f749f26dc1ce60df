import { isKA, ksiPeople, type Crash } from './crashes.ts';
import { normaliseRoadName } from '../../platform/geo.ts';
import { WEIGHT_SETS } from './summary.ts';
import type { RankedLocation } from '../../contracts/collisions.ts';

/**
 * Locations ranked by crashes, KA crashes, KSI people or EPDO. An intersection is the unordered pair of
 * primary and secondary road for crashes the report places at the intersection (INTERSECTION = Y, or
 * within `withinFt` of the secondary road); a corridor is every crash on one primary road. Names are
 * normalised so "MAIN ST" and "Main Street" are one place. Ties share a rank (1, 2, 2, 4).
 */
export type RankBy = 'crashes' | 'ka' | 'ksi' | 'epdo';
export type LocationKind = 'intersection' | 'corridor';

export interface Ranking {
  kind: LocationKind;
  by: RankBy;
  weights: string;
  withinFt: number;
  total: number;
  unplaced: number;
  locations: RankedLocation[];
}

const median = (xs: number[]) => {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

export function locationKey(c: Crash, kind: LocationKind, withinFt: number): string | null {
  const a = normaliseRoadName(c.primary);
  if (!a) return null;
  if (kind === 'corridor') return a;
  const b = normaliseRoadName(c.secondary);
  const atIntersection =
    c.intersection === true || (c.distanceFt !== null && c.distanceFt <= withinFt);
  if (!b || !atIntersection || a === b) return null;
  return [a, b].sort().join(' & ');
}

export function rankLocations(
  crashes: Crash[],
  opts: { kind: LocationKind; by: RankBy; weights: string; top: number; withinFt?: number },
): Ranking {
  const w = WEIGHT_SETS[opts.weights]!;
  const withinFt = opts.withinFt ?? 250;
  const groups = new Map<string, Crash[]>();
  let unplaced = 0;
  for (const c of crashes) {
    const k = locationKey(c, opts.kind, withinFt);
    if (!k) {
      unplaced++;
      continue;
    }
    let g = groups.get(k);
    if (!g) groups.set(k, (g = []));
    g.push(c);
  }
  const all = [...groups.entries()].map(([name, cs]) => {
    const bySeverity: Record<string, number> = {};
    for (const c of cs) bySeverity[c.severity] = (bySeverity[c.severity] ?? 0) + 1;
    const located = cs.filter((c) => c.lat !== null);
    return {
      rank: 0,
      name,
      crashes: cs.length,
      ka: cs.filter(isKA).length,
      ksi: cs.reduce((a, c) => a + ksiPeople(c), 0),
      epdo: cs.reduce((a, c) => a + w[c.severity], 0),
      bySeverity,
      lat: median(located.map((c) => c.lat!)),
      lon: median(located.map((c) => c.lon!)),
      firstDate: cs[0]!.date,
      lastDate: cs[cs.length - 1]!.date,
    };
  });
  const score = (l: RankedLocation) => l[opts.by];
  all.sort((a, b) => score(b) - score(a) || b.epdo - a.epdo || a.name.localeCompare(b.name));
  all.forEach((l, i) => {
    l.rank = i > 0 && score(all[i - 1]!) === score(l) ? all[i - 1]!.rank : i + 1;
  });
  return {
    kind: opts.kind,
    by: opts.by,
    weights: opts.weights,
    withinFt,
    total: crashes.length,
    unplaced,
    locations: all.filter((l) => l.rank <= opts.top),
  };
}
