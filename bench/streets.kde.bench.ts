import { kdeSurface, kdeSurfaceIndexed } from '../src/domains/collisions/kde.ts';
import { WEIGHT_SETS } from '../src/domains/collisions/summary.ts';
import { best, log, normal, prng, report } from './lib.ts';

/**
 * streets.kde: an exact quartic kernel-density surface of 200,000 synthetic crashes over a 20 km × 20 km
 * city at 25 m cells with a 300 m bandwidth, EPDO-weighted (hsm). Baseline, in the same run: for every
 * cell, the sum over the crashes within the bandwidth found through a spatial index. Both are exact;
 * they must agree to 1e-9 relative in every cell. Target ratio ≤ 0.3.
 *
 * The crashes sit on a street grid (blocks of 200 m, 5 m scatter), a third of them near intersections,
 * with KABCO shares like the SLO County file (K 2.7%, A 10.6%, B 34%, C 52.8%).
 */
const N = 200_000,
  SIDE = 20_000,
  CELL = 25,
  BANDWIDTH = 300;
const rand = prng(20261122);
const x = new Float64Array(N),
  y = new Float64Array(N),
  w = new Float64Array(N);
const hsm = WEIGHT_SETS.hsm!;
for (let i = 0; i < N; i++) {
  const streetX = Math.floor(rand() * (SIDE / 200)) * 200,
    streetY = Math.floor(rand() * (SIDE / 200)) * 200;
  const atCorner = rand() < 1 / 3,
    alongX = rand() < 0.5;
  const t = atCorner ? 0 : rand() * 200;
  x[i] = Math.min(SIDE, Math.max(0, (alongX ? streetX + t : streetX) + 5 * normal(rand)));
  y[i] = Math.min(SIDE, Math.max(0, (alongX ? streetY : streetY + t) + 5 * normal(rand)));
  const u = rand();
  w[i] = u < 0.027 ? hsm.K : u < 0.133 ? hsm.A : u < 0.473 ? hsm.B : hsm.C;
}
const pts = { x, y, w };
const grid = { x0: 0, y0: 0, cell: CELL, cols: SIDE / CELL, rows: SIDE / CELL };
log(
  `streets.kde: ${N} crashes, ${grid.cols}×${grid.rows} cells of ${CELL} m, bandwidth ${BANDWIDTH} m`,
);
const baseline = await best(2, () => kdeSurfaceIndexed(pts, grid, BANDWIDTH));
const fast = await best(3, () => kdeSurface(pts, grid, BANDWIDTH));
let worst = 0;
for (let i = 0; i < fast.value.values.length; i++) {
  const a = fast.value.values[i]!,
    b = baseline.value.values[i]!;
  if (a !== b) worst = Math.max(worst, Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b)));
}
if (worst > 1e-9) {
  log(`surfaces disagree: worst relative difference ${worst}`);
  process.exit(1);
}
report({
  name: 'streets.kde',
  rows: N,
  ms: fast.ms,
  baselineMs: baseline.ms,
  cells: grid.cols * grid.rows,
  worstRelativeDifference: worst,
  target: 'ratio <= 0.3',
});
