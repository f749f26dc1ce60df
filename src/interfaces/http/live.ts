import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import {
  parseLiveItem,
  REPLAY_SOURCE,
  type LiveEvent,
  type LiveService,
} from '../../domains/fire/index.ts';
import { FEEDERS, READERS } from './auth.ts';

const IngestQuery = z.strictObject({ source: z.enum(['cad', REPLAY_SOURCE]).default('cad') });

export function registerLive(app: FastifyInstance, live: LiveService): void {
  app.post(
    '/api/v1/cad/events',
    {
      bodyLimit: 1024 * 1024,
      config: {
        access: FEEDERS,
        tag: 'live',
        summary: 'Post unit-status events from CAD (JSON array, 1 to 5,000); answered after commit',
        rateLimit: {
          max: 6000,
          timeWindow: '1 minute',
          keyGenerator: (req) => req.principal?.name ?? req.ip,
        },
      },
    },
    async (req, reply) => {
      const q = IngestQuery.safeParse(req.query ?? {});
      if (!q.success) return reply.code(400).send({ error: 'source must be cad or replay' });
      const body = req.body;
      if (!Array.isArray(body) || body.length === 0 || body.length > 5000) {
        return reply.code(400).send({
          error:
            'Send a JSON array of 1 to 5,000 unit-status events {id, incident, unit, status, at} or wide unit responses {incident, unit, dispatched, enroute, on_scene, …}.',
        });
      }
      const errors: { index: number; field: string; message: string }[] = [];
      const events: LiveEvent[] = [];
      body.forEach((item, index) => {
        const r = parseLiveItem(item);
        if (r.ok) events.push(...r.events);
        else
          for (const i of r.issues)
            errors.push({ index, field: i.path.join('.') || '(item)', message: i.message });
      });
      if (errors.length) {
        return reply.code(400).send({
          error: `${new Set(errors.map((e) => e.index)).size} of ${body.length} events are invalid; none was accepted.`,
          errors,
        });
      }
      return live.ingest(
        events,
        req.principal!.name,
        q.data.source === REPLAY_SOURCE ? REPLAY_SOURCE : undefined,
      );
    },
  );

  app.get(
    '/api/v1/live/state',
    {
      config: {
        access: READERS,
        tag: 'live',
        summary: 'The live picture: active incidents, units, stations, alerts',
      },
    },
    async () => (await live.snapshot()).state,
  );

  // a HEAD of an endless stream would never complete its head: GET only
  app.get(
    '/api/v1/live/stream',
    {
      exposeHeadRoute: false,
      config: {
        access: READERS,
        tag: 'live',
        summary: 'Server-Sent Events: a snapshot, then updates (resume with Last-Event-ID)',
      },
    },
    async (req, reply) => {
      const header = req.headers['last-event-id'];
      const last = Number(
        Array.isArray(header)
          ? header[0]
          : (header ?? (req.query as Record<string, string>)?.lastEventId),
      );
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'Content-Type': 'text/event-stream; charset=utf-8',
        'Cache-Control': 'no-cache, no-transform',
        Connection: 'keep-alive',
        'X-Accel-Buffering': 'no',
        'X-Content-Type-Options': 'nosniff',
      });
      res.write('retry: 2000\n\n');
      const send = (seq: number, event: string, data: string) =>
        res.write(`id: ${seq}\nevent: ${event}\ndata: ${data}\n\n`);
      // subscribe first and hold live updates until the catch-up is written, so none falls in between
      let caughtUpTo = -1;
      const held: [number, string][] = [];
      const unsubscribe = live.hub.subscribe((seq, data) => {
        if (caughtUpTo < 0) held.push([seq, data]);
        else if (seq > caughtUpTo) send(seq, 'update', data);
      });
      // a client that cannot be caught up (new, ahead of this server, or behind the pruned log) starts again from a snapshot
      const missed = Number.isInteger(last) && last >= 0 ? await live.hub.since(last) : null;
      if (missed) {
        for (const m of missed) send(m.seq, 'update', m.payload);
        caughtUpTo = missed.length ? missed[missed.length - 1]!.seq : last;
      } else {
        const { seq, state } = await live.snapshot();
        send(seq, 'snapshot', JSON.stringify({ type: 'snapshot', ...state }));
        caughtUpTo = seq;
      }
      for (const [seq, data] of held)
        if (seq > caughtUpTo) {
          send(seq, 'update', data);
          caughtUpTo = seq;
        }
      const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), 15000);
      req.raw.on('close', () => {
        unsubscribe();
        clearInterval(heartbeat);
      });
    },
  );
}
