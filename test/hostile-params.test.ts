import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createToken } from '../src/domains/accounts/accounts.ts';
import { OFFSET_CACHE_HOURS, offsetAt, offsetCacheSize } from '../src/platform/time.ts';
import { defaultConfig } from '../src/domains/fire/config.ts';
import { importFireFile } from '../src/domains/fire/import.ts';
import { buildApp } from '../src/interfaces/http/app.ts';
import { registeredRoutes } from '../src/interfaces/http/auth.ts';
import type { Store } from '../src/platform/db.ts';
import { loadPlanIntoStore } from '../src/domains/strategy/alignment.ts';
import { INTERNAL_TEXT, openTemp, ROOT, SF_2020 } from './helpers.ts';

/**
 * Every query parameter of every GET route, given what a careless user or an attacker would type
 * (issue 13, items 3 and 12): each answer is a 2xx or a 4xx that names the problem, never a 500.
 */

const HOSTILE = [
  '__proto__',
  'constructor',
  'toString',
  '0001-01-01',
  '9999-12-31',
  '2020-13-45',
  '2020-02-30',
  '0000',
  '-1',
  '1e308',
  'NaN',
  'Infinity',
  '',
  ' ',
  '%00',
  "' OR 1=1 --",
  '../../etc/passwd',
  'x'.repeat(5000),
  '/etc/hosts.json',
  '2020-04-08T00:00:00Z',
];

function queryKeys(schema: unknown): string[] {
  return schema instanceof z.ZodObject ? Object.keys(schema.shape) : [];
}

describe('hostile query parameters get 400, never 500', () => {
  let store: Store, app: FastifyInstance, auth: Record<string, string>;
  beforeAll(async () => {
    ({ store } = await openTemp());
    await importFireFile(store, SF_2020);
    await loadPlanIntoStore(store, join(ROOT, 'samples/strategy/example-plan.yaml'));
    auth = { authorization: `Bearer ${await createToken(store, 'hostile', 'admin')}` };
    app = await buildApp({ store, config: defaultConfig() });
  });
  afterAll(async () => {
    await app.close();
    store.close();
  });

  it('every parameter of every GET route, every hostile value', async () => {
    const routes = registeredRoutes(app).filter(
      (r) =>
        r.method === 'GET' &&
        r.url.startsWith('/api/') &&
        !r.url.includes(':') &&
        !r.url.includes('stream'),
    );
    expect(routes.length).toBeGreaterThan(20);
    const failures: string[] = [];
    let calls = 0;
    for (const r of routes) {
      const keys = queryKeys((r.config as { query?: unknown } | undefined)?.query);
      for (const key of keys) {
        for (const value of HOSTILE) {
          const url = `${r.url}?${encodeURIComponent(key)}=${encodeURIComponent(value)}`;
          const res = await app.inject({ url, headers: auth });
          calls++;
          if (res.statusCode >= 500 || INTERNAL_TEXT.test(res.body))
            failures.push(`${url.slice(0, 120)} → ${res.statusCode} ${res.body.slice(0, 120)}`);
        }
      }
    }
    expect(calls).toBeGreaterThan(500);
    expect(failures).toEqual([]);
  }, 240_000);

  it('a century-spanning request is refused outside 1900 – next year and read as the data inside it', async () => {
    const far = await app.inject({
      url: '/api/v1/fire/utilization?from=0001-01-01&to=9999-12-01',
      headers: auth,
    });
    expect(far.statusCode).toBe(400);
    expect(far.json().error).toMatch(/from: must be a real date between 1900-01-01 and \d{4}-/);
    expect(far.json().error).toMatch(/to: must be a real date between 1900-01-01 and \d{4}-/);
    const nextYear = new Date().getUTCFullYear() + 1;
    const wide = await app.inject({
      url: `/api/v1/fire/utilization?from=1900-01-01&to=${nextYear}-01-01`,
      headers: auth,
    });
    expect(wide.statusCode).toBe(200);
    // staffed time is counted over the data's days only: 2020-04-07 .. 2020-04-20
    expect(wide.json().period).toMatchObject({ hours: 14 * 24, basis: 'data' });
    const after = await app.inject({
      url: '/api/v1/fire/utilization?from=2020-04-08&to=2020-04-08',
      headers: auth,
    });
    expect(after.statusCode).toBe(200);
    expect(after.json().period.hours).toBe(24);
  }, 60_000);

  it('names the field for impossible dates, preset ids and prototype names', async () => {
    const bad = await app.inject({ url: '/api/v1/fire/metrics?from=2020-13-45', headers: auth });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error).toMatch(/from: must be a real date/);
    const proto = await app.inject({
      url: '/api/v1/fire/metrics?standard=__proto__',
      headers: auth,
    });
    expect(proto.statusCode).toBe(400);
    expect(proto.json().error).toMatch(/Unknown standard "__proto__"/);
    const file = await app.inject({
      url: '/api/v1/fire/metrics?standard=/etc/passwd.json',
      headers: auth,
    });
    expect(file.statusCode).toBe(400);
    expect(file.json().error).toMatch(/Unknown standard/);
    for (const layer of ['__proto__', 'constructor', 'hasOwnProperty']) {
      const geo = await app.inject({ url: `/api/public/geo/${layer}` });
      expect(geo.statusCode, layer).toBe(404);
    }
  });
});

describe('the time-zone offset cache is bounded', () => {
  it('stays within its bound over centuries of hours and still answers exactly', () => {
    const tz = 'America/Los_Angeles';
    const start = Date.UTC(1900, 0, 1) / 1000;
    for (let h = 0; h < OFFSET_CACHE_HOURS + 10_000; h += 1) offsetAt(tz, start + h * 3600);
    expect(offsetCacheSize()).toBeLessThanOrEqual(OFFSET_CACHE_HOURS * 2);
    // 2020-07-01 12:00 UTC is PDT (-7 h); 2020-01-01 12:00 UTC is PST (-8 h); 1901: LMT ended 1883, PST
    expect(offsetAt(tz, Date.UTC(2020, 6, 1, 12) / 1000)).toBe(-7 * 3600);
    expect(offsetAt(tz, Date.UTC(2020, 0, 1, 12) / 1000)).toBe(-8 * 3600);
    expect(offsetAt(tz, Date.UTC(1901, 5, 1, 12) / 1000)).toBe(-8 * 3600);
  }, 60_000);
});
