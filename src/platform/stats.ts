/**
 * Exact order statistics. Percentiles use the nearest-rank method: the q-quantile of n values is
 * the ceil(q·n)-th smallest, so "q of the values are at or under it" holds literally.
 */

export interface Summary {
  n: number;
  p50: number | null;
  p90: number | null;
  mean: number | null;
  min: number | null;
  max: number | null;
}

export function nearestRankIndex(n: number, q: number): number {
  // Guard against 0.9 * 10 = 9.000000000000002 style rounding pushing the rank up by one.
  const rank = Math.ceil(Math.round(q * n * 1e9) / 1e9);
  return Math.min(Math.max(rank, 1), n) - 1;
}

/** Puts the k-th smallest of a[lo..hi] at a[k], smaller values left of it (Hoare selection). */
export function selectKth(a: Float64Array, lo: number, hi: number, k: number): void {
  while (hi > lo) {
    if (hi - lo < 16) {
      for (let i = lo + 1; i <= hi; i++) {
        const v = a[i]!;
        let j = i - 1;
        while (j >= lo && a[j]! > v) {
          a[j + 1] = a[j]!;
          j--;
        }
        a[j + 1] = v;
      }
      return;
    }
    const mid = (lo + hi) >>> 1;
    // median of three as pivot
    let x = a[lo]!;
    const y = a[mid]!,
      z = a[hi]!;
    const pivot = x < y ? (y < z ? y : x < z ? z : x) : x < z ? x : y < z ? z : y;
    let i = lo,
      j = hi;
    while (i <= j) {
      while (a[i]! < pivot) i++;
      while (a[j]! > pivot) j--;
      if (i <= j) {
        x = a[i]!;
        a[i] = a[j]!;
        a[j] = x;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return;
  }
}

/** Counts for rank selection by counting, reused between calls (grown as needed, zeroed after use). */
let tally = new Int32Array(1 << 12);

/**
 * Summary of a[lo..hi) (the slice may be reordered). Whole-second values spanning a range not much
 * wider than their count (response times in seconds, as CAD stamps are) are ranked by counting, in
 * one pass and without comparisons; any other slice by selection.
 */
export function summarizeSlice(a: Float64Array, lo: number, hi: number): Summary {
  const n = hi - lo;
  if (n === 0) return { n: 0, p50: null, p90: null, mean: null, min: null, max: null };
  let sum = 0,
    min = Infinity,
    max = -Infinity,
    whole = true;
  for (let i = lo; i < hi; i++) {
    const v = a[i]!;
    sum += v;
    if (v < min) min = v;
    if (v > max) max = v;
    if (whole && v !== Math.floor(v)) whole = false;
  }
  const r90 = nearestRankIndex(n, 0.9),
    r50 = nearestRankIndex(n, 0.5);
  const span = max - min + 1;
  if (whole && span <= 2 * n + 256 && span <= 1 << 22) {
    const [p50, p90] = rankByCounting(a, lo, hi, min, span, r50, r90);
    return { n, p50, p90, mean: sum / n, min, max };
  }
  const k90 = lo + r90;
  selectKth(a, lo, hi - 1, k90);
  const p90 = a[k90]!;
  const k50 = lo + r50;
  selectKth(a, lo, k90, k50); // everything left of k90 is ≤ p90, so the median is among them
  return { n, p50: a[k50]!, p90, mean: sum / n, min, max };
}

/** The values at ranks r1 ≤ r2 (0-based) of the whole numbers a[lo..hi), all within [min, min + span). */
function rankByCounting(
  a: Float64Array,
  lo: number,
  hi: number,
  min: number,
  span: number,
  r1: number,
  r2: number,
): [number, number] {
  if (tally.length < span) tally = new Int32Array(Math.max(span, tally.length * 2));
  for (let i = lo; i < hi; i++) tally[a[i]! - min]!++;
  let below = 0,
    v1 = NaN,
    v2 = NaN;
  for (let x = 0; x < span; x++) {
    below += tally[x]!;
    if (v1 !== v1 && below > r1) v1 = x + min;
    if (below > r2) {
      v2 = x + min;
      break;
    }
  }
  tally.fill(0, 0, span);
  return [v1, v2];
}

export function summarize(values: ArrayLike<number>): Summary {
  const a = Float64Array.from(values);
  return summarizeSlice(a, 0, a.length);
}

/** Exact nearest-rank quantile of a list (not modified). */
export function quantile(values: ArrayLike<number>, q: number): number | null {
  if (values.length === 0) return null;
  const a = Float64Array.from(values);
  const k = nearestRankIndex(a.length, q);
  selectKth(a, 0, a.length - 1, k);
  return a[k]!;
}

/**
 * Summaries per group in one pass: values are bucketed by group with a counting sort, then each
 * group's percentiles are found by selection, O(n) overall. NaN values are skipped.
 */
export function summarizeByGroup(
  groups: Int32Array,
  values: Float64Array,
  groupCount: number,
): Summary[] {
  const counts = new Int32Array(groupCount + 1);
  const len = groups.length;
  for (let i = 0; i < len; i++) {
    const v = values[i]!;
    if (v === v) counts[groups[i]! + 1]!++;
  }
  for (let g = 0; g < groupCount; g++) counts[g + 1]! += counts[g]!;
  const starts = counts.slice(0, groupCount + 1);
  const cursor = counts.slice(0, groupCount);
  const sorted = new Float64Array(starts[groupCount]!);
  for (let i = 0; i < len; i++) {
    const v = values[i]!;
    if (v === v) sorted[cursor[groups[i]!]!++] = v;
  }
  const out: Summary[] = new Array(groupCount);
  for (let g = 0; g < groupCount; g++) out[g] = summarizeSlice(sorted, starts[g]!, starts[g + 1]!);
  return out;
}

/** Share of values at or under a limit. */
export function shareAtOrUnder(values: ArrayLike<number>, limit: number): number | null {
  if (values.length === 0) return null;
  let k = 0;
  for (let i = 0; i < values.length; i++) if (values[i]! <= limit) k++;
  return k / values.length;
}
