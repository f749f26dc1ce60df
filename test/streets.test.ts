import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig } from '../src/domains/fire/config.ts';
import { FireService } from '../src/domains/fire/service.ts';
import type { Store } from '../src/platform/db.ts';
import { loadPlanIntoStore, currentPlan } from '../src/domains/strategy/alignment.ts';
import { measureStatuses } from '../src/domains/strategy/status.ts';
import { importCollisionsFile } from '../src/domains/collisions/import.ts';
import { streetsSummary, WEIGHT_SETS } from '../src/domains/collisions/summary.ts';
import { cli, openTemp, ROOT, tempDir } from './helpers.ts';

const SHARED = join(ROOT, '../shared/data/collisions/slo_county_tims_crashes_2011_2020.csv.gz');
const SLO = existsSync(SHARED)
  ? SHARED
  : join(ROOT, 'samples/collisions/slo_county_tims_crashes_2011_2020.csv.gz');

// shared/data/collisions/README.md: crashes, K, A, B, C by year
const YEARS: Record<string, [number, number, number, number, number]> = {
  2011: [1054, 21, 85, 411, 537],
  2012: [1018, 27, 95, 395, 501],
  2013: [1059, 25, 107, 379, 548],
  2014: [1088, 28, 114, 341, 605],
  2015: [1124, 33, 98, 357, 636],
  2016: [1148, 31, 99, 347, 671],
  2017: [1187, 32, 110, 386, 659],
  2018: [1067, 37, 151, 379, 500],
  2019: [1074, 31, 150, 334, 559],
  2020: [848, 18, 121, 294, 415],
};

describe('San Luis Obispo County collisions (TIMS)', () => {
  let store: Store, db: string;
  beforeAll(async () => {
    ({ store, path: db } = await openTemp());
    const s = await importCollisionsFile(store, SLO);
    expect(s).toMatchObject({ rowsRead: 10667, inserted: 10667, quarantined: 0 });
  });
  afterAll(() => store.close());

  it('reproduces the README counts: per year, per severity, killed and injured', async () => {
    const s = await streetsSummary(store, { by: 'year', weights: 'hsm' });
    expect(
      Object.fromEntries(
        s.groups!.map((g) => [
          g.key,
          [g.crashes, g.bySeverity.K, g.bySeverity.A, g.bySeverity.B, g.bySeverity.C],
        ]),
      ),
    ).toEqual(YEARS);
    expect(s.bySeverity).toEqual({ K: 283, A: 1130, B: 3623, C: 5631, O: 0 });
    expect([s.crashes, s.killed, s.injured]).toEqual([10667, 310, 14131]);
  });

  it('scores EPDO with named weight sets, equal to the weighted counts computed independently', async () => {
    for (const [name, w] of Object.entries(WEIGHT_SETS)) {
      const s = await streetsSummary(store, { weights: name });
      expect(s.epdo).toEqual({
        weights: name,
        value: 283 * w.K + 1130 * w.A + 3623 * w.B + 5631 * w.C,
      });
    }
    expect((await streetsSummary(store, { weights: 'hsm' })).epdo.value).toBe(259_795);
  });

  it('keeps mode flags and location provenance (geocoded first)', async () => {
    const m = await streetsSummary(store, { by: 'mode', weights: 'hsm' });
    const byMode = Object.fromEntries(m.groups!.map((g) => [g.key, g.crashes]));
    expect(byMode.pedestrian).toBe(634); // README: 634 pedestrian crashes (counted first)
    const loc = await store.all<{ location_source: string | null; n: number }>(
      'SELECT location_source, count(*) AS n FROM collisions GROUP BY 1 ORDER BY 1 NULLS LAST',
    );
    expect(loc.find((r) => r.location_source === 'geocoded')!.n).toBe(10408);
  });

  it('re-importing changes nothing; a bad row is quarantined with line and field', async () => {
    expect(await importCollisionsFile(store, SLO)).toMatchObject({
      inserted: 0,
      updated: 0,
      unchanged: 10667,
    });
    const f = join(tempDir(), 'bad.csv');
    writeFileSync(
      f,
      'CASE_ID,COLLISION_DATE,COLLISION_TIME,COLLISION_SEVERITY,NUMBER_KILLED,NUMBER_INJURED,LATITUDE,LONGITUDE\n' +
        '9000001,2021-03-04,0830,2,0,1,35.3,120.6\n9000002,2021-13-40,0900,3,0,1,,\n9000003,2021-03-05,2500,7,0,1,,\n',
    );
    const s = await importCollisionsFile(store, f);
    expect(s).toMatchObject({ inserted: 1, quarantined: 2 });
    expect(s.warnings).toMatchObject({ longitude_sign_fixed: 1 });
    const q = await store.all<{ line: number; field: string }>(
      'SELECT line, field FROM quarantine WHERE batch_id = $1 ORDER BY line',
      [s.batchId],
    );
    expect(q).toEqual([
      { line: 3, field: 'COLLISION_DATE' },
      { line: 4, field: 'COLLISION_SEVERITY' },
    ]);
    const fixed = await store.one<{ lon: number; minute: number }>(
      "SELECT lon, collision_minute AS minute FROM collisions WHERE case_id = '9000001'",
    );
    expect(fixed).toEqual({ lon: -120.6, minute: 510 });
    await store.run("DELETE FROM collisions WHERE case_id = '9000001'");
  });

  it('feeds the plan: injury crashes in the rolling 12 months against the 3-year baseline −19%', async () => {
    await loadPlanIntoStore(store, join(ROOT, 'samples/strategy/example-plan.yaml'));
    const rows = await measureStatuses(
      store,
      new FireService(store, defaultConfig()),
      await currentPlan(store),
    );
    const m = rows.find((r) => r.measure === 'injury-collisions-12m')!;
    // window 2019-12-31 < date ≤ 2020-12-30: all 848 crashes of 2020; baseline 2017–2019 = (1187 + 1067 + 1074) / 3
    expect(m).toMatchObject({
      actual: 848,
      prior: 1074,
      target: Math.round(((1187 + 1067 + 1074) / 3) * 0.81 * 10) / 10,
      status: 'on_track',
      trend: 'improving',
    });
  });

  it('the CLI prints crashes, bySeverity and epdo', () => {
    store.close();
    const r = JSON.parse(cli(['streets', 'summary', '--db', db, '--json']).stdout);
    expect(r).toMatchObject({
      crashes: 10667,
      bySeverity: { K: 283, A: 1130, B: 3623, C: 5631, O: 0 },
      epdo: { weights: 'hsm', value: 259_795 },
    });
    const y = JSON.parse(
      cli(['streets', 'summary', '--by', 'year', '--weights', 'fhwa2025', '--db', db, '--json'])
        .stdout,
    );
    expect(y.groups.find((g: { key: string }) => g.key === '2020')).toMatchObject({
      crashes: 848,
      bySeverity: { K: 18, A: 121 },
    });
  });
});
