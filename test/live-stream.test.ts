import { rmSync, symlinkSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { createToken } from '../src/domains/accounts/accounts.ts';
import { defaultConfig } from '../src/domains/fire/config.ts';
import { buildApp } from '../src/interfaces/http/app.ts';
import { Store } from '../src/platform/db.ts';
import { openTemp } from './helpers.ts';
import { openSse } from './sse-client.ts';

/**
 * The live stream around failures and restarts: an update is sent only once its events are
 * committed, its id is never given to another update (not even after a restart), and a client the
 * server cannot catch up gets a snapshot instead of silence.
 */
const iso = (t: number) => new Date(t * 1000).toISOString();

function events(incident: string, unit: string, start = Math.floor(Date.now() / 1000) - 120) {
  return ['dispatched', 'enroute'].map((status, k) => ({
    id: `${incident}-${unit}-${status}`,
    incident,
    unit,
    status,
    at: iso(start + 60 * k),
    received: iso(start - 30),
    type: 'Structure Fire',
    priority: '3',
    unit_type: 'ENGINE',
    station_area: '01',
    home_station: '01',
  }));
}

const mentions = (incident: string) => (e: { data: { incidents?: { id: string }[] } }) =>
  e.data.incidents?.some((i) => i.id === incident) ?? false;

interface Server {
  store: Store;
  app: FastifyInstance;
  base: string;
  ingest: Record<string, string>;
  viewer: Record<string, string>;
}

/** A real server on the database file at `path` (tokens made once, on the first start). */
async function start(
  path: string,
  tokens?: { ingest: string; viewer: string },
): Promise<Server & { tokens: { ingest: string; viewer: string } }> {
  const store = await Store.open(path);
  const t = tokens ?? {
    ingest: await createToken(store, 'cad', 'ingest'),
    viewer: await createToken(store, 'board', 'viewer'),
  };
  const app = await buildApp({ store, config: defaultConfig() });
  const base = await app.listen({ port: 0, host: '127.0.0.1' });
  return {
    store,
    app,
    base,
    tokens: t,
    ingest: { authorization: `Bearer ${t.ingest}`, 'content-type': 'application/json' },
    viewer: { authorization: `Bearer ${t.viewer}` },
  };
}

const post = (s: Server, body: unknown) =>
  fetch(`${s.base}/api/v1/cad/events`, {
    method: 'POST',
    headers: s.ingest,
    body: JSON.stringify(body),
  });

const open: { close(): void }[] = [];
afterEach(() => {
  for (const c of open.splice(0)) c.close();
});
/** Closes the streams first: the server waits for open connections. */
async function stop(s: Server) {
  for (const c of open.splice(0)) c.close();
  await s.app.close();
  s.store.close();
}
async function stream(s: Server, lastEventId?: number) {
  const c = await openSse(
    `${s.base}/api/v1/live/stream`,
    lastEventId === undefined ? s.viewer : { ...s.viewer, 'last-event-id': String(lastEventId) },
  );
  open.push(c);
  return c;
}

describe(
  'live stream: commit first, ids never reused, resync when lost',
  { timeout: 30000 },
  () => {
    it('a post whose commit fails (disk full) is neither broadcast nor logged, and ids keep increasing after a restart', async () => {
      const { path, store: first } = await openTemp();
      first.close();
      let s = await start(path);
      const tokens = s.tokens;
      const c = await stream(s);
      await c.next((e) => e.event === 'snapshot');
      expect((await post(s, events('F1', 'E1'))).status).toBe(200);
      const committed = await c.next(mentions('F1'));

      // a real full disk: the write-ahead log, fresh after a checkpoint, is /dev/full
      await s.store.run('CHECKPOINT');
      rmSync(`${path}.wal`, { force: true });
      symlinkSync('/dev/full', `${path}.wal`);
      const failed = await post(s, events('F2', 'E2'));
      expect(failed.status).toBeGreaterThanOrEqual(500);
      await new Promise((r) => setTimeout(r, 500));
      expect(c.events.some(mentions('F2'))).toBe(false);
      const state = await (
        await fetch(`${s.base}/api/v1/live/state`, { headers: s.viewer })
      ).json();
      expect(state.incidents.map((i: { id: string }) => i.id)).toEqual(['F1']);
      const lastSeen = Math.max(...c.events.map((e) => e.id));
      for (const o of open.splice(0)) o.close();
      await s.app.close();
      try {
        s.store.close();
      } catch {
        /* the database failed its write; the restart below reopens the file */
      }
      rmSync(`${path}.wal`);

      s = await start(path, tokens);
      const logged = await s.store.all<{ seq: number; payload: string }>(
        'SELECT seq, payload FROM live_events ORDER BY seq',
      );
      expect(logged.map((r) => r.seq)).toEqual([committed.id]);
      expect(logged.some((r) => r.payload.includes('"F2"'))).toBe(false);
      expect(
        (await s.store.one<{ n: number }>(
          "SELECT count(*) AS n FROM unit_status_events WHERE incident_id = 'F2'",
        ))!.n,
      ).toBe(0);

      const resumed = await stream(s, lastSeen);
      expect((await post(s, events('F3', 'E3'))).status).toBe(200);
      const after = await resumed.next(mentions('F3'));
      expect(after.id).toBeGreaterThan(lastSeen);
      expect(resumed.events.some((e) => e.event === 'snapshot')).toBe(false);
      await stop(s);
    });

    it('a client whose Last-Event-ID is ahead of the server gets a snapshot, then the updates', async () => {
      const { path, store } = await openTemp();
      store.close();
      const s = await start(path);
      expect((await post(s, events('A1', 'E1'))).status).toBe(200);
      const last = (await s.store.one<{ s: number }>('SELECT max(seq) AS s FROM live_events'))!.s;
      const ahead = await stream(s, last + 1000);
      const snap = await ahead.next(() => true);
      expect(snap.event).toBe('snapshot');
      expect(snap.id).toBe(last);
      expect(snap.data.incidents.map((i: { id: string }) => i.id)).toEqual(['A1']);
      expect((await post(s, events('A2', 'E2'))).status).toBe(200);
      expect((await ahead.next(mentions('A2'))).id).toBe(last + 1);
      await stop(s);
    });

    it('the log is pruned past its retention, keeping the newest; a client behind the pruned part gets a snapshot', async () => {
      const { path, store } = await openTemp();
      // three updates from 30, 20 and 10 days ago, then the server starts with the default retention (7 days)
      for (const [seq, days] of [
        [1, 30],
        [2, 20],
        [3, 10],
      ]) {
        await store.run(
          `INSERT INTO live_events VALUES ($1, now() - to_days($2::INTEGER), '{"type":"update","incidents":[]}')`,
          [seq, days],
        );
      }
      store.close();
      const s = await start(path);
      expect((await post(s, events('P1', 'E1'))).status).toBe(200);
      expect(
        (await s.store.all<{ seq: number }>('SELECT seq FROM live_events ORDER BY seq')).map(
          (r) => r.seq,
        ),
      ).toEqual([4]);
      const behind = await stream(s, 1);
      expect((await behind.next(() => true)).event).toBe('snapshot');
      const current = await stream(s, 3);
      const next = await current.next(() => true);
      expect([next.event, next.id]).toEqual(['update', 4]);
      await stop(s);
    });

    it('numbering goes on from the log after a restart, even from an update past its retention', async () => {
      const { path, store } = await openTemp();
      await store.run(
        `INSERT INTO live_events VALUES (7, now() - to_days(40), '{"type":"update","incidents":[]}')`,
      );
      store.close();
      const s = await start(path);
      const c = await stream(s, 7); // caught up: nothing to send yet
      expect((await post(s, events('N1', 'E1'))).status).toBe(200);
      expect((await c.next(mentions('N1'))).id).toBe(8);
      expect(
        (await s.store.all<{ seq: number }>('SELECT seq FROM live_events ORDER BY seq')).map(
          (r) => r.seq,
        ),
      ).toEqual([8]);
      await stop(s);
    });
  },
);
