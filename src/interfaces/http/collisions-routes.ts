import { z } from 'zod';
import { UserError } from '../../platform/errors.ts';
import {
  CrashFilterSchema,
  evaluateActions,
  hexQuery,
  HexQuerySchema,
  hinGeoJson,
  hinQuery,
  HinQuerySchema,
  hotspotQuery,
  HotspotQuerySchema,
  listActions,
  loadCrashes,
  publicStreets,
  rankQuery,
  RankQuerySchema,
  streetsSummary,
  StreetsSummaryQuerySchema,
  summariseCrashes,
  targetQuery,
  TargetQuerySchema,
} from '../../domains/collisions/index.ts';
import type { ApiRoute, RouteContext } from './routes.ts';

const route = <S extends z.ZodType>(r: {
  url: string;
  public?: boolean;
  summary: string;
  tag: string;
  query: S;
  handle(ctx: RouteContext, q: z.output<S>): Promise<unknown>;
}): ApiRoute => r as ApiRoute;

/** The Safer Streets API: the same query layer as `cityops streets …`. */
export const STREETS_ROUTES: ApiRoute[] = [
  route({
    url: '/api/v1/streets/summary',
    tag: 'streets',
    query: StreetsSummaryQuerySchema,
    summary: 'Crashes by KABCO severity with EPDO (named weight set); per year, severity or mode',
    handle: ({ store }, q) => streetsSummary(store, q),
  }),
  route({
    url: '/api/v1/streets/crashes',
    tag: 'streets',
    query: CrashFilterSchema,
    summary:
      'Crashes matching the filter: counts by severity with EPDO (hsm), and the located ones as GeoJSON points (staff only: exact locations)',
    handle: async ({ store }, q) => {
      const set = await loadCrashes(store, q);
      const located = set.crashes.filter((c) => c.lat !== null && c.lon !== null);
      return {
        type: 'FeatureCollection',
        summary: summariseCrashes(set.crashes, 'hsm'),
        excluded: { noLocation: set.excluded.noLocation + set.crashes.length - located.length },
        features: located.map((c) => ({
          type: 'Feature',
          properties: {
            id: c.id,
            date: c.date,
            severity: c.severity,
            killed: c.killed,
            primary: c.primary,
            secondary: c.secondary,
            pedestrian: c.pedestrian,
            bicycle: c.bicycle,
          },
          geometry: { type: 'Point', coordinates: [c.lon, c.lat] },
        })),
      };
    },
  }),
  route({
    url: '/api/v1/streets/hexagons',
    tag: 'streets',
    query: HexQuerySchema,
    summary: 'Crash counts, KA, KSI and EPDO per H3 hexagon (GeoJSON)',
    handle: ({ store }, q) => hexQuery(store, q),
  }),
  route({
    url: '/api/v1/streets/hotspots',
    tag: 'streets',
    query: HotspotQuerySchema,
    summary: 'Getis-Ord Gi* hot and cold spots on H3 hexagons with false-discovery-rate correction',
    handle: ({ store }, q) => hotspotQuery(store, q),
  }),
  route({
    url: '/api/v1/streets/rank',
    tag: 'streets',
    query: RankQuerySchema,
    summary:
      'Intersections or corridors ranked by crashes, KA, KSI or EPDO; top N, within a district polygon',
    handle: ({ store }, q) => rankQuery(store, q),
  }),
  route({
    url: '/api/v1/streets/hin',
    tag: 'streets',
    query: HinQuerySchema,
    summary:
      'High-injury network (sliding windows): corridors, "p% of miles carry q% of KSI", parameters',
    handle: async ({ store }, q) => {
      const r = await hinQuery(store, q);
      return { ...r, geojson: hinGeoJson(r) };
    },
  }),
  route({
    url: '/api/v1/streets/target',
    tag: 'streets',
    query: TargetQuerySchema,
    summary:
      'Progress to a reduction target: baseline, glide path, yearly and rolling-12-month counts, exact intervals and test',
    handle: ({ store }, q) => targetQuery(store, q),
  }),
  route({
    url: '/api/v1/streets/actions',
    tag: 'streets',
    query: z.strictObject({}),
    summary:
      'Engineering, education and enforcement actions (POST to add one: analysts and admins)',
    handle: ({ store }) => listActions(store),
  }),
  route({
    url: '/api/v1/streets/evaluate',
    tag: 'streets',
    query: z.strictObject({
      ids: z
        .string()
        .regex(/^\d+(,\d+)*$/, 'action ids, comma-separated')
        .describe('actions to evaluate together'),
      years: z.coerce.number().int().min(1).max(10).default(3),
      severity: z.enum(['all', 'ka']).default('all'),
    }),
    summary:
      'Before/after evaluation of actions: naive (labelled biased) and comparison group (Empirical Bayes needs an SPF: CLI --spf)',
    handle: async ({ store }, q) => {
      const all = await listActions(store);
      const chosen = q.ids
        .split(',')
        .map(Number)
        .map(
          (id) =>
            all.find((a) => a.id === id) ??
            (() => {
              throw new UserError(`No action ${id}`);
            })(),
        );
      return evaluateActions((await loadCrashes(store, {})).crashes, chosen, {
        years: q.years,
        severity: q.severity,
      });
    },
  }),
  route({
    url: '/api/public/streets',
    tag: 'public',
    public: true,
    query: z.strictObject({}),
    summary:
      'Road safety for residents: yearly counts, target progress with intervals, HIN statement, corridors, crash counts on hexagons of ~0.7 km² (cells under 3 crashes withheld)',
    handle: ({ store }) => publicStreets(store),
  }),
];
