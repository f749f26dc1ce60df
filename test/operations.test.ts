import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { importFireFile } from '../src/domains/fire/import.ts';
import type { FireService } from '../src/domains/fire/service.ts';
import type { Store } from '../src/platform/db.ts';
import { FIXTURES, openTemp, SF_2017, SF_2020 } from './helpers.ts';

describe('ERF, UHU and concurrency on small real excerpts, checked by hand', () => {
  let store: Store, fire: FireService;
  beforeAll(async () => {
    ({ store, fire } = await openTemp());
    await importFireFile(store, SF_2017, { profile: 'sf-fire-calls' });
    // 40 real rows: the 20 incidents received 2020-04-08 03:00–05:00
    await importFireFile(store, join(FIXTURES, 'sf-2020-04-08-0300-0500.csv'), {
      profile: 'sf-fire-calls',
    });
  });
  afterAll(() => store.close());

  it('ERF: incident 17007380 assembles 15 persons at 17:43:29, 352 s after the call', async () => {
    // E21 (4) 17:41:02, B05 (1) 17:41:23, E12 (4) 17:41:51, E05 (4) 17:42:54, medic 73 (2) 17:43:29 → 15
    const one = (await fire.metrics({
      from: '2017-01-16',
      to: '2017-01-16',
      priority: 'all',
    })) as unknown as Record<string, { n: number; p50: number; max: number }>;
    expect(one.incidents).toBe(1);
    expect(one.erf).toMatchObject({ n: 1, p50: 352 });
    expect(one.firstUnitTravel).toMatchObject({ n: 1, p50: 91 }); // E21: 17:39:31 → 17:41:02
    expect(one.totalResponse).toMatchObject({ n: 1, p50: 205 }); // 17:37:37 → 17:41:02
    expect(one.callProcessing).toMatchObject({ n: 1, p50: 63 }); // 17:37:37 → 17:38:40
  });

  it('UHU: unit 86 was busy 4,023 s on 2020-04-08 (0.0465625 of 24 h)', async () => {
    // 04:14:31–05:00:26 (2,755 s) and 05:00:35–05:21:43 (1,268 s)
    const u = await fire.utilization({ from: '2020-04-08', to: '2020-04-08', priority: 'all' });
    const byUnit = Object.fromEntries(u.units!.map((x) => [x.unit, x]));
    expect(byUnit['86']!.busyHours * 3600).toBeCloseTo(4023, 6);
    expect(byUnit['86']!.uhu).toBeCloseTo(0.0465625, 12);
    expect(byUnit['54']!.uhu).toBeCloseTo(5811 / 86400, 12);
    expect(byUnit['E42']!.uhu).toBeCloseTo(3485 / 86400, 12);
    expect(u.period).toMatchObject({ hours: 24, basis: 'filter' });
  });

  it('shifts follow the configured rotation (ABC from 2020-01-01, change at 08:00 local)', async () => {
    // 03:00–05:00 on 2020-04-08 is before the change: still the shift of day 97 after the anchor, 97 mod 3 = 1 → B
    const m = (await fire.metrics({
      from: '2020-04-08',
      to: '2020-04-08',
      priority: 'all',
      by: ['shift'],
    })) as unknown as { groups: { key: string; incidents: number }[] };
    expect(m.groups).toEqual([expect.objectContaining({ key: 'B', incidents: 20 })]);
    const d = (await fire.metrics({
      from: '2017-01-16',
      to: '2017-01-16',
      priority: 'all',
      by: ['shift'],
    })) as unknown as { groups: { key: string }[] };
    // 17:37 on 2017-01-16 is 1,080 days before the anchor day: −1080 mod 3 = 0 → A
    expect(d.groups.map((g) => g.key)).toEqual(['A']);
  });

  it('concurrency: incidents already in progress at each of the 18 department calls', async () => {
    const c = await fire.concurrency({ from: '2020-04-08', to: '2020-04-08', priority: 'all' });
    expect(c.atArrival).toEqual({ 0: 1, 1: 1, 2: 1, 3: 1, 4: 1, 5: 3, 6: 2, 7: 2, 8: 4, 9: 2 });
    expect(c.atArrivalSameArea).toEqual({ 0: 13, 1: 4, 2: 1 });
    expect(c.maxInProgress).toBe(10);
    expect(c.excluded).toEqual({ no_end_time: 2 }); // private-ambulance-only calls (KM03, AM122)
  });
});

describe('UHU over the 12 whole days matches the data README', () => {
  it('MEDIC mean 0.218, max 0.440 (unit 74); ENGINE mean 0.052, max 0.166; TRUCK mean 0.031', async () => {
    const { store, fire } = await openTemp();
    await importFireFile(store, SF_2020, { profile: 'sf-fire-calls' });
    const u = await fire.utilization({ from: '2020-04-08', to: '2020-04-19', priority: 'all' });
    const t = Object.fromEntries(u.byUnitType!.map((x) => [x.unitType, x]));
    expect(t.MEDIC_ALS!.meanUhu.toFixed(3)).toBe('0.218');
    expect(t.MEDIC_ALS!.maxUhu.toFixed(3)).toBe('0.440');
    expect(t.MEDIC_ALS!.maxUnit).toBe('74');
    expect(t.ENGINE!.meanUhu.toFixed(3)).toBe('0.052');
    expect(t.ENGINE!.maxUhu.toFixed(3)).toBe('0.166');
    expect(t.TRUCK!.meanUhu.toFixed(3)).toBe('0.031');
    const v = await fire.volume({ priority: 'all' });
    expect(v.hourOfWeek.flat().reduce((a, b) => a + b, 0)).toBe(5292);
    const r = await fire.reliability({ priority: 'all' });
    expect(r.overall.incidents + r.excluded.no_arrival + r.excluded.no_station_area).toBe(5292);
    store.close();
  });
});
