import { describe, expect, it } from 'vitest';
import { nearestRankIndex, quantile, summarize, summarizeByGroup } from './stats.ts';

/** Reference: sort and take the ceil(q·n)-th smallest. */
const byDefinition = (v: number[], q: number) =>
  [...v].sort((a, b) => a - b)[Math.ceil(q * v.length) - 1];

function rng(seed: number) {
  return () => (seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32;
}

describe('exact nearest-rank statistics', () => {
  it('ranks: p90 of 10 values is the 9th, of 11 the 10th; p50 of 4 is the 2nd', () => {
    expect(nearestRankIndex(10, 0.9)).toBe(8);
    expect(nearestRankIndex(11, 0.9)).toBe(9);
    expect(nearestRankIndex(4, 0.5)).toBe(1);
    expect(nearestRankIndex(1, 0.9)).toBe(0);
    expect(quantile([5, 1, 4, 2, 3, 10, 9, 8, 7, 6], 0.9)).toBe(9);
  });

  it('selection agrees with sorting on random data with many ties', () => {
    const r = rng(7);
    for (let trial = 0; trial < 200; trial++) {
      const n = 1 + Math.floor(r() * 500);
      const v = Array.from({ length: n }, () => Math.floor(r() * (trial % 2 ? 20 : 5000)));
      const s = summarize(v);
      expect(s.p50).toBe(byDefinition(v, 0.5));
      expect(s.p90).toBe(byDefinition(v, 0.9));
      expect(s.n).toBe(n);
      expect(s.min).toBe(Math.min(...v));
      expect(s.max).toBe(Math.max(...v));
    }
  });

  it('ranking by counting (whole numbers in a narrow range) and by selection (others) agree with sorting', () => {
    const r = rng(13);
    const kinds: [string, () => number][] = [
      ['whole seconds, narrow', () => 30 + Math.floor(r() * 120)],
      ['whole, negative too', () => Math.floor(r() * 200) - 100],
      ['whole, one outlier far away', () => (r() < 0.01 ? 1e7 : Math.floor(r() * 300))],
      ['fractions (millisecond stamps)', () => Math.round(r() * 300_000) / 1000],
    ];
    for (const [name, draw] of kinds) {
      for (let trial = 0; trial < 50; trial++) {
        const v = Array.from({ length: 1 + Math.floor(r() * 3000) }, draw);
        const s = summarize(v);
        expect([s.p50, s.p90], name).toEqual([byDefinition(v, 0.5), byDefinition(v, 0.9)]);
      }
    }
  });

  it('grouped summaries equal per-group sorting and skip NaN', () => {
    const r = rng(11);
    const n = 20000,
      groups = 37;
    const g = new Int32Array(n),
      v = new Float64Array(n);
    const lists: number[][] = Array.from({ length: groups }, () => []);
    for (let i = 0; i < n; i++) {
      g[i] = Math.floor(r() * groups);
      v[i] = r() < 0.05 ? NaN : Math.round(r() * 900);
      if (v[i] === v[i]) lists[g[i]!]!.push(v[i]!);
    }
    const out = summarizeByGroup(g, v, groups);
    out.forEach((s, k) => {
      expect(s.n).toBe(lists[k]!.length);
      expect(s.p90).toBe(byDefinition(lists[k]!, 0.9));
      expect(s.p50).toBe(byDefinition(lists[k]!, 0.5));
    });
  });

  it('an empty set has n 0 and no percentiles', () => {
    expect(summarize([])).toEqual({ n: 0, p50: null, p90: null, mean: null, min: null, max: null });
  });
});
