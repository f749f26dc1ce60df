import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importFireFile } from '../src/domains/fire/import.ts';
import type { FireService } from '../src/domains/fire/service.ts';
import type { Store } from '../src/platform/db.ts';
import { cli, openTemp, SF_2020 } from './helpers.ts';

// fire.md §7: computed independently (cap 3600 s, PRIVATE excluded, emergency = Final Priority 3, nearest rank).
const REFERENCE = {
  all: {
    callProcessing: [4866, 101, 240],
    totalResponse: [4683, 403, 1010],
    turnout: [9163, 39, 125],
    travel: [7749, 229, 782],
  },
  emergency: {
    callProcessing: [3008, 103, 217],
    totalResponse: [2919, 339, 548],
    turnout: [6910, 60, 130],
    travel: [5732, 189, 461],
  },
} as const;

describe('San Francisco 2020-04 file reproduces fire.md §7 exactly', () => {
  let store: Store, fire: FireService, db: string;
  beforeAll(async () => {
    ({ store, fire, path: db } = await openTemp());
    const s = await importFireFile(store, SF_2020, { profile: 'sf-fire-calls' });
    expect(s).toMatchObject({ rowsRead: 10410, inserted: 10410, quarantined: 0 });
  });
  afterAll(() => store.close());

  it('has 10,410 unit responses on 5,292 incidents', async () => {
    const m = await fire.metrics({ priority: 'all' });
    expect(m).toMatchObject({ incidents: 5292, unitResponses: 10410 });
  });

  for (const priority of ['all', 'emergency'] as const) {
    for (const [segment, [n, p50, p90]] of Object.entries(REFERENCE[priority])) {
      it(`${segment}, ${priority}: n ${n}, p50 ${p50}, p90 ${p90}`, async () => {
        const m = (await fire.metrics({ priority })) as unknown as Record<
          string,
          { n: number; p50: number; p90: number }
        >;
        expect([m[segment]!.n, m[segment]!.p50, m[segment]!.p90]).toEqual([n, p50, p90]);
      });
    }
  }

  it('counts every excluded value by reason: n + excluded = all candidates', async () => {
    const m = (await fire.metrics({ priority: 'all' })) as unknown as Record<
      string,
      { n: number; excluded: Record<string, number> }
    >;
    const total = (s: string) => m[s]!.n + Object.values(m[s]!.excluded).reduce((a, b) => a + b, 0);
    expect(total('turnout')).toBe(10410);
    expect(total('travel')).toBe(10410);
    expect(total('callProcessing')).toBe(5292);
    expect(m.callProcessing!.excluded).toEqual({ no_own_unit: 426 });
    expect(m.travel!.excluded).toEqual({ other_agency: 1068, missing_stamp: 1590, over_cap: 3 });
  });

  it('a date range without incidents answers n 0 for every segment, not an error', async () => {
    const m = (await fire.metrics({
      from: '2019-01-01',
      to: '2019-12-31',
      priority: 'emergency',
    })) as unknown as Record<string, { n: number; p90: number | null }>;
    expect(m.incidents).toBe(0);
    expect([m.turnout!.n, m.turnout!.p90, m.erf!.n]).toEqual([0, null, 0]);
    const g = (await fire.metrics({
      from: '2019-01-01',
      to: '2019-12-31',
      priority: 'all',
      by: ['station'],
    })) as unknown as { groups: unknown[] };
    expect(g.groups).toEqual([]);
  });

  it('grouped figures add up to the whole', async () => {
    const whole = (await fire.metrics({ priority: 'emergency' })) as unknown as Record<
      string,
      { n: number }
    >;
    for (const by of ['station', 'month', 'hour', 'dow', 'shift', 'unitType'] as const) {
      const g = (await fire.metrics({ priority: 'emergency', by: [by] })) as unknown as {
        groups: Record<string, { n: number }>[];
      };
      expect(
        g.groups.reduce((a, x) => a + x.turnout!.n, 0),
        by,
      ).toBe(whole.turnout!.n);
      expect(
        g.groups.reduce((a, x) => a + x.totalResponse!.n, 0),
        by,
      ).toBe(whole.totalResponse!.n);
    }
  });

  it('the CLI prints the same figures as JSON with the documented keys', () => {
    store.close();
    const r = cli(['fire', 'metrics', '--db', db, '--priority', 'emergency', '--json']);
    expect(r.stderr).toBe('');
    const m = JSON.parse(r.stdout);
    for (const [segment, [n, p50, p90]] of Object.entries(REFERENCE.emergency)) {
      expect(m[segment]).toMatchObject({ n, p50, p90 });
      expect(typeof m[segment].excluded).toBe('object');
    }
    const g = JSON.parse(cli(['fire', 'metrics', '--db', db, '--by', 'month', '--json']).stdout);
    expect(g.groups.map((x: { key: string }) => x.key)).toEqual(['2020-04']);
    expect(g.groups[0].travel).toMatchObject({ n: 7749, p50: 229, p90: 782 });
  });
});
