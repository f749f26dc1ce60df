import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addUser, createToken } from '../src/domains/accounts/accounts.ts';
import { defaultConfig } from '../src/domains/fire/config.ts';
import { buildApp } from '../src/interfaces/http/app.ts';
import type { Store } from '../src/platform/db.ts';
import { loadPlanIntoStore } from '../src/domains/strategy/alignment.ts';
import { FIXTURES, INTERNAL_TEXT, openTemp, ROOT } from './helpers.ts';

interface HttpCase {
  kind: 'http';
  method: string;
  url: string;
  role?: 'ingest' | 'analyst' | 'admin' | 'viewer';
  contentType?: string;
  status: number;
  error?: string;
}

const BAD = join(FIXTURES, 'bad', 'http');
const cases = readdirSync(BAD)
  .filter((f) => f.endsWith('.expect.json'))
  .sort()
  .map((f) => ({
    file: f.replace(/\.expect\.json$/, ''),
    expect: JSON.parse(readFileSync(join(BAD, f), 'utf8')) as HttpCase,
  }));

describe('bad HTTP bodies get a clear answer and change nothing', () => {
  let store: Store, app: FastifyInstance;
  const tokens = new Map<string, string>();
  const counts = () =>
    store.one<{ events: number; actions: number; actuals: number }>(
      'SELECT (SELECT count(*) FROM live_events)::INTEGER AS events, (SELECT count(*) FROM street_actions)::INTEGER AS actions, (SELECT count(*) FROM measure_actuals)::INTEGER AS actuals',
    );

  beforeAll(async () => {
    ({ store } = await openTemp());
    await loadPlanIntoStore(store, join(ROOT, 'samples/strategy/example-plan.yaml'));
    await addUser(store, 'chief', 'admin', 'correct horse battery');
    for (const role of ['ingest', 'analyst', 'admin', 'viewer'])
      tokens.set(role, await createToken(store, `bad ${role}`, role));
    app = await buildApp({ store, config: defaultConfig() });
  });
  afterAll(async () => {
    await app.close();
    store.close();
  });

  it('the corpus covers every HTTP body the API takes', () => {
    const urls = new Set(cases.map((c) => c.expect.url));
    expect([...urls].sort()).toEqual([
      '/api/auth/login',
      '/api/v1/cad/events',
      '/api/v1/strategy/actuals',
      '/api/v1/streets/actions',
    ]);
  });

  for (const { file, expect: want } of cases) {
    it(`${file}: ${want.status}${want.error ? ` /${want.error}/` : ''}`, async () => {
      const before = await counts();
      const headers: Record<string, string> = {
        'content-type': want.contentType ?? 'application/json',
      };
      if (want.role) headers.authorization = `Bearer ${tokens.get(want.role)}`;
      const res = await app.inject({
        method: want.method,
        url: want.url,
        headers,
        payload: readFileSync(join(BAD, file)),
      });
      expect(res.statusCode, res.body.slice(0, 300)).toBe(want.status);
      expect(res.body).not.toMatch(INTERNAL_TEXT);
      const body = res.json() as { error?: string };
      expect(typeof body.error).toBe('string');
      if (want.error) expect(res.body).toMatch(new RegExp(want.error));
      expect(await counts()).toEqual(before);
    });
  }
});
