import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { defaultConfig } from '../src/domains/fire/config.ts';
import { buildApp } from '../src/interfaces/http/app.ts';
import { importCollisionsFile } from '../src/domains/collisions/import.ts';
import type { Store } from '../src/platform/db.ts';
import { openTemp, ROOT } from './helpers.ts';

const THRESHOLD = 10;
const small = (n: number) => n > 0 && n < THRESHOLD;

describe('public road-safety hexagons hold no group under the threshold', () => {
  let store: Store, app: FastifyInstance;
  beforeAll(async () => {
    ({ store } = await openTemp());
    await importCollisionsFile(
      store,
      `${ROOT}/samples/collisions/slo_county_tims_crashes_2011_2020.csv.gz`,
    );
    app = await buildApp({ store, config: defaultConfig() });
  }, 120_000);
  afterAll(async () => {
    await app.close();
    store.close();
  });

  it('every hexagon shown has 10 or more crashes, and the withheld ones together too', async () => {
    const body = (await app.inject({ url: '/api/public/streets' })).json();
    const features = body.hexagons.features as {
      properties: { crashes: number; ksi: number | null };
    }[];
    expect(features.length).toBeGreaterThan(10);
    for (const f of features) {
      expect(f.properties.crashes).toBeGreaterThanOrEqual(THRESHOLD);
      if (f.properties.ksi !== null)
        expect(small(f.properties.ksi) || small(f.properties.crashes - f.properties.ksi)).toBe(
          false,
        );
    }
    // the crashes placed on a hexagon, counted in the database: minus the shown ones, what was withheld
    const placed = (await store.one<{ n: number }>(
      'SELECT count(*) AS n FROM collisions WHERE lat IS NOT NULL AND lon IS NOT NULL',
    ))!.n;
    const shown = features.reduce((s, f) => s + f.properties.crashes, 0);
    expect(small(placed - shown), `${placed - shown} crashes withheld`).toBe(false);
  });

  it('yearly and corridor figures are withheld (null) when they rest on 1 to 9 crashes or people', async () => {
    const body = (await app.inject({ url: '/api/public/streets' })).json();
    const years = body.years as {
      year: number;
      crashes: number | null;
      bySeverity: Record<string, number | null>;
      killed: number | null;
      injured: number | null;
    }[];
    const figures = [
      ...years.flatMap((y) => [y.crashes, y.killed, y.injured, ...Object.values(y.bySeverity)]),
      ...(
        body.corridors.list as { crashes: number | null; ka: number | null; ksi: number | null }[]
      ).flatMap((c) => [c.crashes, c.ka, c.ksi]),
    ];
    for (const n of figures) if (n !== null) expect(small(n), `${n} shown`).toBe(false);
    // killed per year in this county is under 10 in some years, counted straight from the rows
    const perYear = await store.all<{ year: number; killed: number }>(
      'SELECT year(collision_date) AS year, sum(killed)::INT AS killed FROM collisions GROUP BY 1',
    );
    const smallYears = perYear.filter((r) => small(r.killed)).map((r) => Number(r.year));
    for (const y of years) if (smallYears.includes(y.year)) expect(y.killed).toBeNull();
    // within a year the withheld severities never add up to 1..9 (the total minus the rest would give them away)
    for (const y of years) {
      if (y.crashes === null) continue;
      const shown = Object.values(y.bySeverity).reduce<number>((s, n) => s + (n ?? 0), 0);
      expect(small(y.crashes - shown)).toBe(false);
    }
  });
});
