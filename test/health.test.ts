import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createToken } from '../src/domains/accounts/accounts.ts';
import { defaultConfig } from '../src/domains/fire/config.ts';
import { importFireFile } from '../src/domains/fire/import.ts';
import { buildApp } from '../src/interfaces/http/app.ts';
import type { Store } from '../src/platform/db.ts';
import { openTemp, SF_2020 } from './helpers.ts';

/** Issue 16, item 5: /api/health says whether the server is ready, its schema, the feed's last update and its queues. */

interface Depth {
  running: number;
  waiting: number;
  slots: number;
  queue: number;
}
interface Health {
  ok: boolean;
  ready: boolean;
  schemaVersion: number;
  lastLiveUpdate: string | null;
  queues: { publicAnswers: Depth; pdfRenders: Depth; liveIngest: { waitingEvents: number } };
  problems: string[];
}

describe('/api/health', () => {
  let store: Store, app: FastifyInstance, base: string, ingest: string;
  beforeAll(async () => {
    ({ store } = await openTemp());
    await importFireFile(store, SF_2020);
    ingest = await createToken(store, 'cad', 'ingest');
    app = await buildApp({
      store,
      config: defaultConfig(),
      publicAnswers: { slots: 1, queue: 8 },
    });
    base = await app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await app.close();
    store.close();
  });

  const health = async () => {
    const r = await fetch(`${base}/api/health`); // public: no token
    return { status: r.status, body: (await r.json()) as Health };
  };

  it('is public and ready, with the schema version on record and empty queues', async () => {
    const { status, body } = await health();
    expect(status).toBe(200);
    const schema = (await store.one<{ v: number }>(
      'SELECT max(version)::INTEGER AS v FROM schema_migrations',
    ))!.v;
    expect(body).toMatchObject({ ok: true, ready: true, schemaVersion: schema, problems: [] });
    expect(body.lastLiveUpdate).toBeNull();
    expect(body.queues).toEqual({
      publicAnswers: { running: 0, waiting: 0, slots: 1, queue: 8 },
      pdfRenders: { running: 0, waiting: 0, slots: 1, queue: 2 },
      liveIngest: { waitingEvents: 0 },
    });
  });

  it('gives the time of the last live update, also after a restart', async () => {
    const before = Date.now();
    const at = new Date(before - 60_000).toISOString();
    const r = await fetch(`${base}/api/v1/cad/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ingest}`, 'content-type': 'application/json' },
      body: JSON.stringify([
        { id: 'H1-E1-d', incident: 'H1', unit: 'E1', status: 'dispatched', at },
      ]),
    });
    expect(r.status).toBe(200);
    const after = Date.now();
    const sent = Date.parse((await health()).body.lastLiveUpdate!);
    expect(sent).toBeGreaterThanOrEqual(before);
    expect(sent).toBeLessThanOrEqual(after);
    // a server opened on the same database reads it from the live log
    const again = await buildApp({ store, config: defaultConfig() });
    try {
      const logged = Date.parse(
        (await again.inject({ url: '/api/health' })).json<Health>().lastLiveUpdate!,
      );
      expect(Math.abs(logged - sent)).toBeLessThan(1000);
    } finally {
      await again.close();
    }
  });

  it('counts the public answers running and waiting, and none once they are done', async () => {
    // six different public answers, one computed at a time
    const months = [
      '2020-04-01',
      '2020-03-01',
      '2020-02-01',
      '2020-01-01',
      '2019-12-01',
      '2019-11-01',
    ];
    let done = false;
    const requests = Promise.all(
      months.map((m) =>
        fetch(`${base}/api/public/fire/performance?from=${m}`).then((r) => r.status),
      ),
    ).finally(() => (done = true));
    let busiest: Depth | null = null;
    while (!done) {
      const d = (await health()).body.queues.publicAnswers;
      if (d.running + d.waiting > (busiest ? busiest.running + busiest.waiting : 0)) busiest = d;
    }
    expect(await requests).toEqual(months.map(() => 200));
    expect(busiest?.running).toBe(1);
    expect(busiest!.waiting).toBeGreaterThanOrEqual(1);
    expect((await health()).body.queues.publicAnswers).toMatchObject({ running: 0, waiting: 0 });
  });
});
