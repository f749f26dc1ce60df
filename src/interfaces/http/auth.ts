import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import { z, type ZodType } from 'zod';
import {
  principalForSession,
  principalForToken,
  SESSION_HOURS,
  SignInGuard,
  signIn,
  signOut,
  type Principal,
  type Role,
} from '../../domains/accounts/index.ts';
import type { Store } from '../../platform/db.ts';

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
export function registerAuth(
  app: FastifyInstance,
  store: Store,
  opts: { secureCookies: boolean },
): void {
  const guard = new SignInGuard();
  const routes: RouteOptions[] = [];
  ROUTES.set(app, routes);
  app.addHook('onRoute', (route) => {
    routes.push(route);
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

  const Login = z.strictObject({
    username: z.string().min(1).max(64),
    password: z.string().min(1).max(1024),
  });
  app.post(
    '/api/auth/login',
    {
      config: {
        access: 'public',
        tag: 'auth',
        summary: 'Sign in: sets the session cookie',
        body: Login,
        rateLimit: {
          max: 5,
          timeWindow: '1 minute',
          keyGenerator: (req: FastifyRequest) => req.ip,
        },
      },
    },
    async (req, reply) => {
      const body = Login.safeParse(req.body);
      if (!body.success)
        return reply.code(400).send({ error: 'Send {"username", "password"} as JSON.' });
      const { username, password } = body.data;
      const wait = guard.lockedFor(username);
      if (wait > 0) {
        reply.header('Retry-After', Math.ceil(wait / 1000));
        return reply.code(429).send({
          error: `Too many failed sign-ins for this account: try again in ${Math.ceil(wait / 60_000)} minutes.`,
        });
      }
      const result = await signIn(store, username, password);
      if (!result) {
        guard.failed(username);
        return reply.code(401).send({ error: 'Wrong user name or password.' });
      }
      guard.succeeded(username);
      reply.setCookie(SESSION_COOKIE, result.sessionId, {
        path: '/',
        httpOnly: true,
        sameSite: 'strict',
        secure: secureFor(req, opts.secureCookies),
        maxAge: SESSION_HOURS * 3600,
      });
      return { user: result.principal.name, role: result.principal.role };
    },
  );

  app.post(
    '/api/auth/logout',
    { config: { access: 'public', tag: 'auth', summary: 'Sign out: ends the session' } },
    async (req, reply) => {
      const sid = req.cookies[SESSION_COOKIE];
      if (sid) await signOut(store, sid);
      reply.clearCookie(SESSION_COOKIE, {
        path: '/',
        httpOnly: true,
        sameSite: 'strict',
        secure: secureFor(req, opts.secureCookies),
      });
      return { ok: true };
    },
  );

  app.get(
    '/api/auth/me',
    { config: { access: 'public', tag: 'auth', summary: 'Who is signed in (401 when nobody)' } },
    async (req, reply) => {
      if (!req.principal) return reply.code(401).send({ error: 'Not signed in.' });
      return { user: req.principal.name, role: req.principal.role, kind: req.principal.kind };
    },
  );
}
