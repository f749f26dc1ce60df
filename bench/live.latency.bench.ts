import { readdirSync, readFileSync, rmSync } from 'node:fs';
/**
 * live.latency: 100 SSE clients on loopback, 200 CAD events a second for 30 s (20 posts a second of
 * 10 events), time from POST to delivery at every client: p50 and p99.
 * CityOps' path: authenticated POST → validation → import transaction (durable) → live state →
 * event log → fan-out. Baseline, same run: a bare Node `http` server that fans the same posts out
 * to the same number of SSE clients with no work at all.
 * Also prints the web app's first load for the live board: gzipped bytes of the JS it needs.
 */
import { createServer, type ServerResponse } from 'node:http';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { AddressInfo } from 'node:net';
import { createToken } from '../src/domains/accounts/accounts.ts';
import { defaultConfig } from '../src/domains/fire/config.ts';
import { buildApp, ensureWebBuilt } from '../src/interfaces/http/app.ts';
import { Store } from '../src/platform/db.ts';
import { openSse } from '../test/sse-client.ts';
import { benchPath, log, report } from './lib.ts';

const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 100);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 30);
const PER_POST = 10,
  POSTS_PER_SECOND = 20;

const quantile = (v: number[], q: number) => {
  const s = [...v].sort((a, b) => a - b);
  return s[Math.max(0, Math.ceil(q * s.length) - 1)] ?? NaN;
};

/** Posts batches on a fixed schedule; each batch is one new incident whose id carries its number. */
async function drive(
  url: string,
  headers: Record<string, string>,
  incidentsOf: (data: unknown) => string[],
  clients: Awaited<ReturnType<typeof openSse>>[],
) {
  const sentAt = new Map<string, number>();
  const total = SECONDS * POSTS_PER_SECOND;
  const t0 = performance.now();
  const inflight: Promise<unknown>[] = [];
  for (let k = 0; k < total; k++) {
    const due = t0 + (k * 1000) / POSTS_PER_SECOND;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const incident = `LAT-${k}`;
    const now = Date.now();
    const events = Array.from({ length: PER_POST }, (_, j) => ({
      id: `${incident}-${j}`,
      incident,
      unit: `U${j}`,
      status: j % 2 ? 'enroute' : 'dispatched',
      at: new Date(now - 1000).toISOString(),
      received: new Date(now - 5000).toISOString(),
      type: 'Medical Incident',
      priority: '3',
      unit_type: 'MEDIC',
    }));
    sentAt.set(incident, performance.now());
    inflight.push(
      fetch(url, {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json' },
        body: JSON.stringify(events),
      }).then((r) => r.text()),
    );
  }
  await Promise.all(inflight);
  await new Promise((r) => setTimeout(r, 2000));
  const latencies: number[] = [];
  let missing = 0;
  for (const c of clients) {
    const seen = new Set<string>();
    for (const e of c.events)
      for (const id of incidentsOf(e.data)) {
        const s = sentAt.get(id);
        if (s !== undefined && !seen.has(id)) {
          seen.add(id);
          latencies.push(e.receivedAt - s);
        }
      }
    missing += total - seen.size;
  }
  return { latencies, missing, deliveries: latencies.length };
}

async function cityops() {
  const path = benchPath(`live-${Date.now()}.duckdb`);
  const store = await Store.open(path);
  const token = await createToken(store, 'bench', 'admin');
  const app = await buildApp({ store, config: defaultConfig() });
  const base = await app.listen({ port: 0, host: '127.0.0.1' });
  const headers = { authorization: `Bearer ${token}` };
  const clients = await Promise.all(
    Array.from({ length: CLIENTS }, () => openSse(`${base}/api/v1/live/stream`, headers)),
  );
  const r = await drive(
    `${base}/api/v1/cad/events`,
    headers,
    (d) => ((d as { incidents?: { id: string }[] }).incidents ?? []).map((i) => i.id),
    clients,
  );
  clients.forEach((c) => c.close());
  await app.close();
  store.close();
  for (const f of [path, `${path}.wal`]) rmSync(f, { force: true }); // a fresh database each run
  return r;
}

async function bare() {
  const streams = new Set<ServerResponse>();
  let seq = 0;
  const server = createServer((req, res) => {
    if (req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      res.write('retry: 2000\n\n');
      streams.add(res);
      req.on('close', () => streams.delete(res));
      return;
    }
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      const msg = `id: ${++seq}\nevent: update\ndata: ${body}\n\n`;
      for (const s of streams) s.write(msg);
      res.end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const clients = await Promise.all(
    Array.from({ length: CLIENTS }, () => openSse(`${base}/stream`)),
  );
  const r = await drive(
    `${base}/post`,
    {},
    (d) => [...new Set((d as { incident: string }[]).map((e) => e.incident))],
    clients,
  );
  clients.forEach((c) => c.close());
  server.close();
  return r;
}

await ensureWebBuilt();
log(`${CLIENTS} clients, ${PER_POST * POSTS_PER_SECOND} events/s for ${SECONDS} s: baseline first`);
const b = await bare();
const c = await cityops();
// The JS the live board loads: the entry bundle and MapLibre's worker (the dashboard's charts load later, on demand).
const assets = resolve(import.meta.dirname, '../dist/web/assets');
const html = readFileSync(resolve(assets, '../index.html'), 'utf8');
const entry = [...html.matchAll(/assets\/([^"]+\.js)/g)].map((m) => m[1]!);
const boardJs = [
  ...entry,
  ...readdirSync(assets).filter((f) => f.startsWith('maplibre-gl-worker')),
];
const gz = boardJs.reduce(
  (a, f) => a + gzipSync(readFileSync(join(assets, f)), { level: 9 }).length,
  0,
);
report({
  name: 'live.latency',
  rows: c.deliveries,
  ms: quantile(c.latencies, 0.99),
  baselineMs: quantile(b.latencies, 0.99),
  p50Ms: Math.round(quantile(c.latencies, 0.5) * 10) / 10,
  p99Ms: Math.round(quantile(c.latencies, 0.99) * 10) / 10,
  baselineP50Ms: Math.round(quantile(b.latencies, 0.5) * 10) / 10,
  missedDeliveries: c.missing,
  baselineMissed: b.missing,
  clients: CLIENTS,
  eventsPerSecond: PER_POST * POSTS_PER_SECOND,
  seconds: SECONDS,
  boardJsGzipKb: Math.round(gz / 1024),
  boardJsFiles: boardJs,
});
process.exit(0);
