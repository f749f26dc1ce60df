/**
 * The city a server shows (GET /api/public/city) and its map layers (GET /api/public/geo/:layer):
 * what the web app needs so that no page carries one city's extent or dates.
 */
import type { FeatureCollection } from 'geojson';

/** [[west, south], [east, north]] in degrees. */
export type Bounds = [[number, number], [number, number]];

/** First and last month with data, YYYY-MM. */
export interface Period {
  from: string;
  to: string;
}

export interface CityFacts {
  name: string;
  timeZone: string;
  attribution: string;
  /** configured, else the imported boundary, else the stations, else the middle 98% of the data */
  bounds: Bounds | null;
  /** the map layers that were imported (`boundary`, `stations`, …) */
  layers: string[];
  /** the months each domain has data for: pages default to the latest */
  periods: { fire: Period | null; collisions: Period | null };
}

/** One imported map layer: polygons by name, or the stations as points. */
export type MapLayer = FeatureCollection;
