import { Map as MapLibre, Marker, Popup, setWorkerUrl, type GeoJSONSource } from 'maplibre-gl';
import 'maplibre-gl/dist/maplibre-gl.css';
import workerUrl from 'maplibre-gl/dist/maplibre-gl-worker.mjs?worker&url';
import { api } from './api';
import { city } from './city';

setWorkerUrl(workerUrl);

/**
 * A map of the city's own imported layers (outline and stations) on a plain background, fitted to
 * the city's extent: no tile server, so it works offline. preserveDrawingBuffer lets the map print in PDF reports.
 */
export async function cityMap(
  container: HTMLElement,
): Promise<{ map: MapLibre; stations: GeoJSON.FeatureCollection }> {
  const { name, bounds, layers, attribution } = await city();
  const none: GeoJSON.FeatureCollection = { type: 'FeatureCollection', features: [] };
  // a layer that cannot be read leaves the map without it rather than without a map
  const layer = (name: string): Promise<GeoJSON.FeatureCollection> =>
    layers.includes(name)
      ? api('/api/public/geo/:layer', { layer: name }).catch(() => none)
      : Promise.resolve(none);
  const [boundary, stations] = await Promise.all([layer('boundary'), layer('stations')]);
  // the map's text alternative: what it shows
  const shown = [
    boundary.features.length ? 'its outline' : 'no outline (none imported)',
    `${stations.features.length} fire stations`,
  ];
  container.setAttribute('role', 'region');
  container.setAttribute('aria-label', `Map of ${name}: ${shown.join(', ')}`);
  const map = new MapLibre({
    container,
    style: {
      version: 8,
      sources: {},
      layers: [{ id: 'water', type: 'background', paint: { 'background-color': '#dfe9f2' } }],
    },
    ...(bounds ? { bounds, fitBoundsOptions: { padding: 10 } } : { center: [0, 0], zoom: 1 }),
    attributionControl: { compact: true, customAttribution: attribution || undefined },
    canvasContextAttributes: { preserveDrawingBuffer: true },
  });
  await new Promise<void>((r) => map.once('load', () => r()));
  map.addSource('boundary', { type: 'geojson', data: boundary });
  map.addLayer({
    id: 'land',
    type: 'fill',
    source: 'boundary',
    paint: { 'fill-color': '#f7f5f0' },
  });
  map.addLayer({
    id: 'shore',
    type: 'line',
    source: 'boundary',
    paint: { 'line-color': '#9aa5b1', 'line-width': 1 },
  });
  map.addSource('stations', { type: 'geojson', data: stations });
  return { map, stations };
}

/** A map with no base layers, fitted to the given bounds (the streets view draws its own data over it). */
export async function plainMap(
  container: HTMLElement,
  bounds: [[number, number], [number, number]],
  attribution: string,
): Promise<MapLibre> {
  const map = new MapLibre({
    container,
    style: {
      version: 8,
      sources: {},
      layers: [{ id: 'ground', type: 'background', paint: { 'background-color': '#f4f3ef' } }],
    },
    bounds,
    fitBoundsOptions: { padding: 20 },
    attributionControl: { compact: true, customAttribution: attribution },
    canvasContextAttributes: { preserveDrawingBuffer: true },
  });
  await new Promise<void>((r) => map.once('load', () => r()));
  return map;
}

export function setData(map: MapLibre, source: string, data: GeoJSON.FeatureCollection): void {
  (map.getSource(source) as GeoJSONSource | undefined)?.setData(data);
}

export { Marker, Popup };
export type { MapLibre };
