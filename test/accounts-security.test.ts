import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addUser, createToken, listTokens } from '../src/domains/accounts/accounts.ts';
import { SCRYPT_N } from '../src/domains/accounts/secrets.ts';
import { Gate, GateFull } from '../src/platform/gate.ts';
import { defaultConfig } from '../src/domains/fire/config.ts';
import { buildApp } from '../src/interfaces/http/app.ts';
import { registeredRoutes } from '../src/interfaces/http/auth.ts';
import { Store } from '../src/platform/db.ts';
import { cli, openTemp, ROOT, tempDir } from './helpers.ts';

/** Starts `cityops serve` on a free port and resolves once it says where it listens. */
function serve(
  args: string[],
): Promise<{ url: string; output: () => string; stop: () => Promise<void> }> {
  const child = spawn(
    process.execPath,
    [join(ROOT, 'bin/cityops.mjs'), 'serve', '--port', '0', ...args],
    { env: { ...process.env, NO_COLOR: '1' } },
  );
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const stop = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.on('exit', () => resolve());
      child.kill('SIGTERM');
    });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start:\n${out}`)), 60_000);
    child.stdout.on('data', () => {
      const m = /serving .* at http:\/\/[^:]+:(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ url: `http://127.0.0.1:${m[1]}`, output: () => out, stop });
      }
    });
    child.on('exit', () => reject(new Error(`serve exited:\n${out}`)));
  });
}

const login = (url: string, username: string, password: string) =>
  fetch(`${url}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });

describe('the demo account stays on loopback (item 2)', () => {
  it('serve --demo refuses a non-loopback host before opening anything', () => {
    const db = join(tempDir(), 'demo.duckdb');
    const r = cli(['serve', '--demo', '--host', '0.0.0.0', '--db', db]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(
      /--demo creates an admin whose password is published, so it listens on loopback only/,
    );
  });

  it('a start without --demo removes the demo account, and it can no longer sign in', async () => {
    const db = join(tempDir(), 'demo.duckdb');
    const store = await Store.open(db);
    await addUser(store, 'demo', 'admin', 'cityops-demo');
    await addUser(store, 'chief', 'admin', 'a long real password');
    store.close();
    const server = await serve(['--db', db]);
    try {
      expect(server.output()).toMatch(/Removed the demo account \(its password is published\)/);
      expect((await login(server.url, 'demo', 'cityops-demo')).status).toBe(401);
      expect((await login(server.url, 'chief', 'a long real password')).status).toBe(200);
    } finally {
      await server.stop();
    }
  });

  it('off loopback the session cookie is Secure by default', async () => {
    const db = join(tempDir(), 'secure.duckdb');
    const store = await Store.open(db);
    await addUser(store, 'chief', 'admin', 'a long real password');
    store.close();
    // listens on every interface; the test talks to it over loopback only
    const server = await serve(['--db', db, '--host', '0.0.0.0']);
    try {
      const res = await login(server.url, 'chief', 'a long real password');
      expect(res.status).toBe(200);
      expect(res.headers.get('set-cookie')).toMatch(/;\s*Secure/i);
    } finally {
      await server.stop();
    }
  });
});

describe('accounts (item 13)', () => {
  let store: Store, app: FastifyInstance, dbPath: string;
  beforeAll(async () => {
    ({ store, path: dbPath } = await openTemp());
    await addUser(store, 'chief', 'admin', 'correct horse battery');
    app = await buildApp({ store, config: defaultConfig(), trustProxy: true });
  });
  afterAll(async () => {
    await app.close();
    store.close();
  });

  const signIn = (
    password: string,
    remoteAddress = '10.0.0.1',
    headers: Record<string, string> = {},
  ) =>
    app.inject({
      method: 'POST',
      url: '/api/auth/login',
      remoteAddress,
      headers,
      payload: { username: 'chief', password },
    });

  it('passwords are hashed with scrypt N = 2^17, and an older, weaker hash is upgraded at sign-in', async () => {
    const row = await store.one<{ password_hash: string }>(
      "SELECT password_hash FROM users WHERE username = 'chief'",
    );
    expect(row!.password_hash.split('$')[1]).toBe(String(2 ** 17));
    expect(SCRYPT_N).toBe(131072);
    // a hash of 'old password one' made by the previous code (N = 2^15), written as it stored them
    const { scryptSync, randomBytes } = await import('node:crypto');
    const salt = randomBytes(16);
    const key = scryptSync('old password one', salt, 32, {
      N: 32768,
      r: 8,
      p: 1,
      maxmem: 64 << 20,
    });
    await store.run(
      "INSERT INTO users (username, password_hash, role) VALUES ('old', $1, 'viewer')",
      [`scrypt$32768$8$1$${salt.toString('base64url')}$${key.toString('base64url')}`],
    );
    const ok = await app.inject({
      method: 'POST',
      url: '/api/auth/login',
      remoteAddress: '10.9.9.9',
      payload: { username: 'old', password: 'old password one' },
    });
    expect(ok.statusCode).toBe(200);
    const upgraded = await store.one<{ password_hash: string }>(
      "SELECT password_hash FROM users WHERE username = 'old'",
    );
    expect(upgraded!.password_hash.split('$')[1]).toBe('131072');
  });

  it('sign-in is limited per account as well as per address: ten failures from ten addresses lock the name', async () => {
    const fresh = await buildApp({ store, config: defaultConfig() });
    const codes: number[] = [];
    for (let k = 0; k < 10; k++) {
      const r = await fresh.inject({
        method: 'POST',
        url: '/api/auth/login',
        remoteAddress: `10.1.0.${k}`,
        payload: { username: 'chief', password: `guess ${k}` },
      });
      codes.push(r.statusCode);
    }
    expect(codes).toEqual(Array(10).fill(401));
    const locked = await fresh.inject({
      method: 'POST',
      url: '/api/auth/login',
      remoteAddress: '10.2.0.1',
      payload: { username: 'chief', password: 'correct horse battery' },
    });
    expect(locked.statusCode).toBe(429);
    expect(locked.json().error).toMatch(/Too many failed sign-ins for this account/);
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(0);
    // another name is not affected
    const other = await fresh.inject({
      method: 'POST',
      url: '/api/auth/login',
      remoteAddress: '10.2.0.2',
      payload: { username: 'nobody', password: 'x' },
    });
    expect(other.statusCode).toBe(401);
    await fresh.close();
  });

  it('the session cookie is Secure when the request came over HTTPS (through a trusted proxy)', async () => {
    const plain = await signIn('correct horse battery', '10.3.0.1');
    expect(String(plain.headers['set-cookie'])).not.toMatch(/Secure/i);
    const https = await signIn('correct horse battery', '10.3.0.2', {
      'x-forwarded-proto': 'https',
    });
    expect(String(https.headers['set-cookie'])).toMatch(/;\s*Secure/i);
  });

  it('state-changing requests from another origin, or signed in by cookie without an Origin, are refused', async () => {
    const set = String((await signIn('correct horse battery', '10.4.0.1')).headers['set-cookie']);
    const cookie = set.split(';')[0]!;
    const action = {
      kind: 'enforcement',
      title: 'Speed enforcement',
      lat: 35.63,
      lon: -120.55,
      started: '2017-03-01',
    };
    const post = (headers: Record<string, string>) =>
      app.inject({
        method: 'POST',
        url: '/api/v1/streets/actions',
        headers: { cookie, ...headers },
        payload: action,
      });
    const evil = await post({ origin: 'https://evil.example' });
    expect(evil.statusCode).toBe(403);
    expect(evil.json().error).toMatch(/evil\.example may not change data/);
    expect((await post({})).statusCode).toBe(403);
    expect((await post({ referer: 'http://evil.example/page' })).statusCode).toBe(403);
    expect((await post({ origin: 'http://localhost' })).statusCode).toBe(201);
    // a bearer-token client is not a browser and sends no Origin
    const token = await createToken(store, 'script', 'analyst');
    const bearer = await app.inject({
      method: 'POST',
      url: '/api/v1/streets/actions',
      headers: { authorization: `Bearer ${token}` },
      payload: action,
    });
    expect(bearer.statusCode).toBe(201);
    // reads are not affected
    expect(
      (
        await app.inject({
          url: '/api/v1/streets/actions',
          headers: { cookie, origin: 'https://evil.example' },
        })
      ).statusCode,
    ).toBe(200);
  });

  it('tokens can be listed and revoked from the CLI; a revoked token answers 401', async () => {
    const token = await createToken(store, 'wall screen', 'viewer');
    const headers = { authorization: `Bearer ${token}` };
    expect((await app.inject({ url: '/api/v1/imports', headers })).statusCode).toBe(200);
    const id = (await listTokens(store)).find((t) => t.name === 'wall screen')!.id;
    await app.close();
    store.close();
    const list = cli(['token', 'list', '--db', dbPath]);
    expect(list.status).toBe(0);
    expect(list.stdout).toMatch(
      new RegExp(`${id}\\s+wall screen\\s+viewer\\s+\\S+ \\S+\\s+active`),
    );
    const revoked = cli(['token', 'revoke', id, '--db', dbPath]);
    expect(revoked.stdout).toBe(`Revoked token ${id} (wall screen).\n`);
    const again = cli(['token', 'revoke', id, '--db', dbPath]);
    expect(again.status).toBe(2);
    expect(again.stderr).toMatch(/No active token/);
    expect(cli(['token', 'revoke', 'zz', '--db', dbPath]).stderr).toMatch(/neither a token id/);
    store = await Store.open(dbPath);
    app = await buildApp({ store, config: defaultConfig(), trustProxy: true });
    expect((await app.inject({ url: '/api/v1/imports', headers })).statusCode).toBe(401);
  });

  it('a user can be deleted from the CLI: their sessions end with them', async () => {
    await addUser(store, 'leaver', 'analyst', 'a password to forget');
    const ok = await app.inject({
      method: 'POST',
      url: '/api/auth/login',
      remoteAddress: '10.5.0.1',
      payload: { username: 'leaver', password: 'a password to forget' },
    });
    const cookie = String(ok.headers['set-cookie']).split(';')[0]!;
    expect((await app.inject({ url: '/api/v1/imports', headers: { cookie } })).statusCode).toBe(
      200,
    );
    await app.close();
    store.close();
    expect(cli(['user', 'list', '--db', dbPath]).stdout).toMatch(/leaver\s+analyst\s+\S+ \S+\s+1/);
    expect(cli(['user', 'delete', 'leaver', '--db', dbPath]).stdout).toBe(
      'Deleted leaver and their sessions.\n',
    );
    expect(cli(['user', 'delete', 'leaver', '--db', dbPath]).stderr).toMatch(/No user "leaver"/);
    store = await Store.open(dbPath);
    app = await buildApp({ store, config: defaultConfig(), trustProxy: true });
    expect((await app.inject({ url: '/api/v1/imports', headers: { cookie } })).statusCode).toBe(
      401,
    );
    const again = await app.inject({
      method: 'POST',
      url: '/api/auth/login',
      remoteAddress: '10.5.0.2',
      payload: { username: 'leaver', password: 'a password to forget' },
    });
    expect(again.statusCode).toBe(401);
  });

  it('the API document lists every API route the server registered, with its roles', async () => {
    const doc = (await app.inject({ url: '/api/docs/openapi.json' })).json();
    const missing: string[] = [];
    for (const route of registeredRoutes(app)) {
      if (!route.url!.startsWith('/api/')) continue;
      for (const method of [route.method].flat()) {
        if (method === 'HEAD') continue;
        const op = doc.paths[route.url!.replace(/:(\w+)/g, '{$1}')]?.[method.toLowerCase()];
        if (!op?.summary) missing.push(`${method} ${route.url}`);
      }
    }
    expect(missing).toEqual([]);
    expect(doc.paths['/api/v1/cad/events'].post['x-roles']).toEqual(['ingest', 'admin']);
    expect(doc.paths['/api/v1/cad/events'].post.security.length).toBeGreaterThan(0);
    expect(doc.paths['/api/public/geo/{layer}'].get.parameters[0]).toMatchObject({
      name: 'layer',
      in: 'path',
    });
    expect(doc.paths['/api/v1/streets/actions'].post.requestBody).toBeDefined();
  });

  it('health answers 503 and says why when the disk is too full to write', async () => {
    expect((await app.inject({ url: '/api/health' })).json()).toMatchObject({
      ok: true,
      problems: [],
    });
    process.env.CITYOPS_MIN_FREE_MB = String(1024 * 1024 * 1024); // a petabyte: more than any disk here has free
    try {
      const r = await app.inject({ url: '/api/health' });
      expect(r.statusCode).toBe(503);
      expect(r.json().ok).toBe(false);
      expect(r.json().problems[0]).toMatch(
        /The disk holding the database has \d+ MB free; writes need at least/,
      );
    } finally {
      delete process.env.CITYOPS_MIN_FREE_MB;
    }
  });
});

describe('costly work is bounded (item 13: PDF renders)', () => {
  it('a gate runs one at a time, queues two, and refuses the rest at once', async () => {
    const gate = new Gate(1, 2, 30);
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const order: number[] = [];
    const first = gate.run(async () => {
      await held;
      order.push(1);
    });
    const queued = [
      gate.run(async () => {
        order.push(2);
      }),
      gate.run(async () => {
        order.push(3);
      }),
    ];
    await expect(gate.run(async () => order.push(4))).rejects.toBeInstanceOf(GateFull);
    release();
    await Promise.all([first, ...queued]);
    expect(order).toEqual([1, 2, 3]);
  });
});
