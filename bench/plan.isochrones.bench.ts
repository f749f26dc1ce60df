import { MultiDirectedGraph } from 'graphology';
import { dijkstra as gDijkstra } from 'graphology-shortest-path';
import { applyScenario, coverage } from '../src/domains/coverage/coverage.ts';
import { dijkstra } from '../src/domains/coverage/graph.ts';
import { best, log, report } from './lib.ts';
import { planContext } from './plan-data.ts';

/**
 * plan.isochrones: the 4-minute (calibrated) reach of every station on the network, one bounded search
 * per station over the CSR graph. Baseline, same run: graphology's single-source Dijkstra (it has no
 * cutoff) over the same directed edges, keeping the nodes within the same limit; both must reach
 * exactly the same nodes. Target ratio ≤ 0.1. Also printed: one what-if answer (a station moved:
 * coverage today and in the what-if), the figure behind the planning page's "within 200 ms".
 */
const { store, ctx } = await planContext();
const g = ctx.graph,
  f = ctx.calibration!.factor;
const stations = ctx.stations.filter((s) => s.node !== null);
const cutoff = 240 * f; // 4 minutes calibrated, in posted-speed seconds
log(
  `plan.isochrones: ${stations.length} stations, ${g.n} nodes, ${g.targets.length} edges, cutoff ${cutoff.toFixed(1)} s at posted speed (factor ${f.toFixed(3)})`,
);
const gg = new MultiDirectedGraph();
for (let v = 0; v < g.n; v++) gg.addNode(String(v));
for (let v = 0; v < g.n; v++)
  for (let e = g.offsets[v]!; e < g.offsets[v + 1]!; e++)
    gg.addEdge(String(v), String(g.targets[e]), { s: g.seconds[e] });
const edgeSeconds = (v: number, w: number) => {
  let b = Infinity;
  for (let e = g.offsets[v]!; e < g.offsets[v + 1]!; e++)
    if (g.targets[e] === w) b = Math.min(b, g.seconds[e]!);
  return b;
};

const ours = await best(5, () =>
  stations.map((s) => {
    const t = dijkstra(g, [s.node!], cutoff).time;
    let n = 0;
    for (let i = 0; i < t.length; i++) if (t[i]! <= cutoff) n++;
    return n;
  }),
);
const baseline = await best(2, () =>
  stations.map((s) => {
    const paths = gDijkstra.singleSource(gg, String(s.node), 's') as Record<string, string[]>;
    let n = 0;
    for (const path of Object.values(paths)) {
      let t = 0;
      for (let k = 1; k < path.length && t <= cutoff; k++)
        t += edgeSeconds(Number(path[k - 1]), Number(path[k]));
      if (t <= cutoff + 1e-9) n++;
    }
    return n;
  }),
);
if (ours.value.some((n, i) => n !== baseline.value[i])) {
  log(`reach differs: ${ours.value} vs ${baseline.value}`);
  process.exit(1);
}
const today = applyScenario(ctx);
const moved = { move: [{ id: '36', lat: 37.7735, lon: -122.415 }] };
const whatIf = await best(5, () => {
  coverage(ctx, today);
  return coverage(ctx, applyScenario(ctx, moved));
});
report({
  name: 'plan.isochrones',
  rows: stations.length,
  ms: ours.ms,
  baselineMs: baseline.ms,
  nodesReached: ours.value.reduce((a, b) => a + b, 0),
  whatIfMs: Math.round(whatIf.ms * 10) / 10,
  target: 'ratio <= 0.1; what-if <= 200 ms',
});
store.close();
