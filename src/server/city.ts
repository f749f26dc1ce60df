import { REPLAY_SOURCE } from '../fire/live.ts';
import type { FireService } from '../fire/service.ts';
import type { Store } from '../store/db.ts';

type Bounds = [[number, number], [number, number]];

/**
 * What the web app needs to know about the city it shows, so no page carries one city's extent or
 * dates: the configured name and credits, the map extent (configured, else the imported boundary,
 * else the stations, else the data), the map layers that were imported, and the months each
 * domain has data for (pages default to the latest).
 */
export interface CityFacts {
  name: string;
  timeZone: string;
  attribution: string;
  bounds: Bounds | null;
  layers: string[];
  periods: { fire: Period | null; collisions: Period | null };
}
/** First and last month with data, YYYY-MM. */
export interface Period { from: string; to: string }

export async function cityFacts(store: Store, fire: FireService): Promise<CityFacts> {
  const config = fire.config;
  const layers = (await store.all<{ layer: string }>('SELECT DISTINCT layer FROM map_layers ORDER BY layer')).map((r) => r.layer);
  const hasStations = ((await store.one<{ n: number }>('SELECT count(*)::INTEGER AS n FROM stations'))?.n ?? 0) > 0;
  return {
    name: config.name,
    timeZone: config.timeZone,
    attribution: config.attribution,
    bounds: config.bounds ?? (await importedExtent(store)),
    layers: hasStations ? [...layers, 'stations'].sort() : layers,
    periods: { fire: await fire.dataMonths(), collisions: await collisionPeriod(store) },
  };
}

async function collisionPeriod(store: Store): Promise<Period | null> {
  const r = await store.one<{ a: string | null; b: string | null }>(
    `SELECT strftime(min(collision_date), '%Y-%m') AS a, strftime(max(collision_date), '%Y-%m') AS b FROM collisions`);
  return r?.a && r.b ? { from: r.a, to: r.b } : null;
}

/**
 * The extent of the imported boundary, else of the stations, else of the middle 98% of incident and
 * collision positions (a few geocoding errors far away must not zoom the map out to the ocean).
 */
async function importedExtent(store: Store): Promise<Bounds | null> {
  const boundary = await store.all<{ g: string }>(`SELECT geometry::VARCHAR AS g FROM map_layers WHERE layer = 'boundary'`);
  if (boundary.length) return extentOf(boundary.flatMap((r) => positions(JSON.parse(r.g))));
  const box = await store.one<{ w: number | null; s: number | null; e: number | null; n: number | null }>(
    'SELECT min(lon) AS w, min(lat) AS s, max(lon) AS e, max(lat) AS n FROM stations');
  if (box?.w !== null && box?.w !== undefined) return [[box.w, box.s!], [box.e!, box.n!]];
  const data = await store.one<{ w: number | null; s: number | null; e: number | null; n: number | null }>(
    `WITH p AS (SELECT lon, lat FROM incidents WHERE source <> $1 AND lat IS NOT NULL UNION ALL SELECT lon, lat FROM collisions WHERE lat IS NOT NULL)
     SELECT quantile_cont(lon, 0.01) AS w, quantile_cont(lat, 0.01) AS s, quantile_cont(lon, 0.99) AS e, quantile_cont(lat, 0.99) AS n FROM p`, [REPLAY_SOURCE]);
  return data?.w !== null && data?.w !== undefined && data.w < data.e! && data.s! < data.n! ? [[data.w, data.s!], [data.e!, data.n!]] : null;
}

function positions(geometry: { coordinates?: unknown }): [number, number][] {
  const out: [number, number][] = [];
  const walk = (c: unknown): void => {
    if (!Array.isArray(c)) return;
    if (typeof c[0] === 'number' && typeof c[1] === 'number') out.push([c[0], c[1]]);
    else for (const x of c) walk(x);
  };
  walk(geometry.coordinates);
  return out;
}

function extentOf(points: [number, number][]): Bounds | null {
  if (!points.length) return null;
  let w = Infinity, s = Infinity, e = -Infinity, n = -Infinity;
  for (const [x, y] of points) { w = Math.min(w, x); e = Math.max(e, x); s = Math.min(s, y); n = Math.max(n, y); }
  return [[w, s], [e, n]];
}

/** A map layer as GeoJSON: the imported polygons of that name, or the stations as points. */
export async function layerGeoJson(store: Store, layer: string): Promise<GeoJsonCollection | null> {
  if (layer === 'stations') {
    const rows = await store.all<{ station_id: string; name: string | null; lat: number; lon: number }>('SELECT station_id, name, lat, lon FROM stations ORDER BY station_id');
    if (!rows.length) return null;
    return collection(rows.map((r) => ({ type: 'Feature', geometry: { type: 'Point', coordinates: [r.lon, r.lat] }, properties: { station: r.station_id, name: r.name } })));
  }
  const rows = await store.all<{ feature_id: string; name: string | null; g: string }>(
    'SELECT feature_id, name, geometry::VARCHAR AS g FROM map_layers WHERE layer = $1 ORDER BY feature_id', [layer]);
  if (!rows.length) return null;
  return collection(rows.map((r) => ({ type: 'Feature', geometry: JSON.parse(r.g), properties: { id: r.feature_id, name: r.name } })));
}

interface GeoJsonCollection { type: 'FeatureCollection'; features: unknown[] }
const collection = (features: unknown[]): GeoJsonCollection => ({ type: 'FeatureCollection', features });
