import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { constants, gunzipSync } from 'node:zlib';
import { UserError } from '../../platform/errors.ts';
import { runImport, type ImportSource, type RowSink } from '../../platform/ingest.ts';
import {
  inspectFile,
  isGzip,
  readGeoJsonFeatures,
  TextDecoding,
  type GeoJsonFeature,
} from '../../platform/sources.ts';
import type { Store } from '../../platform/db.ts';
import type { BatchSummary } from '../../platform/staging.ts';
import { haversineM } from '../../platform/geo.ts';
import { parseMaxspeed, readOsmPbf, readOsmXml, wayDirection, type RoadWay } from './osm.ts';

/**
 * A road network from an OSM extract (`.osm.pbf`, `.osm`/`.osm.gz` XML) or GeoJSON lines (OSM-derived,
 * or city centrelines with a name), through the one ingest pipeline (src/platform/ingest.ts): the
 * file is the whole network of its `source` (a way it no longer holds is removed, an unchanged one
 * left alone), GeoJSON features without a usable line go to the quarantine with their feature
 * number. The same table feeds the high-injury network and drive-time planning.
 */
export type RoadImportSummary = BatchSummary & {
  format: Format;
  /** the network's name (road_segments.source) */
  source: string;
  /** features (GeoJSON) or drivable ways (OSM) read */
  features: number;
  /** road ways in the network after the import (inserted, updated and unchanged) */
  segments: number;
  lengthKm: number;
  unnamed: number;
  onewayUnknown: number;
  missingNodes: number;
};

const NAME_KEYS = [
  'name',
  'NAME',
  'street',
  'STREET',
  'streetname',
  'STREETNAME',
  'FULLNAME',
  'fullname',
];
const CLASS_KEYS = ['highway', 'class', 'CLASS', 'road_class', 'FUNC_CLASS', 'fclass'];

type Format = 'pbf' | 'osm-xml' | 'geojson';
function formatOf(file: string, head: Buffer): Format {
  if (/\.pbf$/i.test(file)) return 'pbf';
  if (/\.osm(\.gz)?$/i.test(file) || /^\s*<\?xml|^\s*<osm\b/.test(head.toString('utf8', 0, 200)))
    return 'osm-xml';
  return 'geojson';
}

/** The first bytes of a text file (through gunzip), enough to tell OSM XML from GeoJSON. */
function headOf(file: string): Buffer {
  inspectFile(file); // missing, empty, binary: a UserError naming the file
  const head = Buffer.alloc(4096);
  const fd = openSync(file, 'r');
  try {
    const n = readSync(fd, head, 0, head.length, 0);
    const bytes = head.subarray(0, n);
    return isGzip(file) ? gunzipSync(bytes, { finishFlush: constants.Z_SYNC_FLUSH }) : bytes;
  } finally {
    closeSync(fd);
  }
}

const pick = (p: Record<string, unknown>, keys: string[]) => {
  for (const k of keys)
    if (typeof p[k] === 'string' && (p[k] as string).trim()) return (p[k] as string).trim();
  return null;
};

const validLine = (c: unknown): c is [number, number][] =>
  Array.isArray(c) &&
  c.length >= 2 &&
  c.every(
    (pt) =>
      Array.isArray(pt) &&
      Number.isFinite(pt[0]) &&
      Number.isFinite(pt[1]) &&
      Math.abs(pt[0]) <= 180 &&
      Math.abs(pt[1]) <= 90,
  );

function lengthM(coordinates: [number, number][]): number {
  let len = 0;
  for (let j = 1; j < coordinates.length; j++)
    len += haversineM(
      { lon: coordinates[j - 1]![0], lat: coordinates[j - 1]![1] },
      { lon: coordinates[j]![0], lat: coordinates[j]![1] },
    );
  return len;
}

export async function importRoadsFile(
  store: Store,
  file: string,
  opts: { source?: string } = {},
): Promise<RoadImportSummary> {
  const source = opts.source ?? 'roads';
  const totals = { lengthM: 0, unnamed: 0, onewayUnknown: 0, missingNodes: 0 };
  const stage = (w: RoadWay, out: RowSink) => {
    const length = lengthM(w.coordinates);
    totals.lengthM += length;
    if (!w.name) totals.unnamed++;
    if (w.onewayUnknown) totals.onewayUnknown++;
    out.accept({
      segment_id: w.id,
      name: w.name,
      highway: w.highway,
      direction: w.direction,
      maxspeed_kmh: w.maxspeedKmh,
      oneway_unknown: w.onewayUnknown,
      coordinates: JSON.stringify(w.coordinates),
      length_m: length,
    });
  };
  // PBF is binary: only text formats go through the text checks (the pipeline's, and the head here)
  const format = /\.pbf$/i.test(file) ? 'pbf' : formatOf(file.replace(/\.gz$/i, ''), headOf(file));
  const summary =
    format === 'geojson'
      ? await runImport(store, file, roadFeatures(source, stage, totals))
      : await runImport(store, file, osmWays(source, format, stage, totals));
  return {
    ...summary,
    format,
    source,
    features: summary.rowsRead,
    segments: summary.inserted + summary.updated + summary.unchanged,
    lengthKm: totals.lengthM / 1000,
    unnamed: totals.unnamed,
    onewayUnknown: totals.onewayUnknown,
    missingNodes: totals.missingNodes,
  };
}

type WaySink = (w: RoadWay, out: RowSink) => void;
type Totals = { onewayUnknown: number; missingNodes: number };

/** What every road source shares: the stage, the table, the warnings, the apply step. */
function roadSource(source: string, totals: Totals): Omit<ImportSource<never>, 'row' | 'profile'> {
  return {
    domain: 'roads',
    source: `roads:${source}`,
    stage: {
      columns: [
        'segment_id',
        'name',
        'highway',
        'direction',
        'maxspeed_kmh',
        'oneway_unknown',
        'coordinates',
        'length_m',
      ],
      types: { maxspeed_kmh: 'DOUBLE', oneway_unknown: 'BOOLEAN', length_m: 'DOUBLE' },
      key: 'segment_id',
    },
    table: { name: 'road_segments', key: 'segment_id', scope: { column: 'source', value: source } },
    replaces: true,
    finish(extra) {
      extra.warn('oneway_unknown', totals.onewayUnknown);
      extra.warn('missing_nodes', totals.missingNodes);
    },
    async apply(store, t, batchId) {
      await store.run(
        `INSERT INTO road_segments (segment_id, source, name, road_class, coordinates, length_m, batch_id, highway, direction, maxspeed_kmh, oneway_unknown)
        SELECT s.segment_id, $1, s.name, s.highway, s.coordinates::JSON, s.length_m, $2, s.highway, s.direction, s.maxspeed_kmh, s.oneway_unknown
        FROM ${t.stage} s SEMI JOIN ${t.changes} c ON c.key = s.segment_id`,
        [source, batchId],
      );
    },
  };
}

/** GeoJSON: each LineString (or each line of a MultiLineString) is a road way. */
function roadFeatures(
  source: string,
  stage: WaySink,
  totals: Totals,
): ImportSource<GeoJsonFeature> {
  return {
    ...roadSource(source, totals),
    profile: 'geojson',
    read: (f, _info, h) => readGeoJsonFeatures(f, 'road lines', h),
    row(f, index, out) {
      const g = f.geometry;
      const lines =
        g?.type === 'LineString'
          ? [g.coordinates]
          : g?.type === 'MultiLineString' && Array.isArray(g.coordinates)
            ? (g.coordinates as unknown[])
            : null;
      if (!lines)
        return out.reject(
          'geometry',
          `feature ${index}: geometry ${g?.type ?? 'missing'} is not a LineString or MultiLineString`,
        );
      const p = f.properties ?? {};
      if (p.access === 'private' || p.access === 'no') return;
      const id = String(p.osm_id ?? p.id ?? p.OBJECTID ?? `f${index}`);
      const onewayUnknown =
        p.oneway_unknown === true && (p.oneway === null || p.oneway === undefined);
      lines.forEach((line, k) => {
        if (!validLine(line))
          return out.reject(
            'geometry.coordinates',
            `feature ${index}: a line needs two or more [lon, lat] positions within range`,
          );
        stage(
          {
            id: lines.length > 1 ? `${id}#${k}` : id,
            name: pick(p, NAME_KEYS),
            highway: pick(p, CLASS_KEYS),
            direction: onewayUnknown ? 'both' : wayDirection(p),
            maxspeedKmh: parseMaxspeed(p.maxspeed),
            onewayUnknown,
            coordinates: line.map((pt) => [pt[0]!, pt[1]!]),
          },
          out,
        );
      });
    },
  };
}

/**
 * OSM XML or PBF: each drivable way is a record. The OSM readers resolve a way's nodes over the
 * whole extract, so the file is read whole first (as before) and its ways handed on one by one.
 */
function osmWays(
  source: string,
  format: 'pbf' | 'osm-xml',
  stage: WaySink,
  totals: Totals,
): ImportSource<RoadWay> {
  return {
    ...roadSource(source, totals),
    profile: format,
    binary: format === 'pbf',
    async read(file, _info, h) {
      const raw = readFileSync(file);
      const bytes = isGzip(file) ? gunzipSync(raw) : raw;
      const decoding = new TextDecoding();
      let ways: RoadWay[];
      try {
        const read =
          format === 'pbf' ? readOsmPbf(bytes) : readOsmXml(decoding.write(bytes) + decoding.end());
        ways = read.ways;
        totals.missingNodes = read.missingNodes;
      } catch (e) {
        throw new UserError(
          `${file} is not a readable OSM ${format === 'pbf' ? 'PBF' : 'XML'} file: ${(e as Error).message}`,
        );
      }
      if (!ways.length) throw new UserError(`${file}: no drivable road lines found`);
      ways.forEach((w, i) => h.onRecord(w, i + 1));
      return decoding.report();
    },
    row: (w, _line, out) => stage(w, out),
  };
}
