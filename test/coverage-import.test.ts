import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { importRoadsFile } from '../src/domains/coverage/roads.ts';
import { importLayerFile, importStationsFile } from '../src/domains/coverage/stations.ts';
import type { Store } from '../src/platform/db.ts';
import { openTemp, ROOT, tempDir } from './helpers.ts';

/**
 * Stations and map layers through the one ingest pipeline: raw rows kept, a re-import leaves
 * unchanged rows alone, the file is the whole set (a station it drops is removed), and a bad feature
 * goes to the quarantine with the file, its feature number and the field.
 */
const GEO = join(ROOT, 'samples/geo');
const STATIONS = join(GEO, 'sf-fire-stations.geojson');
const TRACTS = join(GEO, 'sf-tracts-2020.geojson');
const features = (file: string) =>
  JSON.parse(readFileSync(file, 'utf8')).features as {
    properties: Record<string, unknown>;
    geometry: { type: string; coordinates: unknown };
  }[];

describe('stations and layers import through the one pipeline', () => {
  let store: Store;
  afterEach(() => store?.close());
  const count = async (sql: string, params: (string | number)[] = []) =>
    (await store.one<{ n: number }>(`SELECT count(*)::INTEGER AS n FROM (${sql})`, params))!.n;

  it('stations: raw rows kept, a re-import changes nothing, a dropped station is removed, a bad feature quarantined', async () => {
    ({ store } = await openTemp());
    const all = features(STATIONS);
    const first = await importStationsFile(store, STATIONS);
    expect([first.rowsRead, first.inserted, first.quarantined]).toEqual([
      all.length,
      all.length,
      0,
    ]);
    expect(await count('SELECT * FROM stations')).toBe(all.length);
    expect(await count(`SELECT * FROM source_rows WHERE source = 'stations'`)).toBe(all.length);

    const again = await importStationsFile(store, STATIONS);
    expect([again.inserted, again.updated, again.unchanged]).toEqual([0, 0, all.length]);
    expect(await count('SELECT * FROM stations WHERE batch_id = $1', [first.batchId])).toBe(
      all.length,
    );

    // the second feature loses its position, the last is dropped, the first is renamed
    const edited = structuredClone(all).slice(0, -1);
    edited[0]!.properties.name = 'Renamed';
    edited[1]!.geometry = { type: 'Point', coordinates: [500, 37] };
    const file = join(tempDir(), 'stations.geojson');
    writeFileSync(file, JSON.stringify({ type: 'FeatureCollection', features: edited }));
    const third = await importStationsFile(store, file);
    expect([third.rowsRead, third.updated, third.quarantined, third.removed]).toEqual([
      all.length - 1,
      1,
      1,
      2,
    ]);
    expect(await count('SELECT * FROM stations')).toBe(all.length - 2);
    const q = await store.one('SELECT file, line, field FROM quarantine WHERE batch_id = $1', [
      third.batchId,
    ]);
    expect(q).toEqual({ file, line: 2, field: 'geometry' });
  });

  it('a layer: re-import changes nothing; a feature that is not a polygon is quarantined by number', async () => {
    ({ store } = await openTemp());
    const all = features(TRACTS);
    const first = await importLayerFile(store, TRACTS, 'tracts');
    expect([first.rowsRead, first.inserted, first.features]).toEqual([
      all.length,
      all.length,
      all.length,
    ]);
    const again = await importLayerFile(store, TRACTS, 'tracts');
    expect([again.inserted, again.updated, again.unchanged]).toEqual([0, 0, all.length]);
    expect(await count(`SELECT * FROM map_layers WHERE layer = 'tracts'`)).toBe(all.length);

    const edited = structuredClone(all);
    edited[2]!.geometry = { type: 'Point', coordinates: [-122.4, 37.7] };
    const file = join(tempDir(), 'tracts.geojson');
    writeFileSync(file, JSON.stringify({ type: 'FeatureCollection', features: edited }));
    const third = await importLayerFile(store, file, 'tracts');
    expect([third.quarantined, third.removed]).toEqual([1, 1]);
    expect(await count(`SELECT * FROM map_layers WHERE layer = 'tracts'`)).toBe(all.length - 1);
    const q = await store.one('SELECT line, field, reason FROM quarantine WHERE batch_id = $1', [
      third.batchId,
    ]);
    expect(q).toEqual({
      line: 3,
      field: 'geometry',
      reason: 'geometry Point is not a Polygon or MultiPolygon',
    });
  });

  it('roads (OSM XML): a re-import of the same extract leaves every way alone', async () => {
    ({ store } = await openTemp());
    const file = join(GEO, 'sf-mission-osm-2014.osm.gz');
    const first = await importRoadsFile(store, file, { source: 'mission' });
    expect(first.inserted).toBe(first.segments);
    const again = await importRoadsFile(store, file, { source: 'mission' });
    expect([again.inserted, again.updated, again.unchanged]).toEqual([0, 0, first.segments]);
    expect(await count(`SELECT * FROM road_segments WHERE source = 'mission'`)).toBe(
      first.segments,
    );
    expect(again.lengthKm).toBeCloseTo(first.lengthKm, 9);
  });
});
