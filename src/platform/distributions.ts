/**
 * Distribution functions for exact small-count inference: the regularised incomplete gamma function
 * (Poisson intervals), the binomial tail (conditional tests of two counts) and the normal tail (z-scores).
 * Written from the standard series and continued-fraction expansions; accurate to ~1e-12.
 */

const LANCZOS = [
  676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];

export function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
  x -= 1;
  let a = 0.99999999999980993;
  const t = x + 7.5;
  for (let i = 0; i < 8; i++) a += LANCZOS[i]! / (x + i + 1);
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a);
}

/** P(a, x) = γ(a, x)/Γ(a), the CDF at x of a Gamma(a, 1) variable. */
export function gammaP(a: number, x: number): number {
  if (x <= 0) return 0;
  const lead = a * Math.log(x) - x - logGamma(a);
  if (x < a + 1) {
    let sum = 1 / a,
      term = sum;
    for (let n = 1; n < 10000; n++) {
      term *= x / (a + n);
      sum += term;
      if (Math.abs(term) < Math.abs(sum) * 1e-16) break;
    }
    return Math.min(1, sum * Math.exp(lead));
  }
  // Lentz's continued fraction for Q(a, x)
  let b = x + 1 - a,
    c = 1e300,
    d = 1 / b,
    h = d;
  for (let i = 1; i < 10000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < 1e-300) d = 1e-300;
    c = b + an / c;
    if (Math.abs(c) < 1e-300) c = 1e-300;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return Math.max(0, 1 - Math.exp(lead) * h);
}

/** The p-quantile of Gamma(a, 1), by bisection on gammaP (monotone, so always converges). */
export function gammaQuantile(p: number, a: number): number {
  if (p <= 0) return 0;
  let lo = 0,
    hi = Math.max(1, a);
  while (gammaP(a, hi) < p) hi *= 2;
  for (let i = 0; i < 200 && hi - lo > 1e-13 * Math.max(1, hi); i++) {
    const mid = (lo + hi) / 2;
    if (gammaP(a, mid) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/**
 * Exact (Garwood) interval for a Poisson mean given an observed count n:
 * [χ²(α/2; 2n)/2, χ²(1−α/2; 2n+2)/2], i.e. gamma quantiles with shapes n and n+1.
 */
export function poissonInterval(n: number, level = 0.95): [number, number] {
  const alpha = 1 - level;
  return [n === 0 ? 0 : gammaQuantile(alpha / 2, n), gammaQuantile(1 - alpha / 2, n + 1)];
}

function logBinomPmf(k: number, n: number, p: number): number {
  if (p === 0) return k === 0 ? 0 : -Infinity;
  if (p === 1) return k === n ? 0 : -Infinity;
  return (
    logGamma(n + 1) -
    logGamma(k + 1) -
    logGamma(n - k + 1) +
    k * Math.log(p) +
    (n - k) * Math.log(1 - p)
  );
}

/**
 * Two-sided exact binomial test of k successes in n trials with probability p: the sum of the
 * probabilities of all outcomes no more likely than the one observed (the convention of R's binom.test).
 */
export function binomialTestTwoSided(k: number, n: number, p: number): number {
  const observed = logBinomPmf(k, n, p);
  let total = 0;
  for (let i = 0; i <= n; i++) {
    const l = logBinomPmf(i, n, p);
    if (l <= observed + 1e-7 * Math.abs(observed)) total += Math.exp(l);
  }
  return Math.min(1, total);
}

/** Standard normal upper tail Q(z) = ½·P(½, z²/2) complement, through the incomplete gamma function. */
export function normalUpperTail(z: number): number {
  if (z < 0) return 1 - normalUpperTail(-z);
  // Q(z) = 0.5·erfc(z/√2) = 0.5·Γ(1/2, z²/2)/Γ(1/2)
  return 0.5 * (1 - gammaP(0.5, (z * z) / 2));
}

/** Benjamini–Hochberg adjusted p-values (q-values), in the input order. */
export function benjaminiHochberg(p: number[]): number[] {
  const m = p.length;
  const order = p.map((v, i) => [v, i] as const).sort((a, b) => a[0] - b[0]);
  const q = new Array<number>(m);
  let min = 1;
  for (let r = m - 1; r >= 0; r--) {
    const [v, i] = order[r]!;
    min = Math.min(min, (v * m) / (r + 1));
    q[i] = min;
  }
  return q;
}
