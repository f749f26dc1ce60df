import { z } from 'zod';
import { parseLiveItem, REPLAY_SOURCE, type LiveEvent } from '../../domains/fire/index.ts';
import { FEEDERS, READERS } from './auth.ts';
import { defineRoute, HttpRefusal } from './route.ts';

const IngestQuery = z.strictObject({ source: z.enum(['cad', REPLAY_SOURCE]).default('cad') });
/** The envelope; each item is validated on its own, so a refusal can name the item's index. */
const IngestBody = z.array(z.unknown()).min(1).max(5000);
const StreamQuery = z.object({ lastEventId: z.string().max(20).optional() });

/** The live routes: CAD posts unit-status events, the board reads the picture and its updates. */
export const LIVE_ROUTES = [
  defineRoute({
    method: 'POST',
    url: '/api/v1/cad/events',
    tag: 'live',
    access: FEEDERS,
    query: IngestQuery,
    body: IngestBody,
    invalidBody:
      'Send a JSON array of 1 to 5,000 unit-status events {id, incident, unit, status, at} or wide unit responses {incident, unit, dispatched, enroute, on_scene, …}',
    bodyLimit: 1024 * 1024,
    rateLimit: {
      max: 6000,
      timeWindow: '1 minute',
      keyGenerator: (req) => req.principal?.name ?? req.ip,
    },
    summary: 'Post unit-status events from CAD (JSON array, 1 to 5,000); answered after commit',
    handle: async ({ live }, { query, body, req }) => {
      const errors: { index: number; field: string; message: string }[] = [];
      const events: LiveEvent[] = [];
      body.forEach((item, index) => {
        const r = parseLiveItem(item);
        if (r.ok) events.push(...r.events);
        else
          for (const i of r.issues)
            errors.push({ index, field: i.path.join('.') || '(item)', message: i.message });
      });
      if (errors.length)
        throw new HttpRefusal(
          400,
          `${new Set(errors.map((e) => e.index)).size} of ${body.length} events are invalid; none was accepted.`,
          { errors },
        );
      return live.ingest(
        events,
        req.principal!.name,
        query.source === REPLAY_SOURCE ? REPLAY_SOURCE : undefined,
      );
    },
  }),
  defineRoute({
    method: 'GET',
    url: '/api/v1/live/state',
    tag: 'live',
    access: READERS,
    summary: 'The live picture: active incidents, units, stations, alerts',
    handle: async ({ live }) => (await live.snapshot()).state,
  }),
  defineRoute({
    method: 'GET',
    url: '/api/v1/live/stream',
    tag: 'live',
    access: READERS,
    query: StreamQuery,
    reply: 'stream',
    summary: 'Server-Sent Events: a snapshot, then updates (resume with Last-Event-ID)',
    handle: async ({ live, closing }, { query, req, reply }) => {
      const header = req.headers['last-event-id'];
      const last = Number(Array.isArray(header) ? header[0] : (header ?? query.lastEventId));
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
      // a server closing ends the stream and its connection (the board reconnects to the next one)
      const end = () => res.end(() => res.socket?.destroy());
      closing.addEventListener('abort', end, { once: true });
      if (closing.aborted) end();
      req.raw.on('close', () => {
        unsubscribe();
        clearInterval(heartbeat);
        closing.removeEventListener('abort', end);
      });
    },
  }),
];
