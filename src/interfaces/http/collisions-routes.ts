import { z } from 'zod';
import { UserError } from '../../platform/errors.ts';
import {
  ActionInputSchema,
  addAction,
  CrashFilterSchema,
  evaluateActions,
  hexQuery,
  HexQuerySchema,
  hinGeoJson,
  hinQuery,
  HinQuerySchema,
  hotspotQuery,
  HotspotQuerySchema,
  kdeQuery,
  KdeQuerySchema,
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
  toAsciiGrid,
} from '../../domains/collisions/index.ts';
import { EDITORS, READERS } from './auth.ts';
import { defineRoute } from './route.ts';

/** The Safer Streets API: the same query layer as `cityops streets …`. */
export const COLLISION_ROUTES = [
  defineRoute({
    method: 'GET',
    access: READERS,
    url: '/api/v1/streets/summary',
    tag: 'streets',
    query: StreetsSummaryQuerySchema,
    summary: 'Crashes by KABCO severity with EPDO (named weight set); per year, severity or mode',
    handle: ({ store }, { query: q }) => streetsSummary(store, q),
  }),
  defineRoute({
    method: 'GET',
    access: READERS,
    url: '/api/v1/streets/crashes',
    tag: 'streets',
    query: CrashFilterSchema,
    summary:
      'Crashes matching the filter: counts by severity with EPDO (hsm), and the located ones as GeoJSON points (staff only: exact locations)',
    handle: async ({ store }, { query: q }) => {
      const set = await loadCrashes(store, q);
      const located = set.crashes.filter(
        (c): c is typeof c & { lat: number; lon: number } => c.lat !== null && c.lon !== null,
      );
      return {
        type: 'FeatureCollection' as const,
        summary: summariseCrashes(set.crashes, 'hsm'),
        excluded: { noLocation: set.excluded.noLocation + set.crashes.length - located.length },
        features: located.map((c) => ({
          type: 'Feature' as const,
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
          geometry: { type: 'Point' as const, coordinates: [c.lon, c.lat] },
        })),
      };
    },
  }),
  defineRoute({
    method: 'GET',
    access: READERS,
    url: '/api/v1/streets/hexagons',
    tag: 'streets',
    query: HexQuerySchema,
    summary: 'Crash counts, KA, KSI and EPDO per H3 hexagon (GeoJSON)',
    handle: ({ store }, { query: q }) => hexQuery(store, q),
  }),
  defineRoute({
    method: 'GET',
    access: READERS,
    url: '/api/v1/streets/hotspots',
    tag: 'streets',
    query: HotspotQuerySchema,
    summary: 'Getis-Ord Gi* hot and cold spots on H3 hexagons with false-discovery-rate correction',
    handle: ({ store }, { query: q }) => hotspotQuery(store, q),
  }),
  defineRoute({
    method: 'GET',
    access: READERS,
    url: '/api/v1/streets/rank',
    tag: 'streets',
    query: RankQuerySchema,
    summary:
      'Intersections or corridors ranked by crashes, KA, KSI or EPDO; top N, within a district polygon',
    handle: ({ store }, { query: q }) => rankQuery(store, q),
  }),
  defineRoute({
    method: 'GET',
    access: READERS,
    url: '/api/v1/streets/hin',
    tag: 'streets',
    query: HinQuerySchema,
    summary:
      'High-injury network (sliding windows): corridors, "p% of miles carry q% of KSI", parameters',
    handle: async ({ store }, { query: q }) => {
      const r = await hinQuery(store, q);
      return { ...r, geojson: hinGeoJson(r) };
    },
  }),
  defineRoute({
    method: 'GET',
    access: READERS,
    url: '/api/v1/streets/target',
    tag: 'streets',
    query: TargetQuerySchema,
    summary:
      'Progress to a reduction target: baseline, glide path, yearly and rolling-12-month counts, exact intervals and test',
    handle: ({ store }, { query: q }) => targetQuery(store, q),
  }),
  defineRoute({
    method: 'GET',
    access: READERS,
    url: '/api/v1/streets/actions',
    tag: 'streets',
    query: z.strictObject({}),
    summary:
      'Engineering, education and enforcement actions (POST to add one: analysts and admins)',
    handle: ({ store }) => listActions(store),
  }),
  defineRoute({
    method: 'POST',
    url: '/api/v1/streets/actions',
    tag: 'streets',
    access: EDITORS,
    body: ActionInputSchema,
    invalidBody: 'Invalid action',
    status: 201,
    summary: 'Add an engineering, education or enforcement action',
    handle: ({ store }, { body, req }) => addAction(store, body, req.principal!.name),
  }),
  defineRoute({
    method: 'GET',
    url: '/api/v1/streets/kde.asc',
    tag: 'streets',
    access: READERS,
    query: KdeQuerySchema,
    reply: 'text',
    summary: 'Kernel density surface as an Esri ASCII grid',
    handle: async ({ store }, { query, reply }) => {
      const r = await kdeQuery(store, query);
      reply
        .header('Content-Disposition', 'attachment; filename="cityops-kde.asc"')
        .header('X-Projection', r.proj);
      return toAsciiGrid(r.surface);
    },
  }),
  defineRoute({
    method: 'GET',
    access: READERS,
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
    handle: async ({ store }, { query: q }) => {
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
  defineRoute({
    method: 'GET',
    url: '/api/public/streets',
    tag: 'public',
    access: 'public',
    shared: true,
    query: z.strictObject({}),
    summary:
      'Road safety for residents: yearly counts, target progress with intervals, HIN statement, corridors, crash counts on hexagons of ~0.7 km² (cells under 3 crashes withheld)',
    handle: ({ store }) => publicStreets(store),
  }),
];
