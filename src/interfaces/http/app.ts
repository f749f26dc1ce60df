import { existsSync } from 'node:fs';
import fastifyStatic from '@fastify/static';
import { join, resolve } from 'node:path';
import cookie from '@fastify/cookie';
import rateLimit from '@fastify/rate-limit';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { UserError } from '../../platform/errors.ts';
import { type FireConfig, FireService, LiveService } from '../../domains/fire/index.ts';
import { describeZodError } from '../../platform/validation.ts';
import type { Store } from '../../platform/db.ts';
import { SCHEMA_VERSION } from '../../platform/migrations.ts';
import { z } from 'zod';
import { openSession, signOut } from '../../domains/accounts/index.ts';
import { Gate, GateFull } from '../../platform/gate.ts';
import { ClientsGone, PublicAnswers, type PublicAnswersOptions } from './public-cache.ts';
import { currentPlan, recordActuals } from '../../domains/strategy/index.ts';
import {
  ActionInputSchema,
  addAction,
  kdeQuery,
  KdeQuerySchema,
  toAsciiGrid,
} from '../../domains/collisions/index.ts';
import { streetsPage } from './collisions-page.ts';
import { CoverageService } from '../../domains/coverage/index.ts';
import { renderFireReport } from '../reports/pdf.ts';
import { EDITORS, READERS, registerAuth, registeredRoutes, SESSION_COOKIE } from './auth.ts';
import { healthProblems } from './health.ts';
import { registerLive } from './live.ts';
import { cityFacts, layerGeoJson } from './city.ts';
import { overviewPage } from './overview.ts';
import { planPage } from './coverage-page.ts';
import { API_ROUTES, openApiDocument } from './routes.ts';

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
  const version = opts.version ?? '0.1.0';

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
  registerAuth(app, opts.store, { secureCookies: opts.secureCookies ?? false });

  app.setErrorHandler((err, req, reply) => {
    if (err instanceof UserError) return reply.code(400).send({ error: err.message });
    const status = (err as { statusCode?: number }).statusCode ?? 500;
    if (status >= 500) req.log.error(err);
    return reply
      .code(status)
      .send({ error: status >= 500 ? 'Internal error' : (err as Error).message });
  });

  const PUBLIC = (tag: string, summary: string) => ({
    config: { access: 'public' as const, tag, summary },
  });
  const READ = (tag: string, summary: string) => ({ config: { access: READERS, tag, summary } });
  const EDIT = (tag: string, summary: string, body?: z.ZodType) => ({
    config: { access: EDITORS, tag, summary, body },
  });
  app.get(
    '/api/health',
    PUBLIC(
      'system',
      'Liveness, schema version, and problems that would make writes fail (503 then)',
    ),
    async (_req, reply) => {
      const problems = healthProblems(opts.store.path);
      return reply
        .code(problems.length ? 503 : 200)
        .send({ ok: problems.length === 0, schemaVersion: SCHEMA_VERSION, version, problems });
    },
  );
  app.get('/api/docs/openapi.json', PUBLIC('system', 'This document'), async () =>
    openApiDocument(version, registeredRoutes(app)),
  );

  // Anonymous answers are computed once per data version, a few at a time, and only for clients still there.
  const answers = new PublicAnswers(() => opts.store.dataVersion, opts.publicAnswers);
  app.decorate('publicAnswers', answers);
  const publicRate = { max: opts.publicRateLimit ?? 60, timeWindow: '1 minute' };
  const cheaply = async (
    req: FastifyRequest,
    reply: FastifyReply,
    key: string,
    compute: () => Promise<unknown>,
  ) => {
    try {
      return await answers.answer(
        key,
        () => req.raw.destroyed || req.raw.socket?.destroyed === true,
        compute,
      );
    } catch (e) {
      if (!(e instanceof GateFull) && !(e instanceof ClientsGone)) throw e;
      return reply
        .code(503)
        .header('Retry-After', e instanceof GateFull ? e.retryAfterSeconds : 5)
        .send({ error: 'Many public requests are being answered: try again in a few seconds.' });
    }
  };

  const plan = new CoverageService(opts.store);
  for (const r of API_ROUTES) {
    const config = {
      access: r.public ? ('public' as const) : READERS,
      tag: r.tag,
      summary: r.summary,
      query: r.query,
      ...(r.public ? { rateLimit: publicRate } : {}),
    };
    app.get(r.url, { config }, async (req, reply) => {
      const parsed = r.query.safeParse(req.query ?? {});
      if (!parsed.success)
        return reply.code(400).send({
          error: `Invalid query:\n${describeZodError(parsed.error)}`,
          issues: parsed.error.issues,
        });
      const handle = () => r.handle({ fire, store: opts.store, plan }, parsed.data as never);
      return r.public
        ? cheaply(req, reply, `${r.url}?${JSON.stringify(parsed.data)}`, handle)
        : handle();
    });
  }

  registerLive(app, opts.live ?? (await LiveService.open(opts.store, opts.config.timeZone)));

  // The city's own map layers as imported (boundary, tracts, stations…): public facts, drawn without tiles.
  app.get(
    '/api/public/geo/:layer',
    PUBLIC('public', 'An imported map layer (boundary, stations, tracts, …) as GeoJSON'),
    async (req, reply) => {
      const layer = (req.params as { layer: string }).layer;
      const geo = /^[\w-]{1,40}$/.test(layer) ? await layerGeoJson(opts.store, layer) : null;
      if (!geo)
        return reply.code(404).send({
          error: `No map layer "${layer.slice(0, 40)}". Layers: ${(await cityFacts(opts.store, fire)).layers.join(', ') || 'none imported'}`,
        });
      return reply
        .type('application/geo+json')
        .header('Cache-Control', 'public, max-age=300')
        .send(geo);
    },
  );

  // reported actuals from the staff form (analysts and admins): validated as a CSV load is, all or nothing
  const Actual = z.strictObject({
    measure: z.string().min(1),
    period: z.string().min(1),
    value: z.number().finite(),
  });
  const ActualsBody = z.union([Actual, z.array(Actual).min(1).max(1000)]);
  app.post(
    '/api/v1/strategy/actuals',
    EDIT('strategy', 'Record reported actuals of plan measures, all or nothing', ActualsBody),
    async (req, reply) => {
      const body = ActualsBody.safeParse(req.body);
      if (!body.success)
        return reply.code(400).send({
          error: `Send {measure, period, value} or a list of them:\n${describeZodError(body.error)}`,
        });
      const rows = Array.isArray(body.data) ? body.data : [body.data];
      return recordActuals(
        opts.store,
        await currentPlan(opts.store),
        rows,
        `form:${req.principal!.name}`,
      );
    },
  );

  app.post(
    '/api/v1/streets/actions',
    EDIT('streets', 'Add an engineering, education or enforcement action', ActionInputSchema),
    async (req, reply) => {
      const body = ActionInputSchema.safeParse(req.body);
      if (!body.success)
        return reply.code(400).send({ error: `Invalid action:\n${describeZodError(body.error)}` });
      return reply.code(201).send(await addAction(opts.store, body.data, req.principal!.name));
    },
  );
  app.post(
    '/api/v1/plan/calibrate',
    EDIT('plan', 'Fit drive-time speeds to the observed CAD travel times and store them'),
    async (_req, reply) => {
      const { calibrate } = await import('../../domains/coverage/index.ts');
      try {
        return await calibrate(opts.store, await plan.context());
      } catch (e) {
        if (e instanceof UserError) throw e;
        return reply.code(400).send({ error: `Cannot calibrate: ${(e as Error).message}` });
      }
    },
  );
  app.get(
    '/api/v1/streets/kde.asc',
    {
      config: {
        ...READ('streets', 'Kernel density surface as an Esri ASCII grid').config,
        query: KdeQuerySchema,
      },
    },
    async (req, reply) => {
      const q = KdeQuerySchema.safeParse(req.query ?? {});
      if (!q.success)
        return reply.code(400).send({ error: `Invalid query:\n${describeZodError(q.error)}` });
      const r = await kdeQuery(opts.store, q.data);
      return reply
        .type('text/plain; charset=utf-8')
        .header('Content-Disposition', 'attachment; filename="cityops-kde.asc"')
        .header('X-Projection', r.proj)
        .send(toAsciiGrid(r.surface));
    },
  );

  // one Chromium at a time (each takes hundreds of MB), two waiting; more are told to come back
  const renders = new Gate(1, 2, 30);
  app.get(
    '/api/v1/reports/fire.pdf',
    READ(
      'reports',
      'Monthly fire report as PDF (?month=YYYY-MM); one render at a time, 503 when busy',
    ),
    async (req, reply) => {
      const month = (req.query as Record<string, string>).month ?? '';
      if (!/^\d{4}-(0[1-9]|1[0-2])$/.test(month))
        return reply.code(400).send({ error: 'month must be YYYY-MM' });
      const address = app.server.address();
      if (!address || typeof address === 'string')
        return reply.code(500).send({ error: 'The server has no TCP address to render from.' });
      try {
        const pdf = await renders.run(async () => {
          const session = await openSession(opts.store, 'report-renderer', 'viewer', 10);
          try {
            return await renderFireReport({
              baseUrl: `http://127.0.0.1:${address.port}`,
              sessionCookie: { name: SESSION_COOKIE, value: session },
              month,
            });
          } finally {
            await signOut(opts.store, session);
          }
        });
        return reply
          .type('application/pdf')
          .header('Content-Disposition', `attachment; filename="cityops-fire-${month}.pdf"`)
          .send(pdf);
      } catch (e) {
        if (!(e instanceof GateFull)) throw e;
        return reply
          .code(503)
          .header('Retry-After', e.retryAfterSeconds)
          .send({ error: 'Reports are being printed for others: try again in half a minute.' });
      }
    },
  );

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

  const PAGES: [string, string, () => Promise<string>][] = [
    ['/public/plan', 'Public strategic-plan page', () => planPage(opts.store, fire)],
    ['/public/streets', 'Public road-safety page', () => streetsPage(opts.store)],
    ['/public', 'Public overview page', () => overviewPage(fire)],
  ];
  for (const [url, summary, render] of PAGES) {
    app.get(
      url,
      { config: { ...PUBLIC('pages', summary).config, rateLimit: publicRate } },
      async (req, reply) => {
        const page = await cheaply(req, reply, url, render);
        return typeof page === 'string' ? reply.type('text/html; charset=utf-8').send(page) : page;
      },
    );
  }
  return app;
}
