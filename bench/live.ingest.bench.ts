import { rmSync } from 'node:fs';
/**
 * live.ingest: 8 CAD posters on loopback, each posting 10 status events (one new incident) and
 * waiting for the answer before the next, for 20 s: posts a second, and p50/p99 time per post.
 * CityOps' path: authenticated POST → validation → import transaction with the live log (durable,
 * group commit) → fan-out. Baseline, same run: a bare Node `http` server that writes each post's
 * body to a DuckDB table in a transaction of its own (the cheapest durable ingest, no grouping).
 * `ms` is the wall time per post (1000 / posts a second).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DuckDBInstance } from '@duckdb/node-api';
import { createToken } from '../src/domains/accounts/accounts.ts';
import { defaultConfig } from '../src/domains/fire/config.ts';
import { buildApp } from '../src/interfaces/http/app.ts';
import { Store } from '../src/platform/db.ts';
import { benchPath, log, report } from './lib.ts';

const POSTERS = Number(process.env.BENCH_POSTERS ?? 8);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
const PER_POST = 10;

const quantile = (v: number[], q: number) => {
  const s = [...v].sort((a, b) => a - b);
  return s[Math.max(0, Math.ceil(q * s.length) - 1)] ?? NaN;
};

/** Every poster posts, waits, posts again until the time is up. */
async function drive(url: string, headers: Record<string, string>) {
  const latencies: number[] = [];
  let failed = 0;
  const t0 = performance.now();
  const end = t0 + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: POSTERS }, async (_, p) => {
      for (let k = 0; performance.now() < end; k++) {
        const incident = `ING-${p}-${k}`;
        const now = Date.now();
        const events = Array.from({ length: PER_POST }, (_, j) => ({
          id: `${incident}-${j}`,
          incident,
          unit: `U${p}-${j}`,
          status: j % 2 ? 'enroute' : 'dispatched',
          at: new Date(now - 1000).toISOString(),
          received: new Date(now - 5000).toISOString(),
          type: 'Medical Incident',
          priority: '3',
          unit_type: 'MEDIC',
          home_station: String(p + 1),
        }));
        const s = performance.now();
        const r = await fetch(url, {
          method: 'POST',
          headers: { ...headers, 'content-type': 'application/json' },
          body: JSON.stringify(events),
        });
        await r.text();
        if (r.ok) latencies.push(performance.now() - s);
        else failed++;
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  return { posts: latencies.length, failed, postsPerSecond: latencies.length / seconds, latencies };
}

async function cityops() {
  const path = benchPath(`ingest-${Date.now()}.duckdb`);
  const store = await Store.open(path);
  const token = await createToken(store, 'bench', 'ingest');
  const app = await buildApp({ store, config: defaultConfig() });
  const base = await app.listen({ port: 0, host: '127.0.0.1' });
  const r = await drive(`${base}/api/v1/cad/events`, { authorization: `Bearer ${token}` });
  const logBytes = (await store.one<{ n: number; bytes: number }>(
    'SELECT count(*) AS n, coalesce(sum(strlen(payload)), 0) AS bytes FROM live_events',
  ))!;
  await app.close();
  store.close();
  for (const f of [path, `${path}.wal`]) rmSync(f, { force: true }); // a fresh database each run
  return {
    ...r,
    logRows: logBytes.n,
    logBytesPerPost: Math.round(logBytes.bytes / Math.max(1, r.posts)),
  };
}

async function bare() {
  const path = benchPath(`ingest-bare-${Date.now()}.duckdb`);
  const db = await DuckDBInstance.create(path);
  const conn = await db.connect();
  await conn.run('CREATE TABLE posts (body VARCHAR)');
  let lock = Promise.resolve();
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      // one connection, statements in turn, each post its own transaction
      lock = lock
        .then(() => conn.run('INSERT INTO posts VALUES ($1)', [body]))
        .then(
          () => {
            res.end('{}');
          },
          () => {
            res.statusCode = 500;
            res.end();
          },
        );
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const r = await drive(`http://127.0.0.1:${(server.address() as AddressInfo).port}/post`, {});
  server.close();
  conn.closeSync();
  db.closeSync();
  for (const f of [path, `${path}.wal`]) rmSync(f, { force: true });
  return r;
}

log(`${POSTERS} posters, ${PER_POST} events a post, ${SECONDS} s: baseline first`);
const b = await bare();
const c = await cityops();
const round = (x: number) => Math.round(x * 10) / 10;
report({
  name: 'live.ingest',
  rows: c.posts * PER_POST,
  ms: 1000 / c.postsPerSecond,
  baselineMs: 1000 / b.postsPerSecond,
  postsPerSecond: round(c.postsPerSecond),
  baselinePostsPerSecond: round(b.postsPerSecond),
  p50Ms: round(quantile(c.latencies, 0.5)),
  p99Ms: round(quantile(c.latencies, 0.99)),
  baselineP50Ms: round(quantile(b.latencies, 0.5)),
  failedPosts: c.failed,
  logRows: c.logRows,
  logBytesPerPost: c.logBytesPerPost,
  posters: POSTERS,
  seconds: SECONDS,
});
process.exit(0);
