import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createToken, TOKEN_ROLES, type Role } from '../src/domains/accounts/accounts.ts';
import { defaultConfig } from '../src/domains/fire/config.ts';
import { buildApp } from '../src/interfaces/http/app.ts';
import { registeredRoutes, type Access } from '../src/interfaces/http/auth.ts';
import { defineRoute } from '../src/interfaces/http/route.ts';
import { ROUTES } from '../src/interfaces/http/routes.ts';
import type { Store } from '../src/platform/db.ts';
import { openTemp, SF_2020 } from './helpers.ts';
import { importFireFile } from '../src/domains/fire/import.ts';

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

describe('every route is declared once, with its access, in the API document', () => {
  let store: Store, app: FastifyInstance, viewer: Record<string, string>;
  beforeAll(async () => {
    ({ store } = await openTemp());
    await importFireFile(store, SF_2020);
    viewer = { authorization: `Bearer ${await createToken(store, 'declarations', 'viewer')}` };
    app = await buildApp({ store, config: defaultConfig() });
  });
  afterAll(async () => {
    await app.close();
    store.close();
  });

  it('a declaration without access is a type error, and a route registered without one stops the start', async () => {
    // @ts-expect-error a route must say who may use it
    defineRoute({ method: 'GET', url: '/x', tag: 't', summary: 's', handle: async () => 1 });
    const bare = await buildApp({ store, config: defaultConfig() });
    bare.get('/api/v1/undeclared', async () => ({ secret: true }));
    await expect(bare.ready()).rejects.toThrow(
      /without a declared access: GET \/api\/v1\/undeclared/,
    );
  });

  it('each declared path (aliases too) is registered with its declared access, and the API document lists it with its method and roles', async () => {
    const doc = (await app.inject({ url: '/api/docs/openapi.json' })).json();
    const registered = new Map(
      registeredRoutes(app).map((r) => [`${String(r.method)} ${r.url}`, r.config?.access]),
    );
    const problems: string[] = [];
    for (const route of ROUTES) {
      if (route.access !== 'public' && !Array.isArray(route.access))
        problems.push(`${route.url}: no access`);
      for (const url of [route.url, ...(route.aliases ?? [])]) {
        const key = `${route.method} ${url}`;
        // the staff test above walks the registered routes: anonymous requests to these get 401
        if (registered.get(key) !== route.access)
          problems.push(`${key}: not registered as declared`);
        if (!url.startsWith('/api/')) continue;
        const op = doc.paths[url.replace(/:(\w+)/g, '{$1}')]?.[route.method.toLowerCase()];
        if (!op?.summary) problems.push(`${key}: not in the API document`);
        else if (JSON.stringify(op['x-roles']) !== JSON.stringify(route.access))
          problems.push(`${key}: document says ${JSON.stringify(op['x-roles'])}`);
        else if ((op.deprecated === true) !== (url !== route.url))
          problems.push(`${key}: deprecated is ${op.deprecated}`);
      }
    }
    expect(problems).toEqual([]);
    expect(ROUTES.length).toBeGreaterThan(45);
    expect(doc.paths['/api/v1/strategy/actuals'].post.requestBody).toBeDefined();
    expect(doc.paths['/api/v1/cad/events'].post.requestBody).toBeDefined();
    expect(Object.keys(doc.paths['/api/v1/reports/fire.pdf'].get.responses[200].content)).toEqual([
      'application/pdf',
    ]);
  });

  it('coverage answers at /api/v1/coverage/*; /api/v1/plan/* answers the same, marked deprecated', async () => {
    const doc = (await app.inject({ url: '/api/docs/openapi.json' })).json();
    for (const name of ['stations', 'scenario', 'bands', 'place', 'simulate'])
      expect(doc.paths[`/api/v1/plan/${name}`].get.deprecated, name).toBe(true);
    expect(doc.paths['/api/v1/coverage/calibrate'].post['x-roles']).toEqual(['admin', 'analyst']);
    expect(doc.paths['/api/v1/plan/calibrate'].post.deprecated).toBe(true);
    const now = await app.inject({ url: '/api/v1/coverage/stations', headers: viewer });
    const old = await app.inject({ url: '/api/v1/plan/stations', headers: viewer });
    // no road network is loaded here: the same answer either way is what counts
    expect(old.statusCode).toBe(now.statusCode);
    expect(old.json()).toEqual(now.json());
    expect(old.headers.deprecation).toBe('true');
    expect(old.headers.link).toBe('</api/v1/coverage/stations>; rel="successor"');
    expect(now.headers.deprecation).toBeUndefined();
    expect((await app.inject({ url: '/api/v1/plan/stations' })).statusCode).toBe(401);
  });

  it('?standard= takes preset ids only: a path or a file name is a 400 that names the presets', async () => {
    for (const standard of ['/etc/passwd', 'x.json', '../samples/standard.yaml']) {
      const r = await app.inject({
        url: `/api/v1/fire/metrics?standard=${encodeURIComponent(standard)}`,
        headers: viewer,
      });
      expect(r.statusCode, standard).toBe(400);
      expect(r.json().error).toMatch(/standard: Unknown standard ".*"\. Presets: nfpa1710-2020/);
    }
  });
});
