import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { addUser, createToken } from '../src/domains/accounts/accounts.ts';
import { defaultConfig } from '../src/domains/fire/config.ts';
import { importFireFile } from '../src/domains/fire/import.ts';
import { buildApp } from '../src/interfaces/http/app.ts';
import type { Store } from '../src/platform/db.ts';
import { cli, openTemp, ROOT, SF_2020 } from './helpers.ts';

const SLO_SAMPLE = `${ROOT}/samples/collisions/slo_county_tims_crashes_2011_2020.csv.gz`;

describe('accounts and access', () => {
  let store: Store, app: FastifyInstance, dbPath: string;
  beforeAll(async () => {
    ({ store, path: dbPath } = await openTemp());
    await importFireFile(store, SF_2020);
    await addUser(store, 'chief', 'admin', 'correct horse battery');
    await addUser(store, 'viewer1', 'viewer', 'another long password');
    app = await buildApp({ store, config: defaultConfig() });
  });
  afterAll(async () => {
    await app.close();
    store.close();
  });

  it('staff API answers 401 without sign-in or token, and with a wrong token', async () => {
    for (const url of [
      '/api/v1/fire/metrics',
      '/api/v1/quarantine',
      '/api/v1/fire/quality',
      '/api/auth/me',
    ]) {
      expect((await app.inject({ url })).statusCode, url).toBe(401);
    }
    expect(
      (
        await app.inject({
          url: '/api/v1/fire/metrics',
          headers: { authorization: 'Bearer cot_nope' },
        })
      ).statusCode,
    ).toBe(401);
  });

  it('passwords and tokens are stored hashed', async () => {
    const token = await createToken(store, 'feed', 'ingest');
    const users = await store.all<{ password_hash: string }>('SELECT password_hash FROM users');
    expect(
      users.every(
        (u) => u.password_hash.startsWith('scrypt$') && !u.password_hash.includes('correct horse'),
      ),
    ).toBe(true);
    const tokens = await store.all<{ token_hash: string }>('SELECT token_hash FROM api_tokens');
    expect(tokens.some((t) => t.token_hash.includes(token))).toBe(false);
  });

  it('sign-in sets an HttpOnly, SameSite=Strict session cookie that opens the staff API; sign-out closes it', async () => {
    const bad = await app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { username: 'chief', password: 'wrong password' },
    });
    expect(bad.statusCode).toBe(401);
    const ok = await app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { username: 'chief', password: 'correct horse battery' },
    });
    expect(ok.statusCode).toBe(200);
    const set = String(ok.headers['set-cookie']);
    expect(set).toMatch(/cityops_session=/);
    expect(set).toMatch(/HttpOnly/);
    expect(set).toMatch(/SameSite=Strict/);
    const cookie = set.split(';')[0]!;
    const me = await app.inject({ url: '/api/auth/me', headers: { cookie } });
    expect(me.json()).toMatchObject({ user: 'chief', role: 'admin' });
    expect(
      (await app.inject({ url: '/api/v1/fire/metrics', headers: { cookie } })).statusCode,
    ).toBe(200);
    await app.inject({
      method: 'POST',
      url: '/api/auth/logout',
      headers: { cookie, origin: 'http://localhost' },
    });
    expect(
      (await app.inject({ url: '/api/v1/fire/metrics', headers: { cookie } })).statusCode,
    ).toBe(401);
  });

  it('an ingest token may post events but not read staff data; a viewer may read but not ingest', async () => {
    const ingest = { authorization: `Bearer ${await createToken(store, 'cad', 'ingest')}` };
    expect((await app.inject({ url: '/api/v1/fire/metrics', headers: ingest })).statusCode).toBe(
      403,
    );
    const viewer = { authorization: `Bearer ${await createToken(store, 'wall screen', 'viewer')}` };
    expect((await app.inject({ url: '/api/v1/fire/metrics', headers: viewer })).statusCode).toBe(
      200,
    );
    expect(
      (
        await app.inject({
          method: 'POST',
          url: '/api/v1/cad/events',
          headers: viewer,
          payload: [],
        })
      ).statusCode,
    ).toBe(403);
  });

  it('login attempts are rate-limited', async () => {
    const fresh = await buildApp({ store, config: defaultConfig() });
    const codes: number[] = [];
    for (let k = 0; k < 7; k++) {
      codes.push(
        (
          await fresh.inject({
            method: 'POST',
            url: '/api/auth/login',
            payload: { username: 'viewer1', password: 'guess ' + k },
          })
        ).statusCode,
      );
    }
    expect(codes.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    expect(codes.slice(5)).toEqual([429, 429]);
    await fresh.close();
  });

  it('every answer carries security headers', async () => {
    const r = await app.inject({ url: '/api/health' });
    expect(r.headers['x-content-type-options']).toBe('nosniff');
    expect(r.headers['x-frame-options']).toBe('DENY');
    expect(String(r.headers['content-security-policy'])).toMatch(/default-src 'self'/);
  });

  it('streets: staff routes need sign-in, a viewer may read but not record actions, inputs are validated', async () => {
    const { importCollisionsFile } = await import('../src/domains/collisions/import.ts');
    await importCollisionsFile(store, SLO_SAMPLE);
    for (const url of [
      '/api/v1/streets/crashes',
      '/api/v1/streets/hin',
      '/api/v1/streets/rank',
      '/api/v1/streets/actions',
    ]) {
      expect((await app.inject({ url })).statusCode, url).toBe(401);
    }
    const viewer = {
      authorization: `Bearer ${await createToken(store, 'streets wall', 'viewer')}`,
    };
    const analyst = {
      authorization: `Bearer ${await createToken(store, 'traffic engineer', 'analyst')}`,
    };
    const action = {
      kind: 'enforcement',
      title: 'Speed enforcement on RT 46',
      lat: 35.63,
      lon: -120.55,
      started: '2017-03-01',
    };
    expect(
      (
        await app.inject({
          method: 'POST',
          url: '/api/v1/streets/actions',
          headers: viewer,
          payload: action,
        })
      ).statusCode,
    ).toBe(403);
    const ok = await app.inject({
      method: 'POST',
      url: '/api/v1/streets/actions',
      headers: analyst,
      payload: action,
    });
    expect(ok.statusCode).toBe(201);
    expect(ok.json()).toMatchObject({
      kind: 'enforcement',
      createdBy: 'traffic engineer',
      radiusM: 100,
    });
    const bad = await app.inject({
      method: 'POST',
      url: '/api/v1/streets/actions',
      headers: analyst,
      payload: { ...action, lat: 'north', extra: 1 },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error).toMatch(/lat[\s\S]*extra/);
    const q = await app.inject({
      url: "/api/v1/streets/crashes?severity=K,Z&hours=25-99'",
      headers: viewer,
    });
    expect(q.statusCode).toBe(400);
    expect(q.json().error).toMatch(/severity/);
    const district = await app.inject({
      url: `/api/v1/streets/rank?district=${encodeURIComponent('{"type":"Point"}')}`,
      headers: viewer,
    });
    expect(district.statusCode).toBe(400);
    expect(district.json().error).toMatch(/district is not a GeoJSON Polygon/);
    const pub = await app.inject({ url: '/api/public/streets' });
    expect(pub.statusCode).toBe(200);
    expect(pub.body).not.toMatch(/"Point"|CASE_ID|"id":/);
  });

  it('public answers hold aggregates only: no address, incident id or unit id from the data appears', async () => {
    const rows = readFileSync(SF_2020, 'utf8')
      .split('\n')
      .slice(1)
      .filter(Boolean)
      .map((l) => l.split(','));
    const addresses = new Set(rows.map((r) => r[15]!).filter((a) => a.length > 8));
    const incidents = new Set(rows.map((r) => r[2]!));
    const units = new Set(rows.map((r) => r[1]!).filter((u) => /[A-Z]/.test(u) && u.length >= 3));
    for (const url of [
      '/api/public/fire/performance',
      '/api/public/fire/neighborhoods',
      '/public',
    ]) {
      const r = await app.inject({ url });
      expect(r.statusCode, url).toBe(200);
      const body = r.body;
      for (const a of addresses)
        expect(body.includes(a), `${url} contains address ${a}`).toBe(false);
      for (const i of incidents)
        expect(body.includes(i), `${url} contains incident ${i}`).toBe(false);
      for (const u of units)
        expect(body.includes(`"${u}"`), `${url} contains unit ${u}`).toBe(false);
      expect(body).not.toMatch(/37\.\d{4,}/); // no coordinates
    }
    const n = (await app.inject({ url: '/api/public/fire/neighborhoods' })).json();
    expect(n.neighborhoods.length).toBeGreaterThan(30);
    expect(
      n.neighborhoods
        .filter((x: { withheld?: boolean }) => !x.withheld)
        .every((x: { incidents: number }) => x.incidents >= 10),
    ).toBe(true);
  });

  it('the CLI adds users and prints tokens once', async () => {
    store.close();
    const u = cli(['user', 'add', 'analyst1', '--role', 'analyst', '--db', dbPath]);
    expect(u.status).toBe(0);
    expect(u.stdout).toMatch(/Password \(shown once\): \S{20}/);
    const bad = cli(['user', 'add', 'x1', '--role', 'boss', '--db', dbPath]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/Unknown role "boss"/);
    const t = cli(['token', 'create', '--name', 'CAD feed', '--role', 'ingest', '--db', dbPath]);
    expect(t.stdout).toMatch(/^cot_[A-Za-z0-9_-]{43}\n$/);
    const { Store: S } = await import('../src/platform/db.ts');
    store = await S.open(dbPath);
    app = await buildApp({ store, config: defaultConfig() });
  });
});
