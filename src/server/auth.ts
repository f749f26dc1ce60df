import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { principalForSession, principalForToken, SESSION_HOURS, signIn, signOut, type Principal, type Role } from '../accounts/accounts.ts';
import type { Store } from '../store/db.ts';

export const SESSION_COOKIE = 'cityops_session';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
}

/** Paths anyone may read: the public pages' data, health, the API description, sign-in, the web app's files. */
function isPublic(url: string): boolean {
  return !url.startsWith('/api/') || url.startsWith('/api/public/') || url === '/api/health'
    || url.startsWith('/api/docs/') || url.startsWith('/api/auth/');
}

const READ_ROLES: Role[] = ['admin', 'analyst', 'viewer'];

/** Which roles may use a staff route; everything under /api/v1 needs at least a reader. */
export function rolesFor(method: string, url: string): Role[] {
  if (method === 'POST' && url.startsWith('/api/v1/cad/events')) return ['ingest', 'admin'];
  if (method === 'POST') return ['admin', 'analyst'];
  return READ_ROLES;
}

export function registerAuth(app: FastifyInstance, store: Store, opts: { secureCookies: boolean }): void {
  app.decorateRequest('principal', null);

  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    const header = req.headers.authorization;
    if (header?.startsWith('Bearer ')) req.principal = await principalForToken(store, header.slice(7).trim());
    else if (req.cookies[SESSION_COOKIE]) req.principal = await principalForSession(store, req.cookies[SESSION_COOKIE]!);
    const url = req.url.split('?')[0]!;
    if (isPublic(url)) return;
    if (!req.principal) return reply.code(401).send({ error: 'Sign in, or send a bearer token.' });
    if (!rolesFor(req.method, url).includes(req.principal.role)) {
      return reply.code(403).send({ error: `The role ${req.principal.role} may not ${req.method} ${url}.` });
    }
  });

  const Login = z.strictObject({ username: z.string().min(1).max(64), password: z.string().min(1).max(1024) });
  app.post('/api/auth/login', {
    config: { rateLimit: { max: 5, timeWindow: '1 minute', keyGenerator: (req: FastifyRequest) => req.ip } },
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

  app.post('/api/auth/logout', async (req, reply) => {
    const sid = req.cookies[SESSION_COOKIE];
    if (sid) await signOut(store, sid);
    reply.clearCookie(SESSION_COOKIE, { path: '/' });
    return { ok: true };
  });

  app.get('/api/auth/me', async (req, reply) => {
    if (!req.principal) return reply.code(401).send({ error: 'Not signed in.' });
    return { user: req.principal.name, role: req.principal.role, kind: req.principal.kind };
  });
}
