import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { importFireFile } from '../src/fire/import.ts';
import { calibrate } from '../src/plan/calibrate.ts';
import { loadPlanContext, type PlanContext } from '../src/plan/model.ts';
import { importStationsFile } from '../src/plan/stations.ts';
import { importRoadsFile } from '../src/roads/import.ts';
import { Store } from '../src/store/db.ts';
import { benchPath, log } from './lib.ts';

const SAMPLES = resolve(import.meta.dirname, '../samples');

/** The planning benchmarks' database: the SF CAD sample, the NE road network and the stations, calibrated (cached in .bench/). */
export async function planContext(): Promise<{ store: Store; ctx: PlanContext }> {
  const path = benchPath('plan.duckdb');
  const fresh = !existsSync(path);
  const store = await Store.open(path);
  if (fresh) {
    log('building .bench/plan.duckdb (SF CAD sample, NE roads, stations, calibration)');
    await importFireFile(store, join(SAMPLES, 'fire/sf_fire_calls_2020-04-07_to_2020-04-20.csv'));
    await importRoadsFile(store, join(SAMPLES, 'geo/sf-ne-osm-2026-drive.geojson.gz'), { source: 'sf-ne' });
    await importStationsFile(store, join(SAMPLES, 'geo/sf-fire-stations.geojson'));
    await calibrate(store, await loadPlanContext(store));
  }
  return { store, ctx: await loadPlanContext(store) };
}
