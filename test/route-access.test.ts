import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createToken, TOKEN_ROLES, type Role } from '../src/domains/accounts/accounts.ts';
import { defaultConfig } from '../src/domains/fire/config.ts';
import { buildApp } from '../src/interfaces/http/app.ts';
import { registeredRoutes, type Access } from '../src/interfaces/http/auth.ts';
import type { Store } from '../src/platform/db.ts';
import { openTemp } from './helpers.ts';

/**
 * Every route the router holds, called over a real socket with no credentials and with each role,
 * through request targets that spell the same path in other ways. Access must follow the route's
 * own declaration whatever the spelling.
 */

interface Target {
  form: string;
  path: string;
}

/** Ways a client can write the same path that an access check on URL text would miss. */
function spellings(path: string): Target[] {
  const encodeFirstLetter = path.replace(
    /\/([a-z])/g,
    (_m, c: string) => `/%${c.charCodeAt(0).toString(16)}`,
  );
  const upperHex = path.replace(
    /\/([a-z])/g,
    (_m, c: string) => `/%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  const parts = path.split('/');
  const last = parts.pop()!;
  const encodedSlash = parts.length > 1 ? `${parts.join('/')}%2F${last}` : path;
  return [
    { form: 'plain', path },
    { form: 'encoded letters', path: encodeFirstLetter },
    { form: 'encoded letters, upper-case hex', path: upperHex },
    { form: 'encoded dots', path: `/api/public/%2e%2e${path}` },
    { form: 'dot segments', path: `/api/public/..${path}` },
    { form: 'encoded slash', path: encodedSlash },
    { form: 'doubled slashes', path: path.replace(/\//g, '//') },
    { form: 'absolute form', path: `http://x${path}` },
    { form: 'absolute form, encoded', path: `http://x${encodeFirstLetter}` },
    { form: 'case variant', path: path.toUpperCase() },
    { form: 'trailing slash', path: `${path}/` },
    { form: 'query', path: `${path}?x=1` },
  ];
}

/** Sends one request and returns its status as soon as the head arrives (the SSE stream never ends). */
function statusOf(port: number, method: string, path: string, token?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { host: '127.0.0.1' };
    if (token) headers.authorization = `Bearer ${token}`;
    if (method === 'POST') headers['content-type'] = 'application/json';
    const req = request({ host: '127.0.0.1', port, method, path, headers }, (res) => {
      resolve(res.statusCode ?? 0);
      res.destroy();
    });
    req.setTimeout(10_000, () => reject(new Error(`${method} ${path}: no answer in 10 s`)));
    req.on('error', reject);
    req.end(method === 'POST' ? '{}' : undefined);
  });
}

const concrete = (url: string) => url.replace(/:layer/g, 'boundary');
const allows = (access: Access | undefined, role: Role | null) =>
  access === 'public' || (role !== null && !!access?.includes(role));

describe('access is decided on the matched route', () => {
  let store: Store, app: FastifyInstance, port: number;
  const tokens = new Map<Role, string>();
  beforeAll(async () => {
    ({ store } = await openTemp());
    for (const role of TOKEN_ROLES)
      tokens.set(role, await createToken(store, `access test ${role}`, role));
    app = await buildApp({ store, config: defaultConfig() });
    await app.listen({ port: 0, host: '127.0.0.1' });
    port = (app.server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await app.close();
    store.close();
  });

  it('every registered route declares who may use it', () => {
    const routes = registeredRoutes(app);
    expect(routes.length).toBeGreaterThan(40);
    const undeclared = routes
      .filter((r) => r.config?.access === undefined)
      .map((r) => `${String(r.method)} ${r.url}`);
    expect(undeclared).toEqual([]);
  });

  it('staff routes refuse every spelling of their path without credentials, and for each role they do not allow', async () => {
    const staff = registeredRoutes(app).filter((r) => r.config?.access !== 'public');
    expect(staff.length).toBeGreaterThan(25);
    const leaks: string[] = [];
    for (const route of staff) {
      const methods = Array.isArray(route.method) ? route.method : [route.method];
      for (const method of methods) {
        for (const role of [null, ...TOKEN_ROLES] as (Role | null)[]) {
          if (allows(route.config?.access, role)) continue;
          for (const t of spellings(concrete(route.url!))) {
            const status = await statusOf(
              port,
              method,
              t.path,
              role ? tokens.get(role) : undefined,
            );
            const expected = role ? 403 : 401;
            // a spelling the router does not match at all may answer 404 (or 400); anything else must be the refusal
            const refused =
              status === expected ||
              ((status === 404 || status === 400) &&
                t.form !== 'plain' &&
                t.form !== 'encoded letters');
            if (!refused)
              leaks.push(`${method} ${t.path} (${t.form}) as ${role ?? 'anonymous'}: ${status}`);
          }
        }
      }
    }
    expect(leaks).toEqual([]);
  });

  it('an allowed role gets past the access check on the plain and encoded spellings', async () => {
    const blocked: string[] = [];
    for (const route of registeredRoutes(app)) {
      if (route.url === '*' || route.url!.includes('/assets/')) continue;
      const methods = Array.isArray(route.method) ? route.method : [route.method];
      for (const method of methods) {
        for (const role of TOKEN_ROLES) {
          if (!allows(route.config?.access, role)) continue;
          for (const t of spellings(concrete(route.url!)).slice(0, 2)) {
            const status = await statusOf(port, method, t.path, tokens.get(role));
            if (status === 401 || status === 403)
              blocked.push(`${method} ${t.path} as ${role}: ${status}`);
          }
        }
      }
    }
    expect(blocked).toEqual([]);
  });
});
