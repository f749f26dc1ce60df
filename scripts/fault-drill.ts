/**
 * Fault drill: `npm run faults [-- RUNS]` kills real CLI imports with SIGKILL at random moments and
 * checks that each database is afterwards exactly as before the import or exactly as after a clean one
 * (never half-written), and that importing again then gives the clean result. Prints one line per
 * domain and a closing `N of N runs left the database whole`.
 */
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Store } from '../src/platform/db.ts';

const ROOT = resolve(import.meta.dirname, '..');
const CLI = join(ROOT, 'bin/cityops.mjs');
const shared = (p: string, bundled: string) =>
  existsSync(resolve(ROOT, '../shared/data', p))
    ? resolve(ROOT, '../shared/data', p)
    : join(ROOT, bundled);
const CASES = [
  {
    domain: 'fire',
    args: [
      'import',
      'fire',
      shared(
        'fire/sf_fire_calls_2020-04-07_to_2020-04-20.csv',
        'samples/fire/sf_fire_calls_2020-04-07_to_2020-04-20.csv',
      ),
    ],
  },
  {
    domain: 'collisions',
    args: [
      'import',
      'collisions',
      join(ROOT, 'samples/collisions/slo_county_tims_crashes_2011_2020.csv.gz'),
    ],
  },
  {
    domain: 'budget',
    args: ['import', 'budget', join(ROOT, 'samples/budget/oakland_budget_line_items.csv.gz')],
  },
];
const TABLES = [
  'incidents',
  'unit_responses',
  'unit_status_events',
  'collisions',
  'budget_lines',
  'source_rows',
  'quarantine',
  'import_warnings',
];

/** Row count and an order-free hash of every row, per table; import_batches by count (it holds clock times). */
async function fingerprint(db: string): Promise<string> {
  const store = await Store.open(db);
  try {
    const parts: string[] = [];
    for (const t of TABLES) {
      const r = await store.one<{ n: number; h: string }>(
        `SELECT count(*)::INTEGER AS n, coalesce(sum(hash(t))::VARCHAR, '0') AS h FROM ${t} t`,
      );
      parts.push(`${t}:${r!.n}:${r!.h}`);
    }
    parts.push(
      `batches:${(await store.one<{ n: number }>('SELECT count(*)::INTEGER AS n FROM import_batches'))!.n}`,
    );
    return parts.join(' ');
  } finally {
    store.close();
  }
}

function importOnce(args: string[], db: string): void {
  const r = spawnSync(process.execPath, [CLI, ...args, '--db', db], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`import failed: ${r.stderr}`);
}

/** Starts an import and kills it after `ms`; true when the kill landed before it finished. */
function killAfter(args: string[], db: string, ms: number): Promise<boolean> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [CLI, ...args, '--db', db], { stdio: 'ignore' });
    const timer = setTimeout(() => child.kill('SIGKILL'), ms);
    child.on('exit', (_code, signal) => {
      clearTimeout(timer);
      done(signal === 'SIGKILL');
    });
  });
}

const runs = Number(process.argv[2] ?? 5);
const dir = mkdtempSync(join(tmpdir(), 'cityops-faults-'));
let whole = 0,
  total = 0;
for (const c of CASES) {
  const empty = join(dir, `${c.domain}-empty.duckdb`);
  (await Store.open(empty)).close();
  const before = await fingerprint(empty);
  const clean = join(dir, `${c.domain}-clean.duckdb`);
  copyFileSync(empty, clean);
  const t0 = performance.now();
  importOnce(c.args, clean);
  const importMs = performance.now() - t0;
  const after = await fingerprint(clean);
  let ok = 0,
    killed = 0;
  for (let i = 0; i < runs; i++) {
    const db = join(dir, `${c.domain}-${i}.duckdb`);
    copyFileSync(empty, db);
    // kill anywhere from process start-up to the end of the clean run's time
    if (await killAfter(c.args, db, Math.round(Math.random() * importMs))) killed++;
    const state = await fingerprint(db);
    importOnce(c.args, db);
    const again = await fingerprint(db);
    if ((state === before || state === after) && again === after) ok++;
    else
      process.stdout.write(
        `  ${c.domain} run ${i}: left ${state === before ? 'as before' : state === after ? 'as after' : 'HALF-WRITTEN'}; re-import ${again === after ? 'clean' : 'DIFFERENT'}\n`,
      );
  }
  whole += ok;
  total += runs;
  process.stdout.write(
    `${c.domain}: ${ok} of ${runs} killed runs whole (${killed} killed mid-import, import takes ${Math.round(importMs)} ms)\n`,
  );
}
process.stdout.write(`${whole} of ${total} runs left the database whole\n`);
process.exit(whole === total ? 0 : 1);
