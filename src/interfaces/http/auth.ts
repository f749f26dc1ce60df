import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import { z, type ZodType } from 'zod';
import {
  principalForSession,
  principalForToken,
  SESSION_HOURS,
  signIn,
  signOut,
  type Principal,
  type Role,
} from '../../domains/accounts/index.ts';
import type { Store } from '../../platform/db.ts';
import { defineRoute, HttpRefusal } from './route.ts';

export const SESSION_COOKIE = 'cityops_session';

/**
 * Who may use a route: anyone ('public'), or a signed-in principal with one of these roles. Every
 * route declares it in its config; the decision is made on the route the router matched, never on
 * the URL text (which may be percent-encoded, absolute-form or otherwise disguised).
 */
export type Access = 'public' | readonly Role[];

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
  interface FastifyContextConfig {
    access?: Access;
    /** For the API document: what the route answers, its group, and its query and body schemas. */
    summary?: string;
    tag?: string;
    query?: ZodType;
    body?: ZodType;
  }
}

/** People who read staff data. */
export const READERS: readonly Role[] = ['admin', 'analyst', 'viewer'];
/** People who change what the analysis uses (actions, calibration, reported actuals). */
export const EDITORS: readonly Role[] = ['admin', 'analyst'];
/** Who may post live CAD events. */
export const FEEDERS: readonly Role[] = ['ingest', 'admin'];

/** The answer for a request to a route declaring `access`, or null when it may go on. */
export function denial(
  access: Access | undefined,
  principal: Principal | null,
  method: string,
): { status: 401 | 403; error: string } | null {
  if (access === 'public') return null;
  // a route that declares nothing is closed to everyone: forgetting a declaration must not open data
  if (access === undefined) return { status: 403, error: 'This route is closed.' };
  if (!principal) return { status: 401, error: 'Sign in, or send a bearer token.' };
  if (!access.includes(principal.role))
    return { status: 403, error: `The role ${principal.role} may not ${method} this route.` };
  return null;
}

const ROUTES = new WeakMap<FastifyInstance, RouteOptions[]>();

/** Every route registered on the app, as the router holds it (the access test walks this list). */
export function registeredRoutes(app: FastifyInstance): readonly RouteOptions[] {
  return ROUTES.get(app) ?? [];
}

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Cross-site request check for state-changing requests: an Origin (or Referer) naming another
 * site is refused, and a request authenticated by the session cookie must name its origin at all
 * (browsers always send Origin on a POST). Bearer-token clients are not browsers and send neither.
 */
export function crossSiteRefusal(req: FastifyRequest): string | null {
  if (!STATE_CHANGING.has(req.method)) return null;
  const claimed = req.headers.origin ?? req.headers.referer;
  if (claimed === undefined) {
    const byCookie = !req.headers.authorization && req.cookies[SESSION_COOKIE] !== undefined;
    return byCookie ? 'A signed-in browser request must say its Origin.' : null;
  }
  // URL normalises both sides alike (case, default ports)
  const own = new URL(`${req.protocol}://${req.host}`).host;
  if (!URL.canParse(claimed)) return 'The Origin header is not a URL.';
  return new URL(claimed).host === own
    ? null
    : `Requests from ${claimed} may not change data here.`;
}

/** The Secure flag: always when the server says so, and for any request that arrived over HTTPS. */
const secureFor = (req: FastifyRequest, always: boolean) => always || req.protocol === 'https';

/** Call before any route is registered. */
export function registerAuth(app: FastifyInstance, store: Store): void {
  const routes: RouteOptions[] = [];
  ROUTES.set(app, routes);
  app.addHook('onRoute', (route) => {
    routes.push(route);
  });
  // a route registered by hand, outside the declarations, must declare access too: else no start
  app.addHook('onReady', async () => {
    const undeclared = routes.filter((r) => r.config?.access === undefined);
    if (undeclared.length)
      throw new Error(
        `Routes without a declared access: ${undeclared.map((r) => `${String(r.method)} ${r.url}`).join(', ')}`,
      );
  });
  app.decorateRequest('principal', null);

  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    const header = req.headers.authorization;
    if (header?.startsWith('Bearer '))
      req.principal = await principalForToken(store, header.slice(7).trim());
    else if (req.cookies[SESSION_COOKIE])
      req.principal = await principalForSession(store, req.cookies[SESSION_COOKIE]!);
    // no route matched: the 404 answer carries no data
    if (req.is404) return;
    const crossSite = crossSiteRefusal(req);
    if (crossSite) return reply.code(403).send({ error: crossSite });
    const refused = denial(req.routeOptions.config.access, req.principal, req.method);
    if (refused) return reply.code(refused.status).send({ error: refused.error });
  });
}

const Login = z.strictObject({
  username: z.string().min(1).max(64),
  password: z.string().min(1).max(1024),
});

const sessionCookie = (req: FastifyRequest, secure: boolean) => ({
  path: '/',
  httpOnly: true,
  sameSite: 'strict' as const,
  secure: secureFor(req, secure),
});

/** Sign-in, sign-out and who is signed in: public, so a visitor can become a principal. */
export const AUTH_ROUTES = [
  defineRoute({
    method: 'POST',
    url: '/api/auth/login',
    tag: 'auth',
    access: 'public',
    body: Login,
    invalidBody: 'Send {"username", "password"} as JSON',
    rateLimit: { max: 5, timeWindow: '1 minute', keyGenerator: (req) => req.ip },
    summary: 'Sign in: sets the session cookie',
    handle: async ({ store, signIns, secureCookies }, { body, req, reply }) => {
      const { username, password } = body;
      const wait = signIns.lockedFor(username);
      if (wait > 0)
        throw new HttpRefusal(
          429,
          `Too many failed sign-ins for this account: try again in ${Math.ceil(wait / 60_000)} minutes.`,
          {},
          { 'Retry-After': Math.ceil(wait / 1000) },
        );
      const result = await signIn(store, username, password);
      if (!result) {
        signIns.failed(username);
        throw new HttpRefusal(401, 'Wrong user name or password.');
      }
      signIns.succeeded(username);
      reply.setCookie(SESSION_COOKIE, result.sessionId, {
        ...sessionCookie(req, secureCookies),
        maxAge: SESSION_HOURS * 3600,
      });
      return { user: result.principal.name, role: result.principal.role };
    },
  }),
  defineRoute({
    method: 'POST',
    url: '/api/auth/logout',
    tag: 'auth',
    access: 'public',
    summary: 'Sign out: ends the session',
    handle: async ({ store, secureCookies }, { req, reply }) => {
      const sid = req.cookies[SESSION_COOKIE];
      if (sid) await signOut(store, sid);
      reply.clearCookie(SESSION_COOKIE, sessionCookie(req, secureCookies));
      return { ok: true };
    },
  }),
  defineRoute({
    method: 'GET',
    url: '/api/auth/me',
    tag: 'auth',
    access: 'public',
    summary: 'Who is signed in (401 when nobody)',
    handle: async (_ctx, { req }) => {
      if (!req.principal) throw new HttpRefusal(401, 'Not signed in.');
      return { user: req.principal.name, role: req.principal.role, kind: req.principal.kind };
    },
  }),
];
