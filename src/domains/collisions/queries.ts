import { z } from 'zod';
import { UserError } from '../../platform/errors.ts';
import type { Store } from '../../platform/db.ts';
import { CrashFilterSchema, loadCrashes, type CrashFilter } from './crashes.ts';
import { boundsOf, MIDDLE_EXTENT_SQL, planeFor, type Bounds } from '../../platform/geo.ts';
import { hexBins, hexPolygon, hotSpots } from './hex.ts';
import { HIN_DEFAULTS, highInjuryNetwork, MILE_M, type RoadSegment } from './hin.ts';
import { esriDefaultBandwidth, gridAround, kdeSurface, planeProj, type Surface } from './kde.ts';
import { rankLocations } from './rank.ts';
import { WEIGHT_SET_NAMES, WEIGHT_SETS } from './summary.ts';
import { targetProgress } from './target.ts';

/** The query layer of the streets views: one schema per view, shared by the CLI and the HTTP API. */

const weights = z
  .enum(WEIGHT_SET_NAMES)
  .default('hsm')
  .describe(`EPDO weight set: ${WEIGHT_SET_NAMES.join(', ')}`);

export const HexQuerySchema = CrashFilterSchema.extend({
  resolution: z.coerce
    .number()
    .int()
    .min(7)
    .max(11)
    .default(9)
    .describe('H3 resolution (9 ≈ 0.1 km², 10 ≈ 0.015 km²)'),
  weights,
});
export async function hexQuery(store: Store, q: z.output<typeof HexQuerySchema>) {
  const set = await loadCrashes(store, q, { located: true });
  const bins = hexBins(set.crashes, q.resolution, q.weights);
  return {
    resolution: q.resolution,
    weights: q.weights,
    crashes: set.crashes.length,
    excluded: set.excluded,
    type: 'FeatureCollection' as const,
    features: bins.map((b) => ({
      type: 'Feature' as const,
      properties: { ...b },
      geometry: { type: 'Polygon' as const, coordinates: hexPolygon(b.cell) },
    })),
  };
}

export const HotspotQuerySchema = CrashFilterSchema.extend({
  resolution: z.coerce.number().int().min(7).max(11).default(9),
  value: z.enum(['crashes', 'ksi', 'epdo']).default('epdo'),
  k: z.coerce.number().int().min(1).max(5).default(1).describe('neighbour ring'),
  fdr: z.preprocess(
    (v) => (v === 'false' || v === false ? false : v === undefined ? undefined : true),
    z.boolean().default(true),
  ),
  weights,
  top: z.coerce.number().int().min(1).max(5000).default(50),
});
export async function hotspotQuery(store: Store, q: z.output<typeof HotspotQuerySchema>) {
  const set = await loadCrashes(store, q, { located: true });
  if (!set.crashes.length) throw new UserError('No located crashes match the filter.');
  const r = hotSpots(hexBins(set.crashes, q.resolution, q.weights), {
    resolution: q.resolution,
    value: q.value,
    k: q.k,
    fdr: q.fdr,
  });
  const significant = r.cells.filter((c) => c.class !== 0);
  return {
    ...r,
    weights: q.weights,
    crashes: set.crashes.length,
    excluded: set.excluded,
    cells: significant
      .filter((c) => c.class > 0)
      .slice(0, q.top)
      .concat(significant.filter((c) => c.class < 0).slice(-q.top))
      .map((c) => ({ ...c, polygon: hexPolygon(c.cell) })),
  };
}

export const RankQuerySchema = CrashFilterSchema.extend({
  kind: z.enum(['intersection', 'corridor']).default('intersection'),
  by: z.enum(['crashes', 'ka', 'ksi', 'epdo']).default('epdo'),
  weights,
  top: z.coerce.number().int().min(1).max(10000).default(20),
  withinFt: z.coerce
    .number()
    .min(0)
    .max(5000)
    .default(250)
    .describe('a crash this close to the secondary road is at the intersection'),
});
export async function rankQuery(store: Store, q: z.output<typeof RankQuerySchema>) {
  const set = await loadCrashes(store, q);
  return { ...rankLocations(set.crashes, q), excluded: set.excluded };
}

/** The last `n` years that have data, when no years are given (the HIN and rankings default to five). */
async function lastYears(store: Store, q: CrashFilter, n: number): Promise<CrashFilter> {
  if (q.from || q.to) return q;
  const r = await store.one<{ y: number | null }>(
    `SELECT max(year(collision_date)) AS y FROM collisions`,
  );
  return r?.y ? { ...q, from: r.y - n + 1, to: r.y } : q;
}

export const HinQuerySchema = CrashFilterSchema.extend({
  windowMiles: z.coerce
    .number()
    .min(0.05)
    .max(5)
    .default(HIN_DEFAULTS.windowM / MILE_M),
  stepMiles: z.coerce
    .number()
    .min(0.01)
    .max(5)
    .optional()
    .describe('default: a fifth of the window'),
  toleranceM: z.coerce.number().min(1).max(200).default(HIN_DEFAULTS.toleranceM),
  score: z.enum(['ksi', ...WEIGHT_SET_NAMES]).default('ksi'),
  cover: z.coerce
    .number()
    .min(0.05)
    .max(1)
    .default(HIN_DEFAULTS.cover)
    .describe('share of KSI the HIN must hold'),
  minKa: z.coerce.number().int().min(0).max(100).default(0),
  nameMatch: z.preprocess(
    (v) => (v === 'false' || v === false ? false : v === undefined ? undefined : true),
    z.boolean().default(true),
  ),
  years: z.coerce
    .number()
    .int()
    .min(1)
    .max(20)
    .default(5)
    .describe('when from/to are not given: the latest N years'),
  network: z
    .enum(['auto', 'none'])
    .default('auto')
    .describe('none: use the road-name fallback even when a network is loaded'),
});
export async function hinQuery(store: Store, q: z.output<typeof HinQuerySchema>) {
  const filter = await lastYears(store, q, q.years);
  const set = await loadCrashes(store, filter);
  let segments = q.network === 'none' ? null : await loadRoadSegments(store);
  let note: string | null = null;
  if (segments) {
    // a network that does not reach the crashes (another city's, say) cannot carry their HIN
    const [w, s, e, n] = bboxOf(segments);
    const located = set.crashes.filter((c) => c.lat !== null);
    const inside = located.filter(
      (c) => c.lon! >= w && c.lon! <= e && c.lat! >= s && c.lat! <= n,
    ).length;
    if (located.length && inside < located.length / 2) {
      note = `the loaded road network covers ${inside} of ${located.length} located crashes, so the road-name method is used`;
      segments = null;
    }
  }
  const r = highInjuryNetwork(set.crashes, segments, {
    windowM: q.windowMiles * MILE_M,
    stepM: (q.stepMiles ?? q.windowMiles / 5) * MILE_M,
    toleranceM: q.toleranceM,
    score: q.score,
    cover: q.cover,
    minKa: q.minKa,
    requireNameMatch: q.nameMatch,
  });
  return { ...r, filter: { from: filter.from, to: filter.to }, note };
}

function bboxOf(segments: RoadSegment[]): [number, number, number, number] {
  let w = Infinity,
    s = Infinity,
    e = -Infinity,
    n = -Infinity;
  for (const g of segments)
    for (const [lon, lat] of g.coordinates) {
      w = Math.min(w, lon);
      e = Math.max(e, lon);
      s = Math.min(s, lat);
      n = Math.max(n, lat);
    }
  return [w, s, e, n];
}

export async function loadRoadSegments(store: Store): Promise<RoadSegment[] | null> {
  // the most recently imported network only: two overlapping extracts would double the street miles
  const rows = await store.all<{
    id: string;
    name: string | null;
    coordinates: string;
  }>(`SELECT segment_id AS id, name, coordinates::VARCHAR AS coordinates
    FROM road_segments WHERE source = (SELECT source FROM road_segments GROUP BY source ORDER BY max(batch_id) DESC LIMIT 1)`);
  return rows.length
    ? rows.map((r) => ({ id: r.id, name: r.name, coordinates: JSON.parse(r.coordinates) }))
    : null;
}

export const TargetQuerySchema = CrashFilterSchema.extend({
  metric: z.enum(['injury', 'ka', 'ksi', 'crashes']).default('injury'),
  baselineYear: z.coerce
    .number()
    .int()
    .min(1900)
    .max(2200)
    .optional()
    .describe('default: the first complete period in the data'),
  baselineYears: z.coerce
    .number()
    .pipe(z.union([z.literal(1), z.literal(3), z.literal(5)]))
    .default(1),
  reduction: z.coerce.number().min(0.01).max(1).default(0.19),
  targetYear: z.coerce.number().int().min(1900).max(2200).optional(),
});
export async function targetQuery(store: Store, q: z.output<typeof TargetQuerySchema>) {
  const set = await loadCrashes(store, q);
  try {
    const r = targetProgress(set.crashes, q);
    if (!r) throw new UserError('No crashes match the filter.');
    return r;
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw new UserError((e as Error).message);
  }
}

export const KdeQuerySchema = CrashFilterSchema.extend({
  bandwidth: z
    .union([z.literal('esri'), z.coerce.number().min(10).max(20_000)])
    .default('esri')
    .describe('metres, or esri for the Esri default'),
  cell: z.coerce
    .number()
    .min(5)
    .max(5000)
    .optional()
    .describe('cell size in metres (default: bandwidth/6)'),
  weight: z.enum(['count', 'epdo']).default('epdo'),
  weights,
});
export const MAX_KDE_CELLS = 4_000_000;
export async function kdeQuery(
  store: Store,
  q: z.output<typeof KdeQuerySchema>,
): Promise<{
  surface: Surface;
  proj: string;
  crashes: number;
  excluded: { noLocation: number };
  bandwidthRule: string;
  peak: { lon: number; lat: number; perKm2: number };
}> {
  const set = await loadCrashes(store, q, { located: true });
  if (!set.crashes.length) throw new UserError('No located crashes match the filter.');
  const plane = planeFor(set.crashes.map((c) => ({ lon: c.lon!, lat: c.lat! })));
  const n = set.crashes.length;
  const pts = { x: new Float64Array(n), y: new Float64Array(n), w: new Float64Array(n) };
  set.crashes.forEach((c, i) => {
    const p = plane.toXY(c.lon!, c.lat!);
    pts.x[i] = p.x;
    pts.y[i] = p.y;
    pts.w[i] = q.weight === 'count' ? 1 : WEIGHT_SETS[q.weights]![c.severity];
  });
  const bandwidth = q.bandwidth === 'esri' ? esriDefaultBandwidth(pts) : q.bandwidth;
  const cell = q.cell ?? Math.max(5, Math.round(bandwidth / 6));
  const grid = gridAround(pts, cell, bandwidth);
  if (grid.cols * grid.rows > MAX_KDE_CELLS) {
    throw new UserError(
      `The surface would have ${grid.cols * grid.rows} cells (over ${MAX_KDE_CELLS}): use a larger --cell, or filter to a district or city.`,
    );
  }
  const surface = kdeSurface(pts, grid, bandwidth);
  let best = 0;
  for (let i = 1; i < surface.values.length; i++)
    if (surface.values[i]! > surface.values[best]!) best = i;
  const [lon, lat] = plane.toLonLat(
    grid.x0 + ((best % grid.cols) + 0.5) * cell,
    grid.y0 + (Math.floor(best / grid.cols) + 0.5) * cell,
  );
  return {
    surface,
    proj: planeProj(plane.origin),
    crashes: n,
    excluded: set.excluded,
    bandwidthRule:
      q.bandwidth === 'esri' ? 'Esri default: 0.9 · min(SD, √(1/ln 2) · Dm) · n^−0.2' : 'fixed',
    peak: { lon, lat, perKm2: surface.values[best]! * 1e6 },
  };
}

/** First and last month with collisions, YYYY-MM. */
export async function collisionPeriod(store: Store): Promise<{ from: string; to: string } | null> {
  const r = await store.one<{ a: string | null; b: string | null }>(
    `SELECT strftime(min(collision_date), '%Y-%m') AS a, strftime(max(collision_date), '%Y-%m') AS b FROM collisions`,
  );
  return r?.a && r.b ? { from: r.a, to: r.b } : null;
}

/** The box around the middle 98% of mapped collisions, or null. */
export async function collisionExtent(store: Store): Promise<Bounds | null> {
  return boundsOf(
    await store.one(`SELECT ${MIDDLE_EXTENT_SQL} FROM collisions WHERE lat IS NOT NULL`),
  );
}
