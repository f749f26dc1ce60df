import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { Batcher } from '../core/batcher.ts';
import { importFireRecords } from '../fire/import.ts';
import { LiveEventSchema, liveState, REPLAY_SOURCE, type LiveEvent } from '../fire/live.ts';
import type { Store } from '../store/db.ts';

type Listener = (seq: number, data: string) => void;

/**
 * Fans live updates out to stream clients. Every update is first written to live_events with a
 * sequence number (the SSE id), so a client that reconnects with Last-Event-ID gets what it missed.
 */
export class LiveHub {
  private listeners = new Set<Listener>();
  constructor(private readonly store: Store) {}

  async publish(payload: unknown): Promise<number> {
    const data = JSON.stringify(payload);
    const row = await this.store.one<{ seq: number }>(`INSERT INTO live_events (seq, sent_at, payload)
      SELECT coalesce(max(seq), 0) + 1, now(), $1 FROM live_events RETURNING seq`, [data]);
    const seq = row!.seq;
    for (const l of this.listeners) l(seq, data);
    return seq;
  }

  subscribe(l: Listener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  since(seq: number): Promise<{ seq: number; payload: string }[]> {
    return this.store.all('SELECT seq, payload FROM live_events WHERE seq > $1 ORDER BY seq', [seq]);
  }

  async lastSeq(): Promise<number> {
    return (await this.store.one<{ s: number }>('SELECT coalesce(max(seq), 0) AS s FROM live_events'))!.s;
  }

  get clients(): number {
    return this.listeners.size;
  }
}

const now = () => Date.now() / 1000;

/** Stores validated live events and publishes the new state of the incidents they touched. */
export async function ingestLive(store: Store, hub: LiveHub, events: LiveEvent[], by: string, source?: string) {
  const summary = await importFireRecords(store, events as unknown as Record<string, unknown>[], `api:${by}`,
    { profile: 'cad-status-events', source });
  const ids = [...new Set(events.map((e) => e.incident))];
  const state = await liveState(store, now(), ids);
  const seq = await hub.publish({ type: 'update', now: state.now, incidents: state.incidents, stations: state.stations, alerts: state.alerts });
  return { received: events.length, inserted: summary.inserted, updated: summary.updated, unchanged: summary.unchanged, batch: summary.batchId, liveSeq: seq };
}

type Ingested = Awaited<ReturnType<typeof ingestLive>>;

/**
 * Posts that arrive while an ingest transaction runs share the next one (group commit); each post
 * is still answered only after the transaction holding its events committed.
 */
function ingestQueue(store: Store, hub: LiveHub, by: string, source: string | undefined) {
  return new Batcher<LiveEvent, Ingested & { groupedWith: number }>(async (events) => {
    const r = await ingestLive(store, hub, events, by, source);
    return (count) => ({ ...r, received: count, groupedWith: events.length });
  });
}

const IngestQuery = z.strictObject({ source: z.enum(['cad', REPLAY_SOURCE]).default('cad') });

export function registerLive(app: FastifyInstance, store: Store, hub: LiveHub): void {
  const queues = new Map<string, ReturnType<typeof ingestQueue>>();
  app.post('/api/v1/cad/events', {
    bodyLimit: 1024 * 1024,
    config: { rateLimit: { max: 6000, timeWindow: '1 minute', keyGenerator: (req) => req.principal?.name ?? req.ip } },
  }, async (req, reply) => {
    const q = IngestQuery.safeParse(req.query ?? {});
    if (!q.success) return reply.code(400).send({ error: 'source must be cad or replay' });
    const body = req.body;
    if (!Array.isArray(body) || body.length === 0 || body.length > 5000) {
      return reply.code(400).send({ error: 'Send a JSON array of 1 to 5,000 unit-status events {id, incident, unit, status, at}.' });
    }
    const errors: { index: number; field: string; message: string }[] = [];
    const events: LiveEvent[] = [];
    body.forEach((item, index) => {
      const r = LiveEventSchema.safeParse(item);
      if (r.success) events.push(r.data);
      else for (const i of r.error.issues) errors.push({ index, field: i.path.join('.') || '(item)', message: i.message });
    });
    if (errors.length) {
      return reply.code(400).send({ error: `${new Set(errors.map((e) => e.index)).size} of ${body.length} events are invalid; none was accepted.`, errors });
    }
    // answered only after the transaction committed: an acknowledged event survives a crash
    const key = `${req.principal!.name}|${q.data.source}`;
    let queue = queues.get(key);
    if (!queue) queues.set(key, (queue = ingestQueue(store, hub, req.principal!.name, q.data.source === REPLAY_SOURCE ? REPLAY_SOURCE : undefined)));
    return queue.submit(events);
  });

  app.get('/api/v1/live/state', async () => liveState(store, now()));

  app.get('/api/v1/live/stream', async (req, reply) => {
    const header = req.headers['last-event-id'];
    const last = Number(Array.isArray(header) ? header[0] : header ?? (req.query as Record<string, string>)?.lastEventId);
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-cache, no-transform',
      Connection: 'keep-alive', 'X-Accel-Buffering': 'no', 'X-Content-Type-Options': 'nosniff',
    });
    res.write('retry: 2000\n\n');
    const send = (seq: number, event: string, data: string) => res.write(`id: ${seq}\nevent: ${event}\ndata: ${data}\n\n`);
    // subscribe first and hold live updates until the catch-up is written, so none falls in between
    let caughtUpTo = -1;
    const held: [number, string][] = [];
    const unsubscribe = hub.subscribe((seq, data) => { if (caughtUpTo < 0) held.push([seq, data]); else if (seq > caughtUpTo) send(seq, 'update', data); });
    if (Number.isFinite(last) && last >= 0) {
      const missed = await hub.since(last);
      for (const m of missed) send(m.seq, 'update', m.payload);
      caughtUpTo = missed.length ? missed[missed.length - 1]!.seq : last;
    } else {
      const seq = await hub.lastSeq();
      send(seq, 'snapshot', JSON.stringify({ type: 'snapshot', ...(await liveState(store, now())) }));
      caughtUpTo = seq;
    }
    for (const [seq, data] of held) if (seq > caughtUpTo) { send(seq, 'update', data); caughtUpTo = seq; }
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), 15000);
    req.raw.on('close', () => { unsubscribe(); clearInterval(heartbeat); });
  });
}
