import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { Batcher } from '../core/batcher.ts';
import { importFireRecords, type ImportSummary } from '../fire/import.ts';
import { parseLiveItem, REPLAY_SOURCE, type LiveEvent, type LiveState } from '../fire/live.ts';
import { LiveModel } from '../fire/live-model.ts';
import type { Store } from '../store/db.ts';
import { FEEDERS, READERS } from './auth.ts';

type Listener = (seq: number, data: string) => void;

/** Recent updates kept in memory for clients that reconnect (older ones come from live_events). */
const RING = 5000;

/**
 * Numbers live updates (the SSE id) and fans them out at once. Each update is also written to
 * live_events by the ingest transaction, so a client reconnecting with Last-Event-ID after a restart
 * still gets what it missed.
 */
export class LiveHub {
  private listeners = new Set<Listener>();
  private ring: { seq: number; payload: string }[] = [];
  private pending: { seq: number; payload: string }[] = [];
  private constructor(private readonly store: Store, private seq: number) {}

  static async open(store: Store): Promise<LiveHub> {
    const last = (await store.one<{ s: number }>('SELECT coalesce(max(seq), 0) AS s FROM live_events'))!.s;
    return new LiveHub(store, last);
  }

  publish(payload: unknown): number {
    const entry = { seq: ++this.seq, payload: JSON.stringify(payload) };
    this.ring.push(entry);
    if (this.ring.length > RING) this.ring.splice(0, this.ring.length - RING);
    this.pending.push(entry);
    for (const l of this.listeners) l(entry.seq, entry.payload);
    return entry.seq;
  }

  /** Writes the updates published since the last call to the log. */
  async persist(): Promise<void> {
    const rows = this.pending.splice(0);
    if (!rows.length) return;
    await this.store.run(`INSERT INTO live_events (seq, sent_at, payload) VALUES ${rows.map((_, k) => `($${2 * k + 1}, now(), $${2 * k + 2})`).join(', ')}`,
      rows.flatMap((r) => [r.seq, r.payload]));
  }

  subscribe(l: Listener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  async since(seq: number): Promise<{ seq: number; payload: string }[]> {
    if (this.ring.length && this.ring[0]!.seq <= seq + 1) return this.ring.filter((e) => e.seq > seq);
    const stored = await this.store.all<{ seq: number; payload: string }>('SELECT seq, payload FROM live_events WHERE seq > $1 ORDER BY seq', [seq]);
    const after = stored.length ? stored[stored.length - 1]!.seq : seq;
    return [...stored, ...this.ring.filter((e) => e.seq > after)];
  }

  get lastSeq(): number {
    return this.seq;
  }
}

const now = () => Date.now() / 1000;

/**
 * Live operations: events update the in-memory picture and reach the stream at once; posts are
 * answered after their events (and the log) are committed, in group commits.
 */
export class LiveService {
  private queues = new Map<string, Batcher<LiveEvent, ImportSummary>>();
  private constructor(readonly store: Store, readonly hub: LiveHub, readonly model: LiveModel) {}

  static async open(store: Store, timeZone: string): Promise<LiveService> {
    return new LiveService(store, await LiveHub.open(store), await LiveModel.load(store, now(), timeZone));
  }

  snapshot(): LiveState {
    return this.model.snapshot(now());
  }

  async ingest(events: LiveEvent[], by: string, source?: string) {
    const t = now();
    const seq = this.hub.publish({ type: 'update', ...this.model.update(this.model.apply(events, t), t) });
    const key = `${by}|${source ?? ''}`;
    let queue = this.queues.get(key);
    if (!queue) {
      this.queues.set(key, (queue = new Batcher(async (items: LiveEvent[]) => {
        const summary = await importFireRecords(this.store, items as unknown as Record<string, unknown>[], `api:${by}`, { profile: 'cad-status-events', source });
        await this.hub.persist();
        return () => summary;
      })));
    }
    // answered only after the transaction committed: an acknowledged event survives a crash
    const s = await queue.submit(events);
    return { received: events.length, inserted: s.inserted, updated: s.updated, unchanged: s.unchanged, batch: s.batchId, groupedWith: s.rowsRead, liveSeq: seq };
  }
}

const IngestQuery = z.strictObject({ source: z.enum(['cad', REPLAY_SOURCE]).default('cad') });

export function registerLive(app: FastifyInstance, live: LiveService): void {
  app.post('/api/v1/cad/events', {
    bodyLimit: 1024 * 1024,
    config: { access: FEEDERS, tag: 'live', summary: 'Post unit-status events from CAD (JSON array, 1 to 5,000); answered after commit', rateLimit: { max: 6000, timeWindow: '1 minute', keyGenerator: (req) => req.principal?.name ?? req.ip } },
  }, async (req, reply) => {
    const q = IngestQuery.safeParse(req.query ?? {});
    if (!q.success) return reply.code(400).send({ error: 'source must be cad or replay' });
    const body = req.body;
    if (!Array.isArray(body) || body.length === 0 || body.length > 5000) {
      return reply.code(400).send({ error: 'Send a JSON array of 1 to 5,000 unit-status events {id, incident, unit, status, at} or wide unit responses {incident, unit, dispatched, enroute, on_scene, …}.' });
    }
    const errors: { index: number; field: string; message: string }[] = [];
    const events: LiveEvent[] = [];
    body.forEach((item, index) => {
      const r = parseLiveItem(item);
      if (r.ok) events.push(...r.events);
      else for (const i of r.issues) errors.push({ index, field: i.path.join('.') || '(item)', message: i.message });
    });
    if (errors.length) {
      return reply.code(400).send({ error: `${new Set(errors.map((e) => e.index)).size} of ${body.length} events are invalid; none was accepted.`, errors });
    }
    return live.ingest(events, req.principal!.name, q.data.source === REPLAY_SOURCE ? REPLAY_SOURCE : undefined);
  });

  app.get('/api/v1/live/state', { config: { access: READERS, tag: 'live', summary: 'The live picture: active incidents, units, stations, alerts' } }, async () => live.snapshot());

  // a HEAD of an endless stream would never complete its head: GET only
  app.get('/api/v1/live/stream', { exposeHeadRoute: false, config: { access: READERS, tag: 'live', summary: 'Server-Sent Events: a snapshot, then updates (resume with Last-Event-ID)' } }, async (req, reply) => {
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
    const unsubscribe = live.hub.subscribe((seq, data) => { if (caughtUpTo < 0) held.push([seq, data]); else if (seq > caughtUpTo) send(seq, 'update', data); });
    if (Number.isFinite(last) && last >= 0) {
      const missed = await live.hub.since(last);
      for (const m of missed) send(m.seq, 'update', m.payload);
      caughtUpTo = missed.length ? missed[missed.length - 1]!.seq : last;
    } else {
      const seq = live.hub.lastSeq;
      send(seq, 'snapshot', JSON.stringify({ type: 'snapshot', ...live.snapshot() }));
      caughtUpTo = seq;
    }
    for (const [seq, data] of held) if (seq > caughtUpTo) { send(seq, 'update', data); caughtUpTo = seq; }
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), 15000);
    req.raw.on('close', () => { unsubscribe(); clearInterval(heartbeat); });
  });
}
