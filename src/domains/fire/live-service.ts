import { z } from 'zod';
import { Batcher } from '../../platform/batcher.ts';
import { UserError } from '../../platform/errors.ts';
import { importFireRecords, type ImportSummary } from './import.ts';
import type { LiveEvent, LiveState } from './live.ts';
import { LiveModel } from './live-model.ts';
import type { Store } from '../../platform/db.ts';

type Listener = (seq: number, data: string) => void;
interface Update {
  seq: number;
  payload: string;
}

/** Recent updates kept in memory for clients that reconnect (older ones come from live_events). */
const RING = 5000;

/** How long the live log keeps updates for reconnecting clients (CITYOPS_LIVE_RETENTION_DAYS, default 7). */
export function liveRetentionSeconds(env = process.env.CITYOPS_LIVE_RETENTION_DAYS): number {
  const days = z.coerce
    .number()
    .positive()
    .max(3650)
    .safeParse(env ?? 7);
  if (!days.success)
    throw new UserError(
      `CITYOPS_LIVE_RETENTION_DAYS must be a number of days (more than 0, at most 3650), not "${env}".`,
    );
  return days.data * 86400;
}

/** The log is pruned at most this often (seconds): a prune is a scan, not worth doing every commit. */
const PRUNE_EVERY = 60;

/**
 * Numbers live updates (the SSE id) and fans them out. An update is written to live_events inside
 * the transaction that stores its events and is sent only once that transaction committed, so a
 * failed post sends nothing, and the last id is always in the database: after a restart numbering
 * goes on from it and no id is given to two updates. (The newest update is never pruned, for that.)
 */
export class LiveHub {
  private listeners = new Set<Listener>();
  private ring: Update[] = [];
  private lastPruned = 0;
  private constructor(
    private readonly store: Store,
    private seq: number,
    private readonly retention: number,
    /** when the last update was sent (UTC seconds), null before the first */
    private sentAt: number | null,
  ) {}

  static async open(store: Store, retention = liveRetentionSeconds()): Promise<LiveHub> {
    const last = (await store.one<{ s: number; at: number | null }>(
      'SELECT coalesce(max(seq), 0) AS s, epoch(max(sent_at)) AS at FROM live_events',
    ))!;
    return new LiveHub(store, last.s, retention, last.at);
  }

  /**
   * In the ingest transaction: logs an update under the next id (and prunes what has outlived the
   * retention). Hand the result to broadcast() once the transaction committed.
   */
  async log(payload: unknown): Promise<Update> {
    const update = { seq: this.seq + 1, payload: JSON.stringify(payload) };
    await this.store.run('INSERT INTO live_events (seq, sent_at, payload) VALUES ($1, now(), $2)', [
      update.seq,
      update.payload,
    ]);
    const t = Date.now() / 1000;
    if (t - this.lastPruned >= PRUNE_EVERY) {
      await this.store.run(
        'DELETE FROM live_events WHERE sent_at < now() - to_seconds($1::DOUBLE) AND seq < $2',
        [this.retention, update.seq],
      );
      this.lastPruned = t;
    }
    return update;
  }

  /** Sends a committed update. Called in the ingest's session, so updates go out in id order. */
  broadcast(update: Update): void {
    this.seq = update.seq;
    this.sentAt = now();
    this.ring.push(update);
    if (this.ring.length > RING) this.ring.splice(0, this.ring.length - RING);
    for (const l of this.listeners) l(update.seq, update.payload);
  }

  subscribe(l: Listener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  /**
   * The updates after `seq`, or null when they cannot be given: the client is ahead of this server
   * (its id is from another database, or from before a restore) or some were pruned. Then it needs
   * a snapshot.
   */
  async since(seq: number): Promise<Update[] | null> {
    if (seq > this.seq) return null;
    if (this.ring.length && this.ring[0]!.seq <= seq + 1)
      return this.ring.filter((e) => e.seq > seq);
    const stored = await this.store.all<Update>(
      'SELECT seq, payload FROM live_events WHERE seq > $1 ORDER BY seq',
      [seq],
    );
    if (seq < this.seq && stored[0]?.seq !== seq + 1) return null;
    const after = stored.length ? stored[stored.length - 1]!.seq : seq;
    return [...stored, ...this.ring.filter((e) => e.seq > after)];
  }

  get lastSeq(): number {
    return this.seq;
  }

  /** When the last live update was sent (UTC seconds), null when none is on record. */
  get lastSentAt(): number | null {
    return this.sentAt;
  }
}

const now = () => Date.now() / 1000;

/** Under load, a group commit waits at most this long for the posters it just answered to post again (see Batcher); a flush takes 50-100 ms. */
const GROUP_LINGER_MS = 25;

/**
 * Live operations. Posts are stored in group commits (one import transaction for every post that
 * arrived while the previous one ran); the in-memory picture takes their events inside that
 * transaction, and the stream gets one update for the group once it committed. A post is answered
 * after the commit: an acknowledged event survives a crash. If the commit fails, nothing is sent
 * and the picture is reloaded from the database, which the rollback left as it was.
 */
export class LiveService {
  private queues = new Map<string, Batcher<LiveEvent, ImportSummary & { liveSeq: number }>>();
  /** null after a failed commit: reloaded from the database before it is next used */
  private model: LiveModel | null;
  private constructor(
    readonly store: Store,
    readonly hub: LiveHub,
    model: LiveModel,
    private readonly timeZone: string,
  ) {
    this.model = model;
  }

  static async open(
    store: Store,
    timeZone: string,
    retentionSeconds?: number,
  ): Promise<LiveService> {
    return new LiveService(
      store,
      await LiveHub.open(store, retentionSeconds),
      await LiveModel.load(store, now(), timeZone),
      timeZone,
    );
  }

  /** The picture, inside the session that holds the connection (an ingest cannot be half-applied to it). */
  private async current(): Promise<LiveModel> {
    return (this.model ??= await LiveModel.load(this.store, now(), this.timeZone));
  }

  /** The whole picture and the id of the last update it includes, read together. */
  async snapshot(): Promise<{ seq: number; state: LiveState }> {
    return this.store.session(async () => ({
      seq: this.hub.lastSeq,
      state: (await this.current()).snapshot(now()),
    }));
  }

  private async flush(items: LiveEvent[], by: string, source: string | undefined) {
    return this.store.session(async () => {
      const model = await this.current();
      let update!: Awaited<ReturnType<LiveHub['log']>>;
      const summary = await importFireRecords(
        this.store,
        items as unknown as Record<string, unknown>[],
        `api:${by}`,
        {
          profile: 'cad-status-events',
          source,
          beforeCommit: async () => {
            const t = now();
            this.model = null; // holds uncommitted events until the commit succeeds
            update = await this.hub.log({
              type: 'update',
              ...model.update(model.apply(items, t), t),
            });
          },
        },
      );
      this.model = model;
      this.hub.broadcast(update);
      return { ...summary, liveSeq: update.seq };
    });
  }

  /** Events posted and waiting for the next group commit. */
  get queuedEvents(): number {
    let n = 0;
    for (const q of this.queues.values()) n += q.waitingItems;
    return n;
  }

  async ingest(events: LiveEvent[], by: string, source?: string) {
    const key = `${by}|${source ?? ''}`;
    let queue = this.queues.get(key);
    if (!queue)
      this.queues.set(
        key,
        (queue = new Batcher(async (items: LiveEvent[]) => {
          const s = await this.flush(items, by, source);
          return () => s;
        }, GROUP_LINGER_MS)),
      );
    // answered only after the transaction committed: an acknowledged event survives a crash
    const s = await queue.submit(events);
    return {
      received: events.length,
      inserted: s.inserted,
      updated: s.updated,
      unchanged: s.unchanged,
      batch: s.batchId,
      groupedWith: s.rowsRead,
      liveSeq: s.liveSeq,
    };
  }
}
