import { readFileSync } from 'node:fs';
import { UserError } from '../../platform/errors.ts';
import { inspectFile, readCsv } from '../../platform/sources.ts';
import { normaliseHeader } from '../../platform/validation.ts';
import type { Store } from '../../platform/db.ts';

/**
 * Fire stations from GeoJSON points (properties `station` or `id`, `name`, optional `apparatus`) or CSV
 * (columns station/id, name, lat, lon, optional units such as "E01:ENGINE:4;T01:TRUCK"). Without
 * apparatus, a station's units are the CAD units whose home station it is. Re-importing replaces the
 * stations in one transaction; rows without a usable position go to quarantine by line or feature.
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

function parseUnits(text: string | null | undefined, where: string): StationInput['apparatus'] {
  if (!text) return null;
  return text
    .split(/[;|]/)
    .map((u) => u.trim())
    .filter(Boolean)
    .map((u) => {
      const [unit, type, staffing] = u.split(':');
      if (!unit || !type)
        throw new UserError(
          `${where}: units are "UNIT:TYPE[:STAFFING]" separated by ";" (got "${u}")`,
        );
      const n = staffing === undefined ? undefined : Number(staffing);
      if (n !== undefined && (!Number.isInteger(n) || n < 1 || n > 20))
        throw new UserError(`${where}: staffing "${staffing}" is not a crew size`);
      return { unit, type: type.toUpperCase(), staffing: n };
    });
}

export async function importStationsFile(
  store: Store,
  file: string,
): Promise<{ batchId: number; stations: number; quarantined: number; withApparatus: number }> {
  const info = inspectFile(file);
  const good: StationInput[] = [];
  const bad: [number, string, string][] = [];
  if (info.kind === 'json') {
    let doc: {
      features?: {
        properties?: Record<string, unknown>;
        geometry?: { type?: string; coordinates?: number[] };
      }[];
    };
    try {
      doc = JSON.parse(readFileSync(file, 'utf8'));
    } catch (e) {
      throw new UserError(`${file} is not valid JSON: ${(e as Error).message}`);
    }
    if (!Array.isArray(doc.features))
      throw new UserError(`${file}: a GeoJSON FeatureCollection of station points is expected`);
    doc.features.forEach((f, i) => {
      const p = f.properties ?? {},
        c = f.geometry?.coordinates;
      const id = p.station ?? p.id ?? p.STATION;
      if (id === undefined || id === null || id === '')
        return bad.push([i + 1, 'properties.station', 'no station id']);
      if (
        f.geometry?.type !== 'Point' ||
        !Array.isArray(c) ||
        !Number.isFinite(c[0]) ||
        !Number.isFinite(c[1])
      )
        return bad.push([i + 1, 'geometry', `station ${id}: not a Point with coordinates`]);
      const outside = positionProblem(c[0] as number, c[1] as number);
      if (outside)
        return bad.push([i + 1, 'geometry', `station ${id}: [${c[0]}, ${c[1]}] ${outside}`]);
      const apparatus = Array.isArray(p.apparatus)
        ? (p.apparatus as StationInput['apparatus'])
        : parseUnits(typeof p.units === 'string' ? p.units : null, `${file} feature ${i + 1}`);
      good.push({
        id: String(id),
        name: typeof p.name === 'string' ? p.name : null,
        lon: c[0]!,
        lat: c[1]!,
        apparatus,
      });
    });
  } else {
    let idx: Record<string, number> = {};
    await readCsv(file, {
      onHeader(h) {
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
      onRecord(v, line) {
        const lat = Number(v[idx.lat!]),
          lon = Number(v[idx.lon!]);
        if (!v[idx.id!]?.trim()) return void bad.push([line, 'station', 'no station id']);
        const id = v[idx.id!]!.trim();
        if (!Number.isFinite(lat) || Math.abs(lat) > 90 || !v[idx.lat!]?.trim())
          return void bad.push([line, 'lat', `station ${id}: "${v[idx.lat!]}" is not a latitude`]);
        if (!Number.isFinite(lon) || Math.abs(lon) > 180 || !v[idx.lon!]?.trim())
          return void bad.push([line, 'lon', `station ${id}: "${v[idx.lon!]}" is not a longitude`]);
        good.push({
          id,
          name: idx.name! >= 0 ? v[idx.name!]!.trim() || null : null,
          lat,
          lon,
          apparatus: idx.units! >= 0 ? parseUnits(v[idx.units!], `${file} line ${line}`) : null,
        });
      },
      onError(e) {
        bad.push([e.line, '', e.message]);
      },
    });
  }
  const dup = good.map((s) => s.id).find((id, i, all) => all.indexOf(id) !== i);
  if (dup) throw new UserError(`${file}: station ${dup} appears twice`);
  if (!good.length)
    throw new UserError(`${file}: no station could be read (${bad.length} rejected)`);
  return store.transaction(async () => {
    const batchId = (await store.one<{ id: number }>(
      'SELECT coalesce(max(batch_id), 0) + 1 AS id FROM import_batches',
    ))!.id;
    await store.run(
      `INSERT INTO import_batches (batch_id, domain, file, file_sha256, profile, source, started_at) VALUES ($1, 'stations', $2, '', 'stations', 'stations', now())`,
      [batchId, file],
    );
    await store.run('DELETE FROM stations');
    for (const s of good) {
      await store.run('INSERT INTO stations VALUES ($1, $2, $3, $4, $5::JSON, $6)', [
        s.id,
        s.name,
        s.lat,
        s.lon,
        s.apparatus ? JSON.stringify(s.apparatus) : null,
        batchId,
      ]);
    }
    for (const [line, field, reason] of bad) {
      await store.run(
        `INSERT INTO quarantine SELECT (SELECT coalesce(max(quarantine_id), 0) FROM quarantine) + 1, $1, $2, $3, $4, $5, NULL`,
        [batchId, file, line, field, reason],
      );
    }
    await store.run(
      `UPDATE import_batches SET finished_at = now(), rows_read = $2, inserted = $3, quarantined = $4 WHERE batch_id = $1`,
      [batchId, good.length + bad.length, good.length, bad.length],
    );
    return {
      batchId,
      stations: good.length,
      quarantined: bad.length,
      withApparatus: good.filter((s) => s.apparatus).length,
    };
  });
}

/** Polygons for reporting and clipping (the city boundary, census tracts): a named layer, replaced whole. */
export async function importLayerFile(
  store: Store,
  file: string,
  layer: string,
  opts: { valueField?: string } = {},
): Promise<{ layer: string; features: number; withValue: number }> {
  const idKeys = ['id', 'GEOID', 'TRACTCE20', 'nhood', 'name'];
  inspectFile(file);
  let doc: { features?: { properties?: Record<string, unknown>; geometry?: { type?: string } }[] };
  try {
    doc = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new UserError(`${file} is not valid JSON: ${(e as Error).message}`);
  }
  const feats = (doc.features ?? []).filter(
    (f) => f.geometry?.type === 'Polygon' || f.geometry?.type === 'MultiPolygon',
  );
  if (!feats.length) throw new UserError(`${file}: no Polygon or MultiPolygon features`);
  const valueOf = (p: Record<string, unknown>, i: number) => {
    if (!opts.valueField) return null;
    const v = Number(p[opts.valueField]);
    if (
      p[opts.valueField] === undefined ||
      p[opts.valueField] === null ||
      !Number.isFinite(v) ||
      v < 0
    ) {
      throw new UserError(
        `${file} feature ${i + 1}: ${opts.valueField} is "${p[opts.valueField] ?? ''}", not a count`,
      );
    }
    return v;
  };
  const values = feats.map((f, i) => valueOf(f.properties ?? {}, i));
  return store.transaction(async () => {
    const batchId = (await store.one<{ id: number }>(
      'SELECT coalesce(max(batch_id), 0) + 1 AS id FROM import_batches',
    ))!.id;
    await store.run(
      `INSERT INTO import_batches (batch_id, domain, file, file_sha256, profile, source, started_at, finished_at, rows_read, inserted) VALUES ($1, 'layers', $2, '', 'geojson', $3, now(), now(), $4, $4)`,
      [batchId, file, layer, feats.length],
    );
    await store.run('DELETE FROM map_layers WHERE layer = $1', [layer]);
    for (const [i, f] of feats.entries()) {
      const p = f.properties ?? {};
      const key = idKeys.find((k) => p[k] !== undefined && p[k] !== null);
      await store.run('INSERT INTO map_layers VALUES ($1, $2, $3, $4::JSON, $5, $6)', [
        layer,
        key ? String(p[key]) : String(i + 1),
        typeof p.name === 'string' ? p.name : null,
        JSON.stringify(f.geometry),
        batchId,
        values[i] ?? null,
      ]);
    }
    return { layer, features: feats.length, withValue: values.filter((v) => v !== null).length };
  });
}
