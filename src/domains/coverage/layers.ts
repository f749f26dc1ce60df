import type { Feature, FeatureCollection } from 'geojson';
import type { Store } from '../../platform/db.ts';
import { boundsOf, extentOf, positions, type Bounds } from '../../platform/geo.ts';

/** The map layers there are to show: each imported layer, and the stations when there are some. */
export async function mapLayerNames(store: Store): Promise<string[]> {
  const layers = (
    await store.all<{ layer: string }>('SELECT DISTINCT layer FROM map_layers ORDER BY layer')
  ).map((r) => r.layer);
  const hasStations =
    ((await store.one<{ n: number }>('SELECT count(*)::INTEGER AS n FROM stations'))?.n ?? 0) > 0;
  return hasStations ? [...layers, 'stations'].sort() : layers;
}

/** The extent of the imported boundary, else of the stations; null when neither was imported. */
export async function mappedExtent(store: Store): Promise<Bounds | null> {
  const boundary = await store.all<{ g: string }>(
    `SELECT geometry::VARCHAR AS g FROM map_layers WHERE layer = 'boundary'`,
  );
  if (boundary.length) return extentOf(boundary.flatMap((r) => positions(JSON.parse(r.g))));
  return boundsOf(
    await store.one(
      'SELECT min(lon) AS w, min(lat) AS s, max(lon) AS e, max(lat) AS n FROM stations',
    ),
  );
}

const collection = (features: Feature[]): FeatureCollection => ({
  type: 'FeatureCollection',
  features,
});

/** A map layer as GeoJSON: the imported polygons of that name, or the stations as points. */
export async function layerGeoJson(store: Store, layer: string): Promise<FeatureCollection | null> {
  if (layer === 'stations') {
    const rows = await store.all<{
      station_id: string;
      name: string | null;
      lat: number;
      lon: number;
    }>('SELECT station_id, name, lat, lon FROM stations ORDER BY station_id');
    if (!rows.length) return null;
    return collection(
      rows.map((r) => ({
        type: 'Feature',
        geometry: { type: 'Point', coordinates: [r.lon, r.lat] },
        properties: { station: r.station_id, name: r.name },
      })),
    );
  }
  const rows = await store.all<{ feature_id: string; name: string | null; g: string }>(
    'SELECT feature_id, name, geometry::VARCHAR AS g FROM map_layers WHERE layer = $1 ORDER BY feature_id',
    [layer],
  );
  if (!rows.length) return null;
  return collection(
    rows.map((r) => ({
      type: 'Feature',
      geometry: JSON.parse(r.g),
      properties: { id: r.feature_id, name: r.name },
    })),
  );
}
