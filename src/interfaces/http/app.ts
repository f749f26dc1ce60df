import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import cookie from '@fastify/cookie';
import rateLimit from '@fastify/rate-limit';
import fastifyStatic from '@fastify/static';
import Fastify, { type FastifyInstance } from 'fastify';
import { SignInGuard } from '../../domains/accounts/index.ts';
import { CoverageService } from '../../domains/coverage/index.ts';
import { type FireConfig, FireService, LiveService } from '../../domains/fire/index.ts';
import type { Store } from '../../platform/db.ts';
import { Unavailable, UserError } from '../../platform/errors.ts';
import { Gate } from '../../platform/gate.ts';
import { registerAuth } from './auth.ts';
import { PublicAnswers, type PublicAnswersOptions } from './public-cache.ts';
import { HttpRefusal, registerRoutes, type RouteContext } from './route.ts';
import { ROUTES } from './routes.ts';

const WEB_DIR = resolve(import.meta.dirname, '../../../dist/web');

/** Builds the web app if it has not been built (commands that need the pages call this). */
export async function ensureWebBuilt(): Promise<void> {
  if (existsSync(join(WEB_DIR, 'index.html'))) return;
  const { build } = await import('vite');
  await build({
    configFile: resolve(import.meta.dirname, '../../../vite.config.ts'),
    logLevel: 'warn',
  });
}

export interface AppOptions {
  store: Store;
  config: FireConfig;
  logger?: boolean;
  version?: string;
  /** Set Secure on cookies (when served over HTTPS, directly or behind a proxy). */
  secureCookies?: boolean;
  /** Believe X-Forwarded-* headers (behind a reverse proxy). */
  trustProxy?: boolean;
  /** Live operations, when the caller also feeds them (the demo replay). */
  live?: LiveService;
  /** Anonymous requests one address may make a minute (default 60). */
  publicRateLimit?: number;
  /** Bounds of the public answer cache and its computations. */
  publicAnswers?: PublicAnswersOptions;
}

/** The HTTP application: JSON API over the same query layer as the CLI. */
export async function buildApp(opts: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({ logger: opts.logger ?? false, trustProxy: opts.trustProxy ?? false });
  const fire = new FireService(opts.store, opts.config);

  await app.register(cookie);
  await app.register(rateLimit, { global: false });
  app.addHook('onSend', async (_req, reply) => {
    reply.header('X-Content-Type-Options', 'nosniff');
    reply.header('Referrer-Policy', 'no-referrer');
    reply.header('X-Frame-Options', 'DENY');
    reply.header('Cross-Origin-Opener-Policy', 'same-origin');
    // MapLibre sets inline styles and runs its worker from a blob
    reply.header(
      'Content-Security-Policy',
      "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; " +
        "worker-src 'self' blob:; child-src blob:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    );
  });
  registerAuth(app, opts.store);

  app.setErrorHandler((err, req, reply) => {
    if (err instanceof HttpRefusal)
      return reply
        .code(err.status)
        .headers(err.headers)
        .send({ error: err.message, ...err.details });
    if (err instanceof Unavailable)
      return reply.code(503).header('Retry-After', 5).send({ error: err.message });
    if (err instanceof UserError) return reply.code(400).send({ error: err.message });
    const status = (err as { statusCode?: number }).statusCode ?? 500;
    if (status >= 500) req.log.error(err);
    return reply
      .code(status)
      .send({ error: status >= 500 ? 'Internal error' : (err as Error).message });
  });

  // Anonymous answers are computed once per data version, a few at a time, and only for clients still there.
  const answers = new PublicAnswers(() => opts.store.dataVersion, opts.publicAnswers);
  app.decorate('publicAnswers', answers);
  // app.close() first ends what never ends by itself (the live streams), then waits for the rest
  const closing = new AbortController();
  app.addHook('preClose', async () => closing.abort());
  const context: RouteContext = {
    fire,
    store: opts.store,
    coverage: new CoverageService(opts.store),
    live: opts.live ?? (await LiveService.open(opts.store, opts.config.timeZone)),
    answers,
    // one Chromium at a time (each takes hundreds of MB), two waiting; more are told to come back
    renders: new Gate(1, 2, 30),
    signIns: new SignInGuard(),
    secureCookies: opts.secureCookies ?? false,
    version: opts.version ?? '0.1.0',
    closing: closing.signal,
  };
  registerRoutes(app, ROUTES, context, {
    publicRate: { max: opts.publicRateLimit ?? 60, timeWindow: '1 minute' },
  });

  // the app's files are public; the plugin's routes are marked so in their own scope
  await app.register(async (files) => {
    files.addHook('onRoute', (route) => {
      route.config = { ...route.config, access: 'public' };
    });
    if (existsSync(WEB_DIR))
      await files.register(fastifyStatic, {
        root: WEB_DIR,
        prefix: '/',
        index: ['index.html'],
        wildcard: false,
      });
    else
      files.get('/', async (_req, reply) =>
        reply
          .type('text/plain')
          .send('The web app is not built: run `npm run build` (npm start does it).'),
      );
  });

  return app;
}
