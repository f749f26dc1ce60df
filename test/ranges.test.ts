import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createToken } from '../src/domains/accounts/accounts.ts';
import { defaultConfig } from '../src/domains/fire/config.ts';
import { importFireFile } from '../src/domains/fire/import.ts';
import { buildApp } from '../src/interfaces/http/app.ts';
import type { Store } from '../src/platform/db.ts';
import { openTemp, SF_2020 } from './helpers.ts';

/**
 * Issue 16, item 1: a query's dates fall between 1900-01-01 and a year from today, and a range typed
 * wider than the data costs and reads as the data's own.
 */

const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const now = new Date();
const today = day(now.getTime());
const yearOn = day(Date.UTC(now.getUTCFullYear() + 1, now.getUTCMonth(), now.getUTCDate()));
const pastYearOn = day(Date.UTC(now.getUTCFullYear() + 1, now.getUTCMonth(), now.getUTCDate() + 1));

describe('query date ranges', () => {
  let store: Store, app: FastifyInstance, base: string, headers: Record<string, string>;
  beforeAll(async () => {
    ({ store } = await openTemp());
    // the file holds the calls received 2020-04-07 .. 2020-04-20, San Francisco time
    await importFireFile(store, SF_2020);
    headers = { authorization: `Bearer ${await createToken(store, 'ranges', 'analyst')}` };
    app = await buildApp({ store, config: defaultConfig() });
    base = await app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await app.close();
    store.close();
  });

  const get = async (path: string) => {
    const res = await fetch(`${base}${path}`, { headers });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const figures = ({ filters: _, period, ...rest }: Record<string, unknown>) => ({
    ...rest,
    period: { ...(period as object), basis: undefined },
  });

  it('utilization from 1901 to today reads as the data’s 14 days, whose staffed time is 336 h', async () => {
    const wide = await get(`/api/v1/fire/utilization?from=1901-01-01&to=${today}`);
    const own = await get('/api/v1/fire/utilization?from=2020-04-07&to=2020-04-20');
    expect(wide.status).toBe(200);
    expect(own.status).toBe(200);
    // local midnights in San Francisco (PDT, UTC−7) on 2020-04-07 and 2020-04-21
    expect(own.body.period).toEqual({
      start: Date.UTC(2020, 3, 7, 7) / 1000,
      end: Date.UTC(2020, 3, 21, 7) / 1000,
      hours: 14 * 24,
      basis: 'filter',
    });
    expect(wide.body.period).toMatchObject({ hours: 14 * 24, basis: 'data' });
    expect(figures(wide.body)).toEqual(figures(own.body));
    expect((wide.body.units as unknown[]).length).toBeGreaterThan(100);
    const concurrencyWide = await get(`/api/v1/fire/concurrency?from=1901-01-01&to=${today}`);
    const concurrencyOwn = await get('/api/v1/fire/concurrency?from=2020-04-07&to=2020-04-20');
    expect(concurrencyWide.body.shareOfTimeAtLeast).toEqual(concurrencyOwn.body.shareOfTimeAtLeast);
  });

  it('a range half-way typed or past next year gets a 400 naming the parameter and the window', async () => {
    const early = await get('/api/v1/fire/utilization?from=0202-04-07');
    expect(early.status).toBe(400);
    expect(early.body.error).toContain(
      `from: must be a real date between 1900-01-01 and ${yearOn}`,
    );
    const late = await get(`/api/v1/fire/metrics?to=${pastYearOn}`);
    expect(late.status).toBe(400);
    expect(late.body.error).toContain(`to: must be a real date between 1900-01-01 and ${yearOn}`);
    expect((await get(`/api/v1/fire/metrics?to=${yearOn}`)).status).toBe(200);
    const publicLate = await fetch(`${base}/api/public/fire/performance?from=${pastYearOn}`);
    expect(publicLate.status).toBe(400);
    const nextYear = now.getUTCFullYear() + 1;
    const crashes = await get(`/api/v1/streets/crashes?from=${nextYear + 1}`);
    expect(crashes.status).toBe(400);
    expect(crashes.body.error).toContain(`from: must be a year between 1900 and ${nextYear}`);
    expect((await get('/api/v1/streets/crashes?to=1899')).status).toBe(400);
  });

  it('a range wholly outside the data has no period and no units', async () => {
    const before = await get('/api/v1/fire/utilization?from=1950-01-01&to=1950-12-31');
    expect(before.status).toBe(200);
    expect(before.body.period).toBeUndefined();
    expect(before.body.units).toBeUndefined();
  });
});
