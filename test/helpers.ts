import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { defaultConfig } from '../src/domains/fire/config.ts';
import { FireService } from '../src/domains/fire/service.ts';
import { Store } from '../src/platform/db.ts';

export const ROOT = resolve(import.meta.dirname, '..');
const SHARED_FIRE = resolve(ROOT, '../shared/data/fire');
/** The real SF files: from ../shared when present (the source of truth), else the bundled copies. */
const fireDir = existsSync(SHARED_FIRE) ? SHARED_FIRE : join(ROOT, 'samples/fire');
export const SF_2020 = join(fireDir, 'sf_fire_calls_2020-04-07_to_2020-04-20.csv');
export const SF_2017 = join(fireDir, 'sf_fire_calls_2017_structure_outside_fires.csv');
export const FIXTURES = join(ROOT, 'test/fixtures');

/** Text that only an internal failure would put in an answer. */
export const INTERNAL_TEXT =
  /Binder Error|Catalog Error|Conversion Error|Invalid Input Error|Parser Error|Constraint Error|TypeError|RangeError|ReferenceError|\bat \/|node_modules|unexpected error|Internal error/;

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'cityops-test-'));
}

export async function openTemp(): Promise<{ store: Store; path: string; fire: FireService }> {
  const path = join(tempDir(), 'test.duckdb');
  const store = await Store.open(path);
  return { store, path, fire: new FireService(store, defaultConfig()) };
}

/** Runs the real CLI as a user would. */
export function cli(
  args: string[],
  env: Record<string, string> = {},
): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin/cityops.mjs'), ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', ...env },
    maxBuffer: 64 << 20,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
