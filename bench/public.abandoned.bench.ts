/**
 * public.abandoned: 20 anonymous requests for distinct public answers (no two share a cache entry),
 * each abandoned by its client after BENCH_ABANDON_MS, then one staff metrics request: its time
 * (ms) against the same staff request on an idle server (baselineMs). Also prints the first
 * /public page (coldMs), the same page again (warmMs, from the cache) and how many public answers
 * were computed (computed: at most the gate's slots plus the queue, the rest refused with 503).
 * Data: the real SF file (BENCH_FILE for another, e.g. a 1 M-row export).
 */
import type { AddressInfo } from 'node:net';
import { createToken } from '../src/domains/accounts/accounts.ts';
import { defaultConfig } from '../src/domains/fire/config.ts';
import { importFireFile } from '../src/domains/fire/import.ts';
import { buildApp } from '../src/interfaces/http/app.ts';
import { Store } from '../src/platform/db.ts';
import { SF_2020 } from '../test/helpers.ts';
import { benchPath, log, report, time } from './lib.ts';

const FILE = process.env.BENCH_FILE ?? SF_2020;
const ABANDON_MS = Number(process.env.BENCH_ABANDON_MS ?? 1000);
const CLIENTS = 20;

const path = benchPath(`public-${process.pid}.duckdb`);
const store = await Store.open(path);
log(`importing ${FILE}`);
const { rowsRead } = (await importFireFile(store, FILE)) as unknown as { rowsRead: number };
const app = await buildApp({ store, config: defaultConfig(), publicRateLimit: 1e6 });
await app.listen({ port: 0, host: '127.0.0.1' });
const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
const staff = { authorization: `Bearer ${await createToken(store, 'bench', 'viewer')}` };
const staffRequest = async () => {
  const r = await fetch(`${base}/api/v1/fire/metrics?by=station`, { headers: staff });
  await r.arrayBuffer();
  return r.status;
};

await staffRequest(); // warm the frame
const idle = await time(staffRequest);
const cold = await time(() => fetch(`${base}/public`).then((r) => r.text()));
const warm = await time(() => fetch(`${base}/public`).then((r) => r.text()));

// distinct whole months, both routes: no two share a cache entry
const urls = Array.from(
  { length: CLIENTS },
  (_, k) =>
    `${base}/api/public/fire/${k % 2 ? 'neighborhoods' : 'performance'}?from=${2000 + k}-01-01`,
);
const before = app.publicAnswers.computations;
const abandoned = urls.map((url) =>
  fetch(url, { signal: AbortSignal.timeout(ABANDON_MS) }).then(
    (r) => r.status,
    () => 'abandoned',
  ),
);
await new Promise((r) => setTimeout(r, ABANDON_MS + 50));
const loaded = await time(staffRequest);
const outcomes = await Promise.all(abandoned);
await new Promise((r) => setTimeout(r, 2000)); // let queued work drain (or be skipped)

report({
  name: 'public.abandoned',
  rows: rowsRead,
  ms: loaded.ms,
  baselineMs: idle.ms,
  coldMs: Math.round(cold.ms),
  warmMs: Math.round(warm.ms * 10) / 10,
  computed: app.publicAnswers.computations - before,
  refused503: outcomes.filter((o) => o === 503).length,
  abandoned: outcomes.filter((o) => o === 'abandoned').length,
});
await app.close();
store.close();
