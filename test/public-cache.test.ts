import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { GateFull } from '../src/platform/gate.ts';
import { defaultConfig } from '../src/domains/fire/config.ts';
import { importFireFile } from '../src/domains/fire/import.ts';
import { buildApp } from '../src/interfaces/http/app.ts';
import { ClientsGone, PublicAnswers } from '../src/interfaces/http/public-cache.ts';
import type { Store } from '../src/platform/db.ts';
import { openTemp, SF_2017, SF_2020 } from './helpers.ts';

describe('public answers are computed once per data version, a few at a time, for clients still there', () => {
  let store: Store, app: FastifyInstance;
  beforeAll(async () => {
    ({ store } = await openTemp());
    await importFireFile(store, SF_2020);
    app = await buildApp({ store, config: defaultConfig(), publicRateLimit: 1000 });
  });
  afterAll(async () => {
    await app.close();
    store.close();
  });

  it('the same answer twice, or ten times at once, computes once', async () => {
    const before = app.publicAnswers.computations;
    const url = '/api/public/fire/performance?from=2020-04-01';
    const first = await app.inject({ url });
    const second = await app.inject({ url: '/api/public/fire/performance?from=2020-04-19' }); // the same whole month
    expect(second.body).toBe(first.body);
    expect(app.publicAnswers.computations - before).toBe(1);
    const pages = await Promise.all(
      Array.from({ length: 10 }, () => app.inject({ url: '/public' })),
    );
    expect(new Set(pages.map((p) => p.statusCode))).toEqual(new Set([200]));
    expect(app.publicAnswers.computations - before).toBe(2);
  });

  it('an import bumps the data version and the next answer changes', async () => {
    const url = '/api/public/fire/performance?from=2017-05-01&to=2017-05-31';
    expect((await app.inject({ url })).json().all.incidents).toBeNull(); // no call of 2017 is loaded yet
    const version = store.dataVersion;
    await importFireFile(store, SF_2017);
    expect(store.dataVersion).toBeGreaterThan(version);
    // 13 distinct incidents of the 2017 file were received in May 2017 (its other months hold fewer than 10)
    expect((await app.inject({ url })).json().all.incidents).toBe(13);
  });

  it('anonymous requests are rate-limited per address', async () => {
    const strict = await buildApp({ store, config: defaultConfig(), publicRateLimit: 3 });
    const codes = [];
    for (let k = 0; k < 5; k++)
      codes.push((await strict.inject({ url: '/api/public/fire/neighborhoods' })).statusCode);
    expect(codes).toEqual([200, 200, 200, 429, 429]);
    await strict.close();
  });

  it('past the queue a request is refused with 503 and Retry-After; work whose clients all left is not started', async () => {
    const answers = new PublicAnswers(() => store.dataVersion, { slots: 1, queue: 1 });
    let release!: () => void;
    const held = new Promise<void>((r) => {
      release = r;
    });
    const running = answers.answer(
      'a',
      () => false,
      () => held.then(() => 'a'),
    );
    let left = false;
    const abandoned = answers.answer(
      'b',
      () => left,
      async () => 'b',
    );
    await expect(
      answers.answer(
        'c',
        () => false,
        async () => 'c',
      ),
    ).rejects.toBeInstanceOf(GateFull);
    left = true; // the client of b goes while it waits in the queue
    release();
    expect(await running).toBe('a');
    await expect(abandoned).rejects.toBeInstanceOf(ClientsGone);
    expect(answers.computations).toBe(1);
    // a gone client's refusal is not cached: the next client gets the answer
    expect(
      await answers.answer(
        'b',
        () => false,
        async () => 'b',
      ),
    ).toBe('b');
  });

  it('a full public queue answers 503 with Retry-After over HTTP', async () => {
    const busy = await buildApp({
      store,
      config: defaultConfig(),
      publicRateLimit: 1000,
      publicAnswers: { slots: 1, queue: 0 },
    });
    const months = ['2020-01-01', '2020-02-01', '2020-03-01', '2020-05-01'];
    const answers = await Promise.all(
      months.map((from) => busy.inject({ url: `/api/public/fire/neighborhoods?from=${from}` })),
    );
    const refused = answers.filter((r) => r.statusCode === 503);
    expect(refused.length).toBeGreaterThan(0);
    expect(Number(refused[0]!.headers['retry-after'])).toBeGreaterThan(0);
    expect(refused[0]!.json().error).toMatch(/try again/);
    await busy.close();
  });
});
