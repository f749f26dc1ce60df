import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

/**
 * `npm run bench` runs every benchmark; `npm run bench -- NAME` runs one. Each runs in its own
 * process, so its peak RSS is its own, and prints one JSON line with its ratio to a baseline
 * measured in the same run.
 */
const dir = import.meta.dirname;
const all = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  .map((f) => f.replace(/\.bench\.ts$/, ''))
  .sort();
const wanted = process.argv.slice(2);
const unknown = wanted.filter((w) => !all.includes(w));
if (unknown.length) {
  process.stderr.write(`Unknown benchmark ${unknown.join(', ')}. Known: ${all.join(', ')}\n`);
  process.exit(2);
}
let failed = 0;
for (const name of wanted.length ? wanted : all) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(dir, `${name}.bench.ts`)], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (r.status !== 0) {
    failed++;
    process.stderr.write(`[bench] ${name} failed (exit ${r.status})\n`);
  }
}
process.exit(failed ? 1 : 0);
