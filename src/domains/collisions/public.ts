import type { Store } from '../../platform/db.ts';
import { isSmall, MIN_GROUP, shownParts } from '../../platform/small-groups.ts';
import { loadCrashes } from './crashes.ts';
import { hexBins, hexPolygon } from './hex.ts';
import { hinQuery, HinQuerySchema } from './queries.ts';
import { rankLocations } from './rank.ts';
import { streetsSummary } from './summary.ts';
import { targetProgress } from './target.ts';
import { PROFILES } from './profiles.ts';

/**
 * What residents see of road safety: yearly counts, progress to the injury-reduction target with its
 * uncertainty, the high-injury network statement, the corridors with most people killed or seriously
 * injured, and crash counts on H3 resolution-8 hexagons (about 0.7 km² each). No crash is shown as a
 * point, and every count resting on fewer than MIN_GROUP crashes or people is withheld: a hexagon (with
 * the next-smallest, while the withheld add up to fewer: the yearly totals minus the shown hexagons would
 * give them away), a year's severity count (likewise), people killed or injured, a corridor's figures.
 */
export const PUBLIC_HEX_RESOLUTION = 8;

/** A count residents may see, or null when it rests on 1..MIN_GROUP-1 crashes or people. */
const shownCount = (n: number): number | null => (isSmall(n) ? null : n);

/** A year's crashes by severity, small ones withheld with the next-smallest (the year's total minus the rest would give them away). */
function shownSeverities(bySeverity: Record<string, number>): Record<string, number | null> {
  const parts = new Map(Object.entries(bySeverity));
  const shown = shownParts(parts);
  return Object.fromEntries([...parts].map(([k, n]) => [k, shown.has(k) ? n : null]));
}

export async function publicStreets(store: Store) {
  const summary = await streetsSummary(store, { by: 'year', weights: 'hsm' });
  if (!summary.crashes) return null;
  const all = await loadCrashes(store, {});
  const years = [...new Set(all.crashes.map((c) => c.year))];
  // the default baseline: the mean of the first three complete years
  const target =
    years.length >= 5
      ? targetProgress(all.crashes, { metric: 'injury', baselineYears: 3, reduction: 0.19 })
      : null;
  const bins = hexBins(all.crashes, PUBLIC_HEX_RESOLUTION, 'hsm');
  const cells = shownParts(new Map(bins.map((b) => [b.cell, b.crashes])));
  const shown = bins.filter((b) => cells.has(b.cell));
  const hin = await hinQuery(store, HinQuerySchema.parse({}));
  const last5 = all.crashes.filter((c) => c.year >= years.at(-1)! - 4);
  const corridors = rankLocations(last5, { kind: 'corridor', by: 'ksi', weights: 'hsm', top: 10 });
  return {
    sources: await publishers(store),
    years: summary.groups!.map((g) => ({
      year: Number(g.key),
      crashes: shownCount(g.crashes),
      bySeverity: shownSeverities(g.bySeverity),
      killed: shownCount(g.killed),
      injured: shownCount(g.injured),
    })),
    target: target && {
      label: target.label,
      baseline: target.baseline,
      target: target.target,
      latest12: target.latest12,
      definitions: target.definitions,
      years: target.years.map(({ year, value, low, high, glidePath, onTrack, complete }) => ({
        year,
        value,
        low,
        high,
        glidePath,
        onTrack,
        complete,
      })),
    },
    hin: {
      statement: hin.statement,
      method: hin.method,
      windowMiles: hin.parameters.windowMiles,
      years: hin.years,
    },
    corridors: {
      period: `${years.at(-1)! - 4}–${years.at(-1)}`,
      list: corridors.locations.map(({ rank, name, crashes, ka, ksi }) => ({
        rank,
        name,
        crashes: shownCount(crashes),
        ka: isSmall(ka) || isSmall(crashes - ka) ? null : ka,
        ksi: shownCount(ksi),
      })),
    },
    hexagons: {
      resolution: PUBLIC_HEX_RESOLUTION,
      minimumCrashes: MIN_GROUP,
      withheld: bins.length - shown.length,
      type: 'FeatureCollection' as const,
      features: shown.map((b) => ({
        type: 'Feature' as const,
        properties: {
          crashes: b.crashes,
          ksi: isSmall(b.ksi) || isSmall(b.crashes - b.ksi) ? null : b.ksi,
        },
        geometry: { type: 'Polygon' as const, coordinates: hexPolygon(b.cell) },
      })),
    },
  };
}
export type PublicStreets = NonNullable<Awaited<ReturnType<typeof publicStreets>>>;

/** Who published the collision files imported, by their profiles (a mapping file names none). */
async function publishers(store: Store): Promise<string[]> {
  const rows = await store.all<{ profile: string }>(
    "SELECT DISTINCT profile FROM import_batches WHERE domain = 'collisions' AND finished_at IS NOT NULL ORDER BY profile",
  );
  return rows.flatMap((r) => PROFILES[r.profile]?.publisher ?? []);
}
