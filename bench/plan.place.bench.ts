import { cellToLatLng, polygonToCells } from 'h3-js';
import { applyScenario } from '../src/domains/coverage/coverage.ts';
import { placeStations } from '../src/domains/coverage/place.ts';
import { log, report, time } from './lib.ts';
import { planContext } from './plan-data.ts';

/**
 * plan.place: k = 3 new stations over 1,000 candidate sites (H3 resolution-10 cell centres on the
 * network) covering the incidents not covered in 4 minutes with stations 8 and 36 closed. Prints the
 * time, the greedy and HiGHS objectives and HiGHS's proven bound. Baseline, same run: the greedy pass
 * alone (the ratio is what exactness costs on top of it).
 */
const { store, ctx } = await planContext();
const [w, s, e, n] = ctx.graph.bbox;
const points = polygonToCells(
  [
    [
      [s, w],
      [s, e],
      [n, e],
      [n, w],
      [s, w],
    ],
  ],
  10,
)
  .map((c) => {
    const [lat, lon] = cellToLatLng(c);
    return { lat, lon };
  })
  .filter((p) => ctx.graph.index.nearest(p.lon, p.lat, 150))
  .slice(0, 1000);
log(`plan.place: k = 3 over ${points.length} candidates`);
const stations = applyScenario(ctx, { close: ['8', '36'] });
const greedyOnly = await time(() =>
  placeStations(ctx, stations, {
    k: 3,
    minutes: 4,
    candidateResolution: 10,
    points,
    timeLimitS: 0,
  }),
);
const full = await time(() =>
  placeStations(ctx, stations, {
    k: 3,
    minutes: 4,
    candidateResolution: 10,
    points,
    timeLimitS: 30,
  }),
);
const r = full.value;
report({
  name: 'plan.place',
  rows: r.candidates,
  ms: full.ms,
  baselineMs: greedyOnly.ms,
  reachMs: Math.round(r.reachMs),
  greedy: r.greedy.value,
  refined: r.refined?.value ?? null,
  bound: r.refined?.bound ?? null,
  status: r.refined?.status ?? null,
  gapGreedy: r.gap?.greedy ?? null,
  gapBest: r.gap?.best ?? null,
  coveredShare: { today: r.today.coveredShare, best: r.best.coveredShare },
});
store.close();
