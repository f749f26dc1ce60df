import Fastify, { type FastifyInstance } from 'fastify';
import { UserError } from '../core/errors.ts';
import type { FireConfig } from '../fire/config.ts';
import { describeZodError } from '../fire/mapping.ts';
import { FireService } from '../fire/service.ts';
import type { Store } from '../store/db.ts';
import { SCHEMA_VERSION } from '../store/migrations.ts';
import { overviewPage } from './overview.ts';
import { FIRE_ROUTES, openApiDocument } from './routes.ts';

export interface AppOptions {
  store: Store;
  config: FireConfig;
  logger?: boolean;
  version?: string;
}

/** The HTTP application: JSON API over the same query layer as the CLI. */
export async function buildApp(opts: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({ logger: opts.logger ?? false });
  const fire = new FireService(opts.store, opts.config);
  const version = opts.version ?? '0.1.0';

  app.addHook('onSend', async (_req, reply) => {
    reply.header('X-Content-Type-Options', 'nosniff');
    reply.header('Referrer-Policy', 'no-referrer');
    reply.header('X-Frame-Options', 'DENY');
  });

  app.setErrorHandler((err, req, reply) => {
    if (err instanceof UserError) return reply.code(400).send({ error: err.message });
    const status = (err as { statusCode?: number }).statusCode ?? 500;
    if (status >= 500) req.log.error(err);
    return reply.code(status).send({ error: status >= 500 ? 'Internal error' : (err as Error).message });
  });

  app.get('/api/health', async () => ({ ok: true, schemaVersion: SCHEMA_VERSION, version }));
  app.get('/api/docs/openapi.json', async () => openApiDocument(version));

  for (const r of FIRE_ROUTES) {
    app.get(r.url, async (req, reply) => {
      const parsed = r.query.safeParse(req.query ?? {});
      if (!parsed.success) return reply.code(400).send({ error: `Invalid query:\n${describeZodError(parsed.error)}`, issues: parsed.error.issues });
      return r.handle(fire, parsed.data as never);
    });
  }

  app.get('/', async (_req, reply) => reply.type('text/html; charset=utf-8').send(await overviewPage(fire)));
  return app;
}
