import { cellToLatLng, latLngToCell, polygonToCells } from 'h3-js';
import { dijkstra } from './graph.ts';
import { coverage, factorOf } from './coverage.ts';
import type { CoverageContext, Station } from './context.ts';

/**
 * Where the next stations should go: the maximal covering location problem. Demand is the incidents not
 * covered today, aggregated to H3 resolution-9 cells (weight = incidents; each cell represented by the
 * road node of its incident nearest the cell centre). Candidates are H3 cell centres on the network (or
 * given points). A greedy pass picks k sites by marginal gain; HiGHS then solves the integer program
 *   max Σ w_j y_j  s.t.  y_j ≤ Σ_{i covers j} x_i,  Σ x_i = k,  x ∈ {0,1},  0 ≤ y ≤ 1
 * under a time limit, and reports its proven bound, so the gap of both answers to the optimum is known.
 */
export interface PlaceOptions {
  k: number;
  minutes: number;
  candidateResolution: number;
  points?: { lat: number; lon: number }[];
  timeLimitS: number;
}

export async function placeStations(ctx: CoverageContext, stations: Station[], o: PlaceOptions) {
  const today = coverage(ctx, stations, {
    minutes: o.minutes,
    bands: [o.minutes],
    erfMinutes: o.minutes,
    erfStaff: 0,
  });
  const cells = new Map<string, { weight: number; node: number; best: number }>();
  ctx.demand.forEach((d, i) => {
    if (today.coveredFlags[i]) return;
    const c = latLngToCell(d.lat, d.lon, 9);
    const [clat, clon] = cellToLatLng(c);
    const dist = (d.lat - clat) ** 2 + ((d.lon - clon) * Math.cos((clat * Math.PI) / 180)) ** 2;
    const cur = cells.get(c);
    if (!cur) cells.set(c, { weight: 1, node: d.node, best: dist });
    else {
      cur.weight++;
      if (dist < cur.best) {
        cur.best = dist;
        cur.node = d.node;
      }
    }
  });
  const demand = [...cells.entries()].map(([cell, v]) => ({
    cell,
    weight: v.weight,
    node: v.node,
  }));
  const nodeToDemand = new Map<number, number[]>();
  demand.forEach((d, j) => {
    const l = nodeToDemand.get(d.node) ?? [];
    l.push(j);
    nodeToDemand.set(d.node, l);
  });
  // candidates
  const g = ctx.graph;
  let points: { lat: number; lon: number }[];
  if (o.points?.length) points = o.points;
  else {
    const [w, s, e, n] = g.bbox;
    points = polygonToCells(
      [
        [
          [s, w],
          [s, e],
          [n, e],
          [n, w],
          [s, w],
        ],
      ],
      o.candidateResolution,
    ).map((c) => {
      const [lat, lon] = cellToLatLng(c);
      return { lat, lon };
    });
  }
  const t0 = performance.now();
  const candidates: { lat: number; lon: number; node: number; covers: number[] }[] = [];
  const f = factorOf(ctx);
  for (const p of points) {
    const snap = g.index.nearest(p.lon, p.lat, 150);
    if (!snap) continue;
    const reach = dijkstra(g, [snap.node], o.minutes * 60 * f).time;
    const covers: number[] = [];
    for (const [node, js] of nodeToDemand)
      if (reach[node]! <= o.minutes * 60 * f) covers.push(...js);
    candidates.push({ lat: g.lat[snap.node]!, lon: g.lon[snap.node]!, node: snap.node, covers });
  }
  const reachMs = performance.now() - t0;
  // greedy
  const t1 = performance.now();
  const coveredBy = new Uint8Array(demand.length);
  const greedy: number[] = [];
  let greedyValue = 0;
  for (let step = 0; step < o.k; step++) {
    let best = -1,
      gain = -1;
    candidates.forEach((c, i) => {
      if (greedy.includes(i)) return;
      let gi = 0;
      for (const j of c.covers) if (!coveredBy[j]) gi += demand[j]!.weight;
      if (gi > gain) {
        gain = gi;
        best = i;
      }
    });
    if (best < 0) break;
    greedy.push(best);
    greedyValue += gain;
    for (const j of candidates[best]!.covers) coveredBy[j] = 1;
  }
  const greedyMs = performance.now() - t1;
  // a time limit of 0 asks for the greedy answer alone
  const refined =
    o.timeLimitS > 0
      ? await solveMclp(
          candidates.map((c) => c.covers),
          demand.map((d) => d.weight),
          o.k,
          o.timeLimitS,
        )
      : null;
  const chosen = refined && refined.value >= greedyValue ? refined.chosen : greedy;
  const value = refined && refined.value >= greedyValue ? refined.value : greedyValue;
  const totalDemand = ctx.demand.length;
  return {
    k: o.k,
    minutes: o.minutes,
    network: ctx.network,
    clip: ctx.clip,
    today: { covered: today.covered, incidents: totalDemand, coveredShare: today.coveredShare },
    demandCells: demand.length,
    uncoveredIncidents: demand.reduce((a, d) => a + d.weight, 0),
    candidates: candidates.length,
    greedy: { value: greedyValue, sites: greedy.map((i) => site(candidates[i]!)), ms: greedyMs },
    refined: refined
      ? { value: refined.value, bound: refined.bound, status: refined.status, ms: refined.ms }
      : null,
    best: {
      value,
      coveredShare: totalDemand ? (today.covered + value) / totalDemand : 0,
      sites: chosen.map((i) => site(candidates[i]!)),
    },
    gap: refined
      ? {
          greedy: refined.bound > 0 ? (refined.bound - greedyValue) / refined.bound : 0,
          best: refined.bound > 0 ? (refined.bound - value) / refined.bound : 0,
        }
      : null,
    reachMs,
  };
}

const site = (c: { lat: number; lon: number; covers: number[] }) => ({
  lat: Number(c.lat.toFixed(6)),
  lon: Number(c.lon.toFixed(6)),
  demandCells: c.covers.length,
});

/** HiGHS's HighsModelStatus codes. */
const HIGHS_STATUS: Record<number, string> = {
  7: 'Optimal',
  8: 'Infeasible',
  13: 'Time limit reached',
  14: 'Iteration limit reached',
  15: 'Unknown',
  17: 'Interrupted',
};

interface HighsModel {
  options: { set(o: Record<string, unknown>): void };
  run(): void;
  getModelStatus(): unknown;
  getObjectiveValue(): number;
  info: { get(n: string): unknown };
  getSolution(): { colValue: Float64Array | number[] };
}
interface HighsLib {
  withModel<T>(m: { format: string; data: string }, f: (model: HighsModel) => T): T;
}
let highsLib: Promise<HighsLib> | null = null;

export async function solveMclp(
  covers: number[][],
  weights: number[],
  k: number,
  timeLimitS: number,
) {
  if (!covers.length) return null;
  highsLib ??= import('highs').then((m) => (m.default as unknown as () => Promise<HighsLib>)());
  const highs = await highsLib;
  const coveredBy: number[][] = weights.map(() => []);
  covers.forEach((c, i) => {
    for (const j of c) coveredBy[j]!.push(i);
  });
  const lines = [
    'Maximize',
    ` obj: ${weights.map((w, j) => `${w} y${j}`).join(' + ') || '0 x0'}`,
    'Subject To',
    ` k: ${covers.map((_, i) => `x${i}`).join(' + ')} = ${k}`,
  ];
  coveredBy.forEach((is, j) =>
    lines.push(` c${j}: y${j}${is.map((i) => ` - x${i}`).join('')} <= 0`),
  );
  lines.push(
    'Bounds',
    ...weights.map((_, j) => ` 0 <= y${j} <= 1`),
    'Binary',
    ` ${covers.map((_, i) => `x${i}`).join(' ')}`,
    'End',
  );
  const t = performance.now();
  return highs.withModel({ format: 'lp', data: lines.join('\n') }, (model) => {
    model.options.set({ output_flag: false, time_limit: timeLimitS, mip_rel_gap: 0 });
    model.run();
    const code = model.getModelStatus();
    const status =
      typeof code === 'number' ? (HIGHS_STATUS[code] ?? `status ${code}`) : String(code);
    const x = model.getSolution().colValue;
    // columns are numbered in order of first appearance: y0..y(m-1) in the objective, then x0..x(n-1)
    const chosen = covers.map((_, i) => i).filter((i) => (x[weights.length + i] ?? 0) > 0.5);
    const bound = Number(model.info.get('mip_dual_bound'));
    return {
      value: model.getObjectiveValue(),
      bound: Number.isFinite(bound) ? bound : model.getObjectiveValue(),
      status,
      chosen,
      ms: performance.now() - t,
    };
  });
}
