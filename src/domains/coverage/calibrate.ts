import { quantile } from '../../platform/stats.ts';
import type { Store } from '../../platform/db.ts';
import { dijkstra } from './graph.ts';
import { saveCalibration, SNAP_M, type Calibration, type CoverageContext } from './context.ts';

/**
 * Fits one speed factor so that predicted drive times match observed emergency travel: for every
 * emergency response by an engine, truck or rescue company into its own first-due area (so it most
 * likely left from quarters), observed travel = on scene − en route, predicted = the posted-speed drive
 * time from its station to the incident. The factor is the median of predicted/observed, so the median
 * calibrated error is zero by construction; the fit reports the median absolute error and the observed
 * and predicted p90 on the same responses. Calibrated time = posted-speed time / factor.
 */
export async function calibrate(store: Store, ctx: CoverageContext, opts: { save?: boolean } = {}) {
  const rows = await store.all<{ station: string; lat: number; lon: number; travel: number }>(`
    SELECT u.home_station AS station, i.lat, i.lon, epoch(coalesce(u.staging, u.on_scene)) - epoch(u.enroute) AS travel
    FROM analytic_unit_responses u JOIN analytic_incidents i USING (incident_id)
    WHERE u.own_agency AND i.emergency AND u.unit_type IN ('ENGINE', 'TRUCK', 'RESCUE') AND u.home_station IS NOT NULL
      AND u.home_station = i.station_area AND u.enroute IS NOT NULL AND coalesce(u.staging, u.on_scene) IS NOT NULL AND i.lat IS NOT NULL`);
  const excluded = { stationOffNetwork: 0, incidentOffNetwork: 0, implausibleTravel: 0 };
  const byStation = new Map(ctx.stations.filter((s) => s.node !== null).map((s) => [s.id, s]));
  const times = new Map<string, Float64Array>();
  const pairs: { observed: number; predicted: number }[] = [];
  for (const r of rows) {
    const s = byStation.get(r.station);
    if (!s) {
      excluded.stationOffNetwork++;
      continue;
    }
    // under 30 s or over 20 min: a unit already on the road, or a clock left running
    if (!(r.travel >= 30 && r.travel <= 1200)) {
      excluded.implausibleTravel++;
      continue;
    }
    const snap = ctx.graph.index.nearest(r.lon, r.lat, SNAP_M);
    if (!snap) {
      excluded.incidentOffNetwork++;
      continue;
    }
    let t = times.get(s.id);
    if (!t) times.set(s.id, (t = dijkstra(ctx.graph, [s.node!]).time));
    if (!Number.isFinite(t[snap.node]!)) {
      excluded.incidentOffNetwork++;
      continue;
    }
    pairs.push({ observed: r.travel, predicted: t[snap.node]! });
  }
  if (pairs.length < 10)
    throw new Error(
      `only ${pairs.length} responses can be matched to the network: too few to calibrate`,
    );
  const factor = quantile(
    pairs.map((p) => p.predicted / p.observed),
    0.5,
  )!;
  const calibrated = pairs.map((p) => p.predicted / factor);
  const c: Calibration = {
    factor,
    n: pairs.length,
    medianAbsErrorS: quantile(
      pairs.map((p, i) => Math.abs(calibrated[i]! - p.observed)),
      0.5,
    )!,
    observedP90: quantile(
      pairs.map((p) => p.observed),
      0.9,
    )!,
    predictedP90: quantile(calibrated, 0.9)!,
    fittedAt: new Date().toISOString(),
    network: ctx.network,
  };
  const uncalibratedP90 = quantile(
    pairs.map((p) => p.predicted),
    0.9,
  )!;
  if (opts.save !== false) await saveCalibration(store, c);
  return {
    ...c,
    uncalibratedP90,
    candidates: rows.length,
    excluded,
    definition:
      'factor = median(posted-speed time / observed travel) over emergency engine, truck and rescue responses into their own first-due area; calibrated time = posted time / factor',
  };
}
