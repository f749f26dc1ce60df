import { quantile } from '../../platform/stats.ts';
import { stationTimes } from './coverage.ts';
import type { CoverageContext, Station } from './context.ts';

/**
 * Replays the real incidents, in time order, against a deployment. Units wait in quarters; each
 * incident gets the nearest available unit by calibrated drive time (of its kind: suppression units for
 * incidents a suppression unit reached first in reality, any unit otherwise), which is then busy for
 * the real first unit's commitment time (dispatched → cleared; the median where unknown). When every
 * unit is busy the incident waits for the first to free up, and the wait counts in its response.
 * Validation on today's deployment: simulated first-unit travel against the observed one, on the same
 * incidents.
 */
const SUPPRESSION = new Set(['ENGINE', 'TRUCK', 'RESCUE', 'CHIEF', 'QUINT', 'SQUAD']);

export function simulate(ctx: CoverageContext, stations: Station[]) {
  const times = stationTimes(ctx, stations);
  const units = stations.flatMap((s, k) =>
    s.units.map((u) => ({ ...u, station: k, freeAt: -Infinity, responses: 0 })),
  );
  const services = ctx.demand.map((d) => d.firstService).filter((x): x is number => x !== null);
  const medianService = quantile(services, 0.5) ?? 1200;
  const simulated: number[] = [],
    observed: number[] = [],
    waits: number[] = [];
  let unreachable = 0,
    queued = 0;
  for (const d of ctx.demand) {
    if (!d.firstType) continue; // no unit arrived in reality: nothing to compare
    const wantSuppression = SUPPRESSION.has(d.firstType);
    const eligible = units.filter((u) => !wantSuppression || SUPPRESSION.has(u.type));
    const pool = eligible.length ? eligible : units;
    let best = null as (typeof units)[number] | null,
      bestT = Infinity;
    for (const u of pool) {
      if (u.freeAt > d.at) continue;
      const t = times[u.station]![d.node]!;
      if (t < bestT) {
        bestT = t;
        best = u;
      }
    }
    let wait = 0;
    if (!best) {
      // everyone busy: the first unit to free up goes
      queued++;
      best = pool.reduce((a, b) => (a.freeAt <= b.freeAt ? a : b));
      wait = best.freeAt - d.at;
      bestT = times[best.station]![d.node]!;
    }
    if (!Number.isFinite(bestT)) {
      unreachable++;
      continue;
    }
    best.freeAt = d.at + wait + (d.firstService ?? medianService);
    best.responses++;
    simulated.push(bestT + wait);
    waits.push(wait);
    if (d.firstTravel !== null) observed.push(d.firstTravel);
  }
  const p = (xs: number[], q: number) => quantile(xs, q);
  return {
    network: ctx.network,
    clip: ctx.clip,
    incidents: simulated.length,
    unreachable,
    queued,
    simulatedTravel: { n: simulated.length, p50: p(simulated, 0.5), p90: p(simulated, 0.9) },
    observedTravel: { n: observed.length, p50: p(observed, 0.5), p90: p(observed, 0.9) },
    calibration: ctx.calibration?.factor ?? 1,
    busiestUnits: units
      .sort((a, b) => b.responses - a.responses)
      .slice(0, 10)
      .map((u) => ({ unit: u.id, station: stations[u.station]!.id, responses: u.responses })),
    definition:
      'first-unit travel: nearest available unit by calibrated drive time from quarters, plus any wait for a free unit; observed: the real first unit’s on scene − en route',
  };
}
