import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createToken } from '../src/domains/accounts/accounts.ts';
import { importFireFile } from '../src/domains/fire/import.ts';
import { Store } from '../src/platform/db.ts';
import { openTemp, ROOT, SF_2020 } from './helpers.ts';

/**
 * Issue 16, item 5: `cityops serve` stops on SIGTERM/SIGINT within 5 s, its streams ended, the
 * transaction running either committed or rolled back, the database checkpointed and closed.
 */

interface Server {
  child: ChildProcess;
  base: string;
  /** what it printed, for failure messages */
  log: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
}

async function serve(db: string, env: Record<string, string> = {}): Promise<Server> {
  const child = spawn(
    process.execPath,
    [join(ROOT, 'bin/cityops.mjs'), 'serve', '--db', db, '--port', '0'],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } },
  );
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>(
    (resolve) => child.on('exit', (code, signal) => resolve({ code, signal, at: Date.now() })),
  );
  let out = '';
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const base = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /serving .* at (http:\/\/[\d.:]+)\//.exec(out);
      if (m) resolve(m[1]!);
    });
    void exited.then(({ code }) => reject(new Error(`server exited ${code} before serving`)));
  });
  return { child, base, exited, log: () => out };
}

const count = async (store: Store, table: string) =>
  (await store.one<{ n: number }>(`SELECT count(*)::INTEGER AS n FROM ${table}`))!.n;

const iso = (t: number) => new Date(t * 1000).toISOString();

/** `n` incidents of one unit each, three status events apiece, all different from other posts'. */
function events(prefix: string, n: number, start: number) {
  const out = [];
  for (let i = 0; i < n; i++)
    for (const [k, status] of ['dispatched', 'enroute', 'on_scene'].entries())
      out.push({
        id: `${prefix}-${i}-${status}`,
        incident: `${prefix}-${i}`,
        unit: `E${i % 50}`,
        status,
        at: iso(start + 60 * k),
        received: iso(start - 30),
        type: 'Structure Fire',
        priority: '3',
        unit_type: 'ENGINE',
        lat: 37.78,
        lon: -122.41,
        station_area: '01',
      });
  return out;
}

describe('graceful shutdown of cityops serve', () => {
  it('SIGTERM with a live stream open: exit 0 within 5 s, the stream ended, the data all there', async () => {
    const { store, path } = await openTemp();
    await importFireFile(store, SF_2020);
    const token = await createToken(store, 'board', 'analyst');
    const before = {
      incidents: await count(store, 'incidents'),
      unit_responses: await count(store, 'unit_responses'),
      source_rows: await count(store, 'source_rows'),
    };
    store.close();
    const server = await serve(path);
    const res = await fetch(`${server.base}/api/v1/live/stream`, {
      headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' },
    });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    let text = '';
    const ended = (async () => {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return Date.now();
        text += new TextDecoder().decode(value);
      }
    })();
    while (!text.includes('event: snapshot')) await new Promise((r) => setTimeout(r, 50));
    const sent = Date.now();
    server.child.kill('SIGTERM');
    const exit = await server.exited;
    expect(exit, server.log()).toMatchObject({ code: 0, signal: null });
    expect(exit.at - sent).toBeLessThan(5000);
    expect((await ended) - sent).toBeLessThan(5000);
    // checkpointed: nothing left in the write-ahead log
    expect(existsSync(`${path}.wal`)).toBe(false);
    const after = await Store.open(path);
    expect({
      incidents: await count(after, 'incidents'),
      unit_responses: await count(after, 'unit_responses'),
      source_rows: await count(after, 'source_rows'),
    }).toEqual(before);
    after.close();
  }, 60_000);

  it('SIGTERM during large live imports: rolled back, each post answered 503, exit 0 within 5 s', async () => {
    const { store, path } = await openTemp();
    const token = await createToken(store, 'cad', 'ingest');
    const reader = await createToken(store, 'board', 'analyst');
    store.close();
    // the import's transaction stays open 20 s before its commit: past the shutdown's grace
    const server = await serve(path, { CITYOPS_TEST_HOLD_BEFORE_COMMIT_MS: '20000' });
    // the board is open while the feed posts
    const board = await fetch(`${server.base}/api/v1/live/stream`, {
      headers: { authorization: `Bearer ${reader}`, accept: 'text/event-stream' },
    });
    expect(board.status).toBe(200);
    const start = Math.floor(Date.now() / 1000) - 600;
    // 4 posts of 3,600 events each (under the 1 MB body limit): the first flush takes one, the
    // batcher folds the others waiting into the next
    const posts = Array.from({ length: 4 }, (_, p) => {
      const body = events(`P${p}`, 1200, start);
      return fetch(`${server.base}/api/v1/cad/events`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      }).then(
        async (r) => ({ prefix: `P${p}`, status: r.status, body: await r.text() }),
        () => ({ prefix: `P${p}`, status: 0, body: '' }),
      );
    });
    await new Promise((r) => setTimeout(r, 1500));
    const sent = Date.now();
    server.child.kill('SIGTERM');
    const exit = await server.exited;
    expect(exit, server.log()).toMatchObject({ code: 0, signal: null });
    expect(exit.at - sent).toBeLessThan(5000);
    const answers = await Promise.all(posts);
    for (const a of answers) {
      expect(a.status, a.prefix).toBe(503);
      expect(JSON.parse(a.body).error).toMatch(/shutting down: send this again/);
    }
    const after = await Store.open(path);
    // nothing of any post: no event, no incident, no batch
    expect(await count(after, 'unit_status_events')).toBe(0);
    expect(await count(after, 'incidents')).toBe(0);
    expect(await count(after, 'import_batches')).toBe(0);
    after.close();
  }, 60_000);
});
