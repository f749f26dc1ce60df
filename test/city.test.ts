import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { FireConfigSchema } from '../src/domains/fire/config.ts';
import { importFireFile } from '../src/domains/fire/import.ts';
import { importLayerFile, importStationsFile } from '../src/domains/coverage/stations.ts';
import { buildApp } from '../src/interfaces/http/app.ts';
import { importCollisionsFile } from '../src/domains/collisions/import.ts';
import type { Store } from '../src/platform/db.ts';
import { spawn } from 'node:child_process';
import { cli, openTemp, ROOT, SF_2020, tempDir } from './helpers.ts';

// Extent of samples/geo/sf-boundary.geojson, computed with Python's json module over every vertex.
const SF_BOUNDARY_EXTENT = [
  [-122.514483, 37.708132],
  [-122.357021, 37.832396],
];

describe('one city configuration: the web app asks the server which city it shows', () => {
  let store: Store, app: FastifyInstance;
  beforeAll(async () => {
    ({ store } = await openTemp());
    await importFireFile(store, SF_2020);
    await importStationsFile(store, `${ROOT}/samples/geo/sf-fire-stations.geojson`);
    await importLayerFile(store, `${ROOT}/samples/geo/sf-boundary.geojson`, 'boundary');
    app = await buildApp({
      store,
      config: FireConfigSchema.parse({
        name: 'San Francisco',
        attribution: 'City and County of San Francisco',
      }),
    });
  });
  afterAll(async () => {
    await app.close();
    store.close();
  });

  it('names the city, its extent from the imported boundary, its layers and the months with data', async () => {
    const r = await app.inject({ url: '/api/public/city' });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toEqual({
      name: 'San Francisco',
      timeZone: 'America/Los_Angeles',
      attribution: 'City and County of San Francisco',
      bounds: SF_BOUNDARY_EXTENT,
      layers: ['boundary', 'stations'],
      // the file holds calls received 2020-04-07 to 2020-04-20 (its name and README)
      periods: { fire: { from: '2020-04', to: '2020-04' }, collisions: null },
    });
  });

  it('serves map layers from what was imported, not from files on disk', async () => {
    const stations = (await app.inject({ url: '/api/public/geo/stations' })).json();
    expect(stations.features).toHaveLength(42); // 42 points in sf-fire-stations.geojson
    expect(stations.features[0].properties).toHaveProperty('station');
    const boundary = (await app.inject({ url: '/api/public/geo/boundary' })).json();
    expect(boundary.features).toHaveLength(1);
    const missing = await app.inject({ url: '/api/public/geo/neighborhoods' });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error).toBe('No map layer "neighborhoods". Layers: boundary, stations');
  });
});

describe('a second city: San Luis Obispo County collisions, nothing of San Francisco', () => {
  let store: Store, app: FastifyInstance;
  beforeAll(async () => {
    ({ store } = await openTemp());
    await importCollisionsFile(
      store,
      `${ROOT}/samples/collisions/slo_county_tims_crashes_2011_2020.csv.gz`,
    );
    app = await buildApp({
      store,
      config: FireConfigSchema.parse({
        name: 'San Luis Obispo County',
        attribution: 'SWITRS (CHP) via UC Berkeley TIMS',
      }),
    });
  });
  afterAll(async () => {
    await app.close();
    store.close();
  });

  it('takes its extent and period from its own data', async () => {
    const city = (await app.inject({ url: '/api/public/city' })).json();
    expect(city.name).toBe('San Luis Obispo County');
    expect(city.layers).toEqual([]);
    expect(city.periods).toEqual({ fire: null, collisions: { from: '2011-01', to: '2020-12' } });
    // SLO County lies within about 119.4–121.5 °W, 34.9–35.8 °N: the middle 98% of crashes is inside it
    const [[w, s], [e, n]] = city.bounds;
    expect(w).toBeGreaterThan(-121.5);
    expect(e).toBeLessThan(-119.4);
    expect(s).toBeGreaterThan(34.85);
    expect(n).toBeLessThan(35.8);
    expect(w).toBeLessThan(e);
    expect(s).toBeLessThan(n);
  });

  it('refuses a configured extent that is not [[west, south], [east, north]]', () => {
    const r = FireConfigSchema.safeParse({
      bounds: [
        [-120, 36],
        [-121, 35],
      ],
    });
    expect(r.success).toBe(false);
  });
});

describe('the bundled second configuration starts as a server of its own', () => {
  it('samples load --city slo-county, then serve --config samples/cities/slo-county.yaml', async () => {
    const db = `${tempDir()}/slo.duckdb`;
    const load = cli(['samples', 'load', '--city', 'slo-county', '--db', db]);
    expect(load.stderr).toBe('');
    expect(load.stdout).toMatch(/Imported the SLO County collisions: \d+ crashes/);
    const server = spawn(
      process.execPath,
      [
        `${ROOT}/bin/cityops.mjs`,
        'serve',
        '--db',
        db,
        '--config',
        `${ROOT}/samples/cities/slo-county.yaml`,
        '--port',
        '0',
      ],
      { cwd: ROOT },
    );
    try {
      const address = await new Promise<string>((resolve, reject) => {
        let out = '';
        server.stdout.on('data', (d: Buffer) => {
          out += d;
          const m = /CityOps is serving .* at (http:\/\/[\d.:]+)/.exec(out);
          if (m) resolve(m[1]!);
        });
        server.on('exit', (code) => reject(new Error(`serve exited ${code}: ${out}`)));
      });
      const city = await (await fetch(`${address}/api/public/city`)).json();
      expect(city).toMatchObject({
        name: 'San Luis Obispo County',
        layers: [],
        periods: { fire: null, collisions: { from: '2011-01', to: '2020-12' } },
      });
      const streets = await fetch(`${address}/api/public/streets`);
      expect(streets.status).toBe(200);
    } finally {
      server.kill();
    }
  }, 60_000);
});
