import { UserError } from '../../platform/errors.ts';
import { runImport, type ImportSource, type RowSink } from '../../platform/ingest.ts';
import { inspectFile, readGeoJsonFeatures, type GeoJsonFeature } from '../../platform/sources.ts';
import type { BatchSummary } from '../../platform/staging.ts';
import { normaliseHeader } from '../../platform/validation.ts';
import type { Store } from '../../platform/db.ts';

/**
 * Fire stations from GeoJSON points (properties `station` or `id`, `name`, optional `apparatus`) or CSV
 * (columns station/id, name, lat, lon, optional units such as "E01:ENGINE:4;T01:TRUCK"). Without
 * apparatus, a station's units are the CAD units whose home station it is. Re-importing replaces the
 * stations in one transaction; rows without a usable position or with unreadable units go to the
 * quarantine by line or feature number.
 */
export interface StationInput {
  id: string;
  name: string | null;
  lat: number;
  lon: number;
  apparatus: { unit: string; type: string; staffing?: number }[] | null;
}

/** Why [lon, lat] is no place on Earth, or null when it is one (GeoJSON order: a swapped pair is caught too). */
export function positionProblem(lon: number, lat: number): string | null {
  if (Math.abs(lon) > 180 || Math.abs(lat) > 90)
    return 'is outside longitude -180..180, latitude -90..90 ([lon, lat] order)';
  return null;
}

/** A station's units from "UNIT:TYPE[:STAFFING];…", or why the text is not that. */
function parseUnits(text: string | null | undefined): {
  apparatus: StationInput['apparatus'];
  problem?: string;
} {
  if (!text) return { apparatus: null };
  const apparatus: NonNullable<StationInput['apparatus']> = [];
  for (const u of text
    .split(/[;|]/)
    .map((x) => x.trim())
    .filter(Boolean)) {
    const [unit, type, staffing] = u.split(':');
    if (!unit || !type)
      return {
        apparatus: null,
        problem: `units are "UNIT:TYPE[:STAFFING]" separated by ";" (got "${u}")`,
      };
    const n = staffing === undefined ? undefined : Number(staffing);
    if (n !== undefined && (!Number.isInteger(n) || n < 1 || n > 20))
      return { apparatus: null, problem: `staffing "${staffing}" is not a crew size` };
    apparatus.push({ unit, type: type.toUpperCase(), staffing: n });
  }
  return { apparatus };
}

export type StationImportSummary = BatchSummary & {
  /** stations in the file (inserted, updated and unchanged) */
  stations: number;
  withApparatus: number;
};

/**
 * Imports stations through the one ingest pipeline (src/platform/ingest.ts). The file is the whole
 * set: a station it no longer lists is removed; an unchanged one is left alone.
 */
export async function importStationsFile(
  store: Store,
  file: string,
): Promise<StationImportSummary> {
  let withApparatus = 0;
  const seen = new Set<string>();
  const stage = (s: StationInput, out: RowSink) => {
    if (seen.has(s.id)) throw new UserError(`${file}: station ${s.id} appears twice`);
    seen.add(s.id);
    if (s.apparatus) withApparatus++;
    out.accept({
      station_id: s.id,
      name: s.name,
      lat: s.lat,
      lon: s.lon,
      apparatus: s.apparatus ? JSON.stringify(s.apparatus) : null,
    });
  };
  const summary =
    inspectFile(file).kind === 'json'
      ? await runImport(store, file, stationFeatures(stage))
      : await runImport(store, file, stationRows(file, stage));
  const stations = summary.inserted + summary.updated + summary.unchanged;
  return { ...summary, stations, withApparatus };
}

type StationSink = (s: StationInput, out: RowSink) => void;

/** What every station source shares: the stage, the table, the apply step. */
function stationSource(): Omit<ImportSource<never>, 'row' | 'profile'> {
  return {
    domain: 'stations',
    source: 'stations',
    stage: {
      columns: ['station_id', 'name', 'lat', 'lon', 'apparatus'],
      types: { lat: 'DOUBLE', lon: 'DOUBLE' },
      key: 'station_id',
    },
    table: { name: 'stations', key: 'station_id', scope: null },
    replaces: true,
    async apply(store, t, batchId) {
      await store.run(
        `INSERT INTO stations SELECT s.station_id, s.name, s.lat, s.lon, s.apparatus::JSON, $1
        FROM ${t.stage} s SEMI JOIN ${t.changes} c ON c.key = s.station_id`,
        [batchId],
      );
    },
  };
}

/** GeoJSON points: properties `station` (or `id`), `name`, `apparatus` or `units`. */
function stationFeatures(stage: StationSink): ImportSource<GeoJsonFeature> {
  return {
    ...stationSource(),
    profile: 'geojson',
    read: (f, _info, h) => readGeoJsonFeatures(f, 'station points', h),
    row(f, _index, out) {
      const p = f.properties ?? {},
        c = f.geometry?.coordinates as unknown[] | undefined;
      const id = p.station ?? p.id ?? p.STATION;
      if (id === undefined || id === null || id === '')
        return out.reject('properties.station', 'no station id');
      if (
        f.geometry?.type !== 'Point' ||
        !Array.isArray(c) ||
        !Number.isFinite(c[0]) ||
        !Number.isFinite(c[1])
      )
        return out.reject('geometry', `station ${id}: not a Point with coordinates`);
      const [lon, lat] = c as [number, number];
      const outside = positionProblem(lon, lat);
      if (outside) return out.reject('geometry', `station ${id}: [${lon}, ${lat}] ${outside}`);
      const units = Array.isArray(p.apparatus)
        ? { apparatus: p.apparatus as StationInput['apparatus'] }
        : parseUnits(typeof p.units === 'string' ? p.units : null);
      if (units.problem) return out.reject('properties.units', `station ${id}: ${units.problem}`);
      const name = typeof p.name === 'string' ? p.name : null;
      stage({ id: String(id), name, lon, lat, apparatus: units.apparatus }, out);
    },
  };
}

/** CSV: columns station (or id), name, lat, lon, optional units. */
function stationRows(file: string, stage: StationSink): ImportSource {
  let idx: Record<string, number> = {};
  return {
    ...stationSource(),
    profile: 'csv',
    header(h) {
      const at = (...names: string[]) => h.findIndex((x) => names.includes(normaliseHeader(x)));
      idx = {
        id: at('station', 'id', 'stationid'),
        name: at('name'),
        lat: at('lat', 'latitude'),
        lon: at('lon', 'lng', 'longitude'),
        units: at('units', 'apparatus'),
      };
      const missing = ['id', 'lat', 'lon'].filter((k) => idx[k]! < 0);
      if (missing.length)
        throw new UserError(
          `${file}: no column for ${missing.join(', ')} (station, lat, lon are needed)`,
        );
    },
    row(v, _line, out) {
      const lat = Number(v[idx.lat!]),
        lon = Number(v[idx.lon!]);
      if (!v[idx.id!]?.trim()) return out.reject('station', 'no station id');
      const id = v[idx.id!]!.trim();
      if (!Number.isFinite(lat) || Math.abs(lat) > 90 || !v[idx.lat!]?.trim())
        return out.reject('lat', `station ${id}: "${v[idx.lat!]}" is not a latitude`);
      if (!Number.isFinite(lon) || Math.abs(lon) > 180 || !v[idx.lon!]?.trim())
        return out.reject('lon', `station ${id}: "${v[idx.lon!]}" is not a longitude`);
      const units = idx.units! >= 0 ? parseUnits(v[idx.units!]) : { apparatus: null };
      if (units.problem) return out.reject('units', `station ${id}: ${units.problem}`);
      const name = idx.name! >= 0 ? v[idx.name!]!.trim() || null : null;
      stage({ id, name, lat, lon, apparatus: units.apparatus }, out);
    },
  };
}

export type LayerImportSummary = BatchSummary & {
  layer: string;
  /** polygons in the file (inserted, updated and unchanged) */
  features: number;
  withValue: number;
};

/** The properties that name a polygon, in order of preference; else its feature number. */
const LAYER_ID_KEYS = ['id', 'GEOID', 'TRACTCE20', 'nhood', 'name'];

/**
 * Polygons for reporting and clipping (the city boundary, census tracts) as a named layer, through
 * the one ingest pipeline: the file is the whole layer, so a polygon it no longer holds is removed.
 * A feature that is not a polygon, or whose `valueField` is not a count, goes to the quarantine.
 */
export async function importLayerFile(
  store: Store,
  file: string,
  layer: string,
  opts: { valueField?: string } = {},
): Promise<LayerImportSummary> {
  let withValue = 0;
  const field = opts.valueField;
  const summary = await runImport<GeoJsonFeature>(store, file, {
    domain: 'layers',
    profile: 'geojson',
    source: `layer:${layer}`,
    stage: {
      columns: ['feature_id', 'name', 'geometry', 'value'],
      types: { value: 'DOUBLE' },
      key: 'feature_id',
    },
    table: { name: 'map_layers', key: 'feature_id', scope: { column: 'layer', value: layer } },
    replaces: true,
    read: (f, _info, h) => readGeoJsonFeatures(f, 'polygons', h),
    row(f, index, out) {
      const type = f.geometry?.type;
      if (type !== 'Polygon' && type !== 'MultiPolygon')
        return out.reject(
          'geometry',
          `geometry ${type ?? 'missing'} is not a Polygon or MultiPolygon`,
        );
      const p = f.properties ?? {};
      let value: number | null = null;
      if (field) {
        value = Number(p[field]);
        if (p[field] === undefined || p[field] === null || !Number.isFinite(value) || value < 0)
          return out.reject(`properties.${field}`, `${field} is "${p[field] ?? ''}", not a count`);
        withValue++;
      }
      const key = LAYER_ID_KEYS.find((k) => p[k] !== undefined && p[k] !== null);
      out.accept({
        feature_id: key ? String(p[key]) : String(index),
        name: typeof p.name === 'string' ? p.name : null,
        geometry: JSON.stringify(f.geometry),
        value,
      });
    },
    async apply(store, t, batchId) {
      await store.run(
        `INSERT INTO map_layers SELECT $1, s.feature_id, s.name, s.geometry::JSON, $2, s.value
        FROM ${t.stage} s SEMI JOIN ${t.changes} c ON c.key = s.feature_id`,
        [layer, batchId],
      );
    },
  });
  const features = summary.inserted + summary.updated + summary.unchanged;
  return { ...summary, layer, features, withValue };
}
