import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** Where generated benchmark data is cached between runs (git-ignored). */
export const BENCH_DIR = resolve(import.meta.dirname, '../.bench');
mkdirSync(BENCH_DIR, { recursive: true });
export const benchPath = (name: string) => join(BENCH_DIR, name);

/** mulberry32: a small, seeded PRNG so every run generates the same data. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal deviate (Box–Muller). */
export function normal(rand: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

export async function time<T>(work: () => Promise<T> | T): Promise<{ ms: number; value: T }> {
  const t0 = performance.now();
  const value = await work();
  return { ms: performance.now() - t0, value };
}

/** Best of n runs: the figure least disturbed by the machine's other work. */
export async function best<T>(
  n: number,
  work: () => Promise<T> | T,
): Promise<{ ms: number; value: T }> {
  let out: { ms: number; value: T } | null = null;
  for (let k = 0; k < n; k++) {
    const r = await time(work);
    if (!out || r.ms < out.ms) out = r;
  }
  return out!;
}

export interface BenchResult {
  name: string;
  rows: number;
  ms: number;
  baselineMs: number;
  ratio: number;
  peakRssMb: number;
  [extra: string]: unknown;
}

/** Prints the one JSON line a benchmark reports. */
export function report(
  r: { name: string; rows: number; ms: number; baselineMs: number } & Record<string, unknown>,
): void {
  const line: BenchResult = {
    ...r,
    ms: Math.round(r.ms * 10) / 10,
    baselineMs: Math.round(r.baselineMs * 10) / 10,
    ratio: Math.round((r.ms / r.baselineMs) * 1000) / 1000,
    peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
  };
  process.stdout.write(JSON.stringify(line) + '\n');
}

export const log = (msg: string) => process.stderr.write(`[bench] ${msg}\n`);
