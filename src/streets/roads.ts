import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { UserError } from '../core/errors.ts';
import { inspectFile, isGzip } from '../core/sources.ts';
import type { Store } from '../store/db.ts';
import { StageFile } from '../store/staging.ts';
import { haversineM } from './geo.ts';

/**
 * A road network from GeoJSON (LineString or MultiLineString features; OSM exports with `name` and
 * `highway`, or city centrelines with a name and class property). The whole source is replaced in one
 * transaction, so re-importing the same file leaves the same network; features without a usable line
 * go to quarantine with their feature number.
 */
export interface RoadImportSummary { batchId: number; file: string; source: string; features: number; segments: number; lengthKm: number; quarantined: number; unnamed: number }

const NAME_KEYS = ['name', 'NAME', 'street', 'STREET', 'streetname', 'STREETNAME', 'FULLNAME', 'fullname'];
const CLASS_KEYS = ['highway', 'class', 'CLASS', 'road_class', 'FUNC_CLASS', 'fclass'];

export async function importRoadsFile(store: Store, file: string, opts: { source?: string } = {}): Promise<RoadImportSummary> {
  inspectFile(file);
  const source = opts.source ?? 'roads';
  let doc: { type?: string; features?: { properties?: Record<string, unknown>; geometry?: { type?: string; coordinates?: unknown } }[] };
  try {
    const bytes = readFileSync(file);
    doc = JSON.parse((isGzip(file) ? gunzipSync(bytes) : bytes).toString('utf8'));
  } catch (e) {
    throw new UserError(`${file} is not readable GeoJSON: ${(e as Error).message}`);
  }
  if (doc?.type !== 'FeatureCollection' || !Array.isArray(doc.features)) throw new UserError(`${file}: a GeoJSON FeatureCollection of road lines is expected`);
  const segments: [string, string | null, string | null, string, number][] = [];
  const rejected: [number, string, string][] = [];
  let unnamed = 0;
  const pick = (p: Record<string, unknown>, keys: string[]) => { for (const k of keys) if (typeof p[k] === 'string' && (p[k] as string).trim()) return (p[k] as string).trim(); return null; };
  const validLine = (c: unknown): c is number[][] => Array.isArray(c) && c.length >= 2 &&
    c.every((pt) => Array.isArray(pt) && Number.isFinite(pt[0]) && Number.isFinite(pt[1]) && Math.abs(pt[0]) <= 180 && Math.abs(pt[1]) <= 90);
  doc.features.forEach((f, i) => {
    const g = f?.geometry;
    const lines = g?.type === 'LineString' ? [g.coordinates] : g?.type === 'MultiLineString' && Array.isArray(g.coordinates) ? g.coordinates : null;
    if (!lines) return rejected.push([i + 1, 'geometry', `geometry ${g?.type ?? 'missing'} is not a LineString or MultiLineString`]);
    const p = f.properties ?? {};
    const name = pick(p, NAME_KEYS), cls = pick(p, CLASS_KEYS);
    if (!name) unnamed++;
    const id = String(p.osm_id ?? p.id ?? p.OBJECTID ?? `f${i + 1}`);
    lines.forEach((line, k) => {
      if (!validLine(line)) return rejected.push([i + 1, 'geometry.coordinates', 'a line needs two or more [lon, lat] positions within range']);
      let len = 0;
      for (let j = 1; j < line.length; j++) len += haversineM({ lon: line[j - 1]![0]!, lat: line[j - 1]![1]! }, { lon: line[j]![0]!, lat: line[j]![1]! });
      segments.push([lines.length > 1 ? `${id}#${k}` : id, name, cls, JSON.stringify(line.map((pt) => [pt[0], pt[1]])), len]);
    });
  });
  if (!segments.length) throw new UserError(`${file}: no road lines found (${rejected.length} features rejected)`);
  return store.transaction(async () => {
    const batchId = (await store.one<{ id: number }>('SELECT coalesce(max(batch_id), 0) + 1 AS id FROM import_batches'))!.id;
    await store.run(`INSERT INTO import_batches (batch_id, domain, file, file_sha256, profile, source, started_at) VALUES ($1, 'roads', $2, '', 'geojson', $3, now())`, [batchId, file, source]);
    await store.run('DELETE FROM road_segments WHERE source = $1', [source]);
    const dir = mkdtempSync(join(tmpdir(), 'cityops-roads-'));
    try {
      const stage = new StageFile(join(dir, 'roads.csv'), ['segment_id', 'name', 'road_class', 'coordinates', 'length_m'], { length_m: 'DOUBLE' });
      for (const s of segments) stage.write(s);
      stage.close();
      await store.run(`INSERT INTO road_segments SELECT segment_id, $1, name, road_class, coordinates::JSON, length_m, $2 FROM ${stage.sql()}`, [source, batchId]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    for (const [feature, field, reason] of rejected) {
      await store.run(`INSERT INTO quarantine SELECT (SELECT coalesce(max(quarantine_id), 0) FROM quarantine) + 1, $1, $2, $3, $4, $5, NULL`, [batchId, file, feature, field, `feature ${feature}: ${reason}`]);
    }
    const lengthKm = segments.reduce((a, s) => a + s[4], 0) / 1000;
    await store.run(`UPDATE import_batches SET finished_at = now(), rows_read = $2, inserted = $3, quarantined = $4 WHERE batch_id = $1`,
      [batchId, doc.features!.length, segments.length, rejected.length]);
    return { batchId, file, source, features: doc.features!.length, segments: segments.length, lengthKm, quarantined: rejected.length, unnamed };
  });
}
