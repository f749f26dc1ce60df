import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import { z } from 'zod';
import { principalForSession, principalForToken, SESSION_HOURS, signIn, signOut, type Principal, type Role } from '../accounts/accounts.ts';
import type { Store } from '../store/db.ts';

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
  }
}

/** People who read staff data. */
export const READERS: readonly Role[] = ['admin', 'analyst', 'viewer'];
/** People who change what the analysis uses (actions, calibration, reported actuals). */
export const EDITORS: readonly Role[] = ['admin', 'analyst'];
/** Who may post live CAD events. */
export const FEEDERS: readonly Role[] = ['ingest', 'admin'];

/** The answer for a request to a route declaring `access`, or null when it may go on. */
export function denial(access: Access | undefined, principal: Principal | null, method: string): { status: 401 | 403; error: string } | null {
  if (access === 'public') return null;
  // a route that declares nothing is closed to everyone: forgetting a declaration must not open data
  if (access === undefined) return { status: 403, error: 'This route is closed.' };
  if (!principal) return { status: 401, error: 'Sign in, or send a bearer token.' };
  if (!access.includes(principal.role)) return { status: 403, error: `The role ${principal.role} may not ${method} this route.` };
  return null;
}

const ROUTES = new WeakMap<FastifyInstance, RouteOptions[]>();

/** Every route registered on the app, as the router holds it (the access test walks this list). */
export function registeredRoutes(app: FastifyInstance): readonly RouteOptions[] {
  return ROUTES.get(app) ?? [];
}

/** Call before any route is registered. */
export function registerAuth(app: FastifyInstance, store: Store, opts: { secureCookies: boolean }): void {
  const routes: RouteOptions[] = [];
  ROUTES.set(app, routes);
  app.addHook('onRoute', (route) => { routes.push(route); });
  app.decorateRequest('principal', null);

  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    const header = req.headers.authorization;
    if (header?.startsWith('Bearer ')) req.principal = await principalForToken(store, header.slice(7).trim());
    else if (req.cookies[SESSION_COOKIE]) req.principal = await principalForSession(store, req.cookies[SESSION_COOKIE]!);
    // no route matched: the 404 answer carries no data
    if (req.is404) return;
    const refused = denial(req.routeOptions.config.access, req.principal, req.method);
    if (refused) return reply.code(refused.status).send({ error: refused.error });
  });

  const Login = z.strictObject({ username: z.string().min(1).max(64), password: z.string().min(1).max(1024) });
  app.post('/api/auth/login', {
    config: { access: 'public', rateLimit: { max: 5, timeWindow: '1 minute', keyGenerator: (req: FastifyRequest) => req.ip } },
  }, async (req, reply) => {
    const body = Login.safeParse(req.body);
    if (!body.success) return reply.code(400).send({ error: 'Send {"username", "password"} as JSON.' });
    const result = await signIn(store, body.data.username, body.data.password);
    if (!result) return reply.code(401).send({ error: 'Wrong user name or password.' });
    reply.setCookie(SESSION_COOKIE, result.sessionId, {
      path: '/', httpOnly: true, sameSite: 'strict', secure: opts.secureCookies, maxAge: SESSION_HOURS * 3600,
    });
    return { user: result.principal.name, role: result.principal.role };
  });

  app.post('/api/auth/logout', { config: { access: 'public' } }, async (req, reply) => {
    const sid = req.cookies[SESSION_COOKIE];
    if (sid) await signOut(store, sid);
    reply.clearCookie(SESSION_COOKIE, { path: '/' });
    return { ok: true };
  });

  app.get('/api/auth/me', { config: { access: 'public' } }, async (req, reply) => {
    if (!req.principal) return reply.code(401).send({ error: 'Not signed in.' });
    return { user: req.principal.name, role: req.principal.role, kind: req.principal.kind };
  });
}
