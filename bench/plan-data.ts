import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { importFireFile } from '../src/domains/fire/import.ts';
import { calibrate } from '../src/domains/coverage/calibrate.ts';
import { loadCoverageContext, type CoverageContext } from '../src/domains/coverage/context.ts';
import { importStationsFile } from '../src/domains/coverage/stations.ts';
import { importRoadsFile } from '../src/domains/coverage/roads.ts';
import { Store } from '../src/platform/db.ts';
import { benchPath, log } from './lib.ts';

const SAMPLES = resolve(import.meta.dirname, '../samples');

/** The planning benchmarks' database: the SF CAD sample, the NE road network and the stations, calibrated (cached in .bench/). */
export async function planContext(): Promise<{ store: Store; ctx: CoverageContext }> {
  const path = benchPath('plan.duckdb');
  const fresh = !existsSync(path);
  const store = await Store.open(path);
  if (fresh) {
    log('building .bench/plan.duckdb (SF CAD sample, NE roads, stations, calibration)');
    await importFireFile(store, join(SAMPLES, 'fire/sf_fire_calls_2020-04-07_to_2020-04-20.csv'));
    await importRoadsFile(store, join(SAMPLES, 'geo/sf-ne-osm-2026-drive.geojson.gz'), {
      source: 'sf-ne',
    });
    await importStationsFile(store, join(SAMPLES, 'geo/sf-fire-stations.geojson'));
    await calibrate(store, await loadCoverageContext(store));
  }
  return { store, ctx: await loadCoverageContext(store) };
}
