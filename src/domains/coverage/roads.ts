import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { UserError } from '../../platform/errors.ts';
import {
  encodingNote,
  inspectFile,
  isGzip,
  TextDecoding,
  type TextReport,
} from '../../platform/sources.ts';
import type { Store } from '../../platform/db.ts';
import { makeStagingDir, removeStagingDir, StageFile } from '../../platform/staging.ts';
import { haversineM } from '../../platform/geo.ts';
import { parseMaxspeed, readOsmPbf, readOsmXml, wayDirection, type RoadWay } from './osm.ts';

/**
 * A road network from an OSM extract (`.osm.pbf`, `.osm`/`.osm.gz` XML) or GeoJSON lines (OSM-derived,
 * or city centrelines with a name). The whole source is replaced in one transaction, so re-importing
 * the same file leaves the same network; GeoJSON features without a usable line go to quarantine with
 * their feature number. The same table feeds the high-injury network and drive-time planning.
 */
export interface RoadImportSummary {
  batchId: number;
  file: string;
  format: string;
  source: string;
  features: number;
  segments: number;
  lengthKm: number;
  quarantined: number;
  unnamed: number;
  onewayUnknown: number;
  missingNodes: number;
  /** a file with bytes that are not UTF-8 (read as Windows-1252): where; absent otherwise */
  notes?: string[];
}

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

function readGeoJson(text: string, file: string) {
  let doc: {
    type?: string;
    features?: {
      properties?: Record<string, unknown>;
      geometry?: { type?: string; coordinates?: unknown };
    }[];
  };
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new UserError(`${file} is not readable GeoJSON: ${(e as Error).message}`);
  }
  if (doc?.type !== 'FeatureCollection' || !Array.isArray(doc.features))
    throw new UserError(`${file}: a GeoJSON FeatureCollection of road lines is expected`);
  const ways: RoadWay[] = [];
  const rejected: [number, string, string][] = [];
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
  doc.features.forEach((f, i) => {
    const g = f?.geometry;
    const lines =
      g?.type === 'LineString'
        ? [g.coordinates]
        : g?.type === 'MultiLineString' && Array.isArray(g.coordinates)
          ? g.coordinates
          : null;
    if (!lines)
      return rejected.push([
        i + 1,
        'geometry',
        `geometry ${g?.type ?? 'missing'} is not a LineString or MultiLineString`,
      ]);
    const p = f.properties ?? {};
    if (p.access === 'private' || p.access === 'no') return;
    const id = String(p.osm_id ?? p.id ?? p.OBJECTID ?? `f${i + 1}`);
    const onewayUnknown =
      p.oneway_unknown === true && (p.oneway === null || p.oneway === undefined);
    lines.forEach((line, k) => {
      if (!validLine(line))
        return rejected.push([
          i + 1,
          'geometry.coordinates',
          'a line needs two or more [lon, lat] positions within range',
        ]);
      ways.push({
        id: lines.length > 1 ? `${id}#${k}` : id,
        name: pick(p, NAME_KEYS),
        highway: pick(p, CLASS_KEYS),
        direction: onewayUnknown ? 'both' : wayDirection(p),
        maxspeedKmh: parseMaxspeed(p.maxspeed),
        onewayUnknown,
        coordinates: line.map((pt) => [pt[0]!, pt[1]!]),
      });
    });
  });
  return { ways, rejected, features: doc.features.length };
}

/** Reads the ways of a road file (any of the formats), without touching a database. */
export function readRoadFile(file: string): {
  ways: RoadWay[];
  rejected: [number, string, string][];
  features: number;
  missingNodes: number;
  format: Format;
  decoded: TextReport;
} {
  // PBF is binary: only text formats go through the text checks
  if (!/\.pbf$/i.test(file)) inspectFile(file);
  let raw: Buffer;
  try {
    raw = readFileSync(file);
  } catch (e) {
    throw new UserError(
      `Cannot read ${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`,
    );
  }
  if (!raw.length) throw new UserError(`${file} is empty: nothing to import.`);
  const bytes = isGzip(file) ? gunzipSync(raw) : raw;
  const format = formatOf(file.replace(/\.gz$/i, ''), bytes.subarray(0, 200));
  const decoding = new TextDecoding();
  const text = () => decoding.write(bytes) + decoding.end();
  if (format === 'geojson')
    return { ...readGeoJson(text(), file), missingNodes: 0, format, decoded: decoding.report() };
  try {
    const { ways, missingNodes } = format === 'pbf' ? readOsmPbf(bytes) : readOsmXml(text());
    return {
      ways,
      rejected: [],
      features: ways.length,
      missingNodes,
      format,
      decoded: decoding.report(),
    };
  } catch (e) {
    throw new UserError(
      `${file} is not a readable OSM ${format === 'pbf' ? 'PBF' : 'XML'} file: ${(e as Error).message}`,
    );
  }
}

export async function importRoadsFile(
  store: Store,
  file: string,
  opts: { source?: string } = {},
): Promise<RoadImportSummary> {
  const source = opts.source ?? 'roads';
  const { ways, rejected, features, missingNodes, format, decoded } = readRoadFile(file);
  const note = encodingNote(file, decoded);
  if (!ways.length)
    throw new UserError(
      `${file}: no drivable road lines found (${rejected.length} features rejected)`,
    );
  const lengths = ways.map((w) => {
    let len = 0;
    for (let j = 1; j < w.coordinates.length; j++)
      len += haversineM(
        { lon: w.coordinates[j - 1]![0], lat: w.coordinates[j - 1]![1] },
        { lon: w.coordinates[j]![0], lat: w.coordinates[j]![1] },
      );
    return len;
  });
  return store.transaction(async () => {
    const batchId = (await store.one<{ id: number }>(
      'SELECT coalesce(max(batch_id), 0) + 1 AS id FROM import_batches',
    ))!.id;
    await store.run(
      `INSERT INTO import_batches (batch_id, domain, file, file_sha256, profile, source, started_at) VALUES ($1, 'roads', $2, '', $3, $4, now())`,
      [batchId, file, format, source],
    );
    await store.run('DELETE FROM road_segments WHERE source = $1', [source]);
    const dir = makeStagingDir('roads');
    try {
      const stage = new StageFile(
        join(dir, 'roads.csv'),
        [
          'segment_id',
          'name',
          'highway',
          'direction',
          'maxspeed_kmh',
          'oneway_unknown',
          'coordinates',
          'length_m',
        ],
        { maxspeed_kmh: 'DOUBLE', oneway_unknown: 'BOOLEAN', length_m: 'DOUBLE' },
      );
      ways.forEach((w, i) =>
        stage.write([
          w.id,
          w.name,
          w.highway,
          w.direction,
          w.maxspeedKmh,
          w.onewayUnknown,
          JSON.stringify(w.coordinates),
          lengths[i],
        ]),
      );
      stage.close();
      await store.run(
        `INSERT INTO road_segments (segment_id, source, name, road_class, coordinates, length_m, batch_id, highway, direction, maxspeed_kmh, oneway_unknown)
        SELECT segment_id, $1, name, highway, coordinates::JSON, length_m, $2, highway, direction, maxspeed_kmh, oneway_unknown FROM ${stage.sql()}`,
        [source, batchId],
      );
    } finally {
      removeStagingDir(dir);
    }
    for (const [feature, field, reason] of rejected) {
      await store.run(
        `INSERT INTO quarantine SELECT (SELECT coalesce(max(quarantine_id), 0) FROM quarantine) + 1, $1, $2, $3, $4, $5, NULL`,
        [batchId, file, feature, field, `feature ${feature}: ${reason}`],
      );
    }
    const lengthKm = lengths.reduce((a, s) => a + s, 0) / 1000;
    await store.run(
      `UPDATE import_batches SET finished_at = now(), rows_read = $2, inserted = $3, quarantined = $4, warnings = $5 WHERE batch_id = $1`,
      [
        batchId,
        features,
        ways.length,
        rejected.length,
        JSON.stringify({
          oneway_unknown: ways.filter((w) => w.onewayUnknown).length,
          missing_nodes: missingNodes,
          ...(note ? { invalid_utf8: decoded.nonUtf8Lines } : {}),
        }),
      ],
    );
    return {
      batchId,
      file,
      format,
      source,
      features,
      segments: ways.length,
      lengthKm,
      quarantined: rejected.length,
      unnamed: ways.filter((w) => !w.name).length,
      onewayUnknown: ways.filter((w) => w.onewayUnknown).length,
      missingNodes,
      ...(note ? { notes: [note] } : {}),
    };
  });
}
