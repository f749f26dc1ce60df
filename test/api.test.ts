import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { createToken } from '../src/domains/accounts/accounts.ts';
import { defaultConfig } from '../src/domains/fire/config.ts';
import { importFireFile } from '../src/domains/fire/import.ts';
import type { FireService } from '../src/domains/fire/service.ts';
import { buildApp } from '../src/interfaces/http/app.ts';
import type { Store } from '../src/platform/db.ts';
import { openTemp, SF_2020 } from './helpers.ts';

describe('HTTP API', () => {
  let store: Store,
    fire: FireService,
    app: FastifyInstance,
    base: string,
    headers: Record<string, string>;
  beforeAll(async () => {
    ({ store, fire } = await openTemp());
    await importFireFile(store, SF_2020);
    headers = { authorization: `Bearer ${await createToken(store, 'api test', 'analyst')}` };
    app = await buildApp({ store, config: defaultConfig() });
    base = await app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await app.close();
    store.close();
  });

  it('serves the same figures as the query layer the CLI uses, over a real socket', async () => {
    const res = await fetch(`${base}/api/v1/fire/metrics?priority=emergency`, { headers });
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body).toEqual(JSON.parse(JSON.stringify(await fire.metrics({ priority: 'emergency' }))));
    expect(body.totalResponse).toMatchObject({ n: 2919, p50: 339, p90: 548 });
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('accepts the same filters: dates, grouping, lists', async () => {
    const r = await app.inject({
      url: '/api/v1/fire/metrics?from=2020-04-08&to=2020-04-14&by=station&category=EMS,FIRE&standard=nfpa1710-2020',
      headers,
    });
    expect(r.statusCode).toBe(200);
    const body = r.json();
    expect(body.by).toBe('station');
    expect(body.filters).toMatchObject({
      from: '2020-04-08',
      to: '2020-04-14',
      category: ['EMS', 'FIRE'],
    });
    const direct = await fire.metrics({
      from: '2020-04-08',
      to: '2020-04-14',
      by: ['station'],
      category: ['EMS', 'FIRE'],
      priority: 'all',
      standard: 'nfpa1710-2020',
    });
    expect(body).toEqual(JSON.parse(JSON.stringify(direct)));
  });

  it('answers 400 with each problem named for an invalid query', async () => {
    const r = await app.inject({
      url: '/api/v1/fire/metrics?priority=urgent&from=April&bogus=1',
      headers,
    });
    expect(r.statusCode).toBe(400);
    const { error } = r.json();
    expect(error).toMatch(/priority: Invalid option/);
    expect(error).toMatch(/from: must be a date YYYY-MM-DD/);
    expect(error).toMatch(/Unrecognized key: "bogus"/);
    const s = await app.inject({ url: '/api/v1/fire/metrics?standard=nfpa9999', headers });
    expect(s.statusCode).toBe(400);
    expect(s.json().error).toMatch(/Unknown standard "nfpa9999"/);
  });

  it('publishes an OpenAPI document listing every route and its parameters', async () => {
    const doc = (await app.inject({ url: '/api/docs/openapi.json' })).json();
    expect(doc.openapi).toBe('3.1.0');
    for (const p of [
      '/api/v1/fire/metrics',
      '/api/v1/fire/quality',
      '/api/v1/fire/utilization',
      '/api/v1/fire/concurrency',
      '/api/v1/fire/reliability',
      '/api/v1/fire/volume',
      '/api/v1/quarantine',
      '/api/v1/imports',
      '/api/health',
      '/api/public/fire/performance',
      '/api/public/fire/neighborhoods',
    ]) {
      expect(doc.paths[p], p).toBeDefined();
    }
    const names = doc.paths['/api/v1/fire/metrics'].get.parameters.map(
      (x: { name: string }) => x.name,
    );
    expect(names).toEqual(
      expect.arrayContaining([
        'from',
        'to',
        'priority',
        'by',
        'standard',
        'category',
        'station',
        'unitType',
      ]),
    );
  });

  it('operations, quality, quarantine and imports answer JSON', async () => {
    for (const url of [
      '/api/v1/fire/quality',
      '/api/v1/fire/utilization?from=2020-04-08&to=2020-04-19',
      '/api/v1/fire/concurrency',
      '/api/v1/fire/reliability',
      '/api/v1/fire/volume',
      '/api/v1/quarantine?limit=5',
      '/api/v1/imports',
      '/api/health',
    ]) {
      const r = await app.inject({ url, headers });
      expect(r.statusCode, url).toBe(200);
    }
    const q = (await app.inject({ url: '/api/v1/fire/quality', headers })).json();
    expect(q.missingStamps).toMatchObject({ enroute: 203, on_scene: 1716, cleared: 2 }); // data README
    expect(q.outOfOrder['cleared before on scene']).toBe(1);
  });

  it('renders a readable public overview page with pass/fail grades', async () => {
    const r = await app.inject({ url: '/public' });
    expect(r.headers['content-type']).toMatch(/text\/html/);
    expect(r.body).toMatch(/Emergency incidents: 3018 incidents/);
    expect(r.body).toMatch(/class="fail">FAIL/);
  });
});
