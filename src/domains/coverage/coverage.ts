import type { Feature, MultiPolygon } from 'geojson';
import { cellsToMultiPolygon, latLngToCell } from 'h3-js';
import { UserError } from '../../platform/errors.ts';
import { quantile } from '../../platform/stats.ts';
import { dijkstra } from './graph.ts';
import { DEFAULT_STAFFING, SNAP_M, type CoverageContext, type Station } from './context.ts';
import { positionProblem } from './stations.ts';

/**
 * Drive-time coverage of historical incidents by a deployment of stations (docs/coverage.md §5), with every time
 * calibrated (posted-speed seconds divided by the fitted factor). Coverage is exact on the graph: each
 * incident's road node gets the time from its nearest station by one multi-source search, so no polygon
 * is needed to count; polygons (H3 cells) are drawn only for the map.
 */
export interface Scenario {
  close?: string[];
  add?: { lat: number; lon: number; id?: string; units?: { type: string; staffing?: number }[] }[];
  move?: { id: string; lat: number; lon: number }[];
  addUnits?: { station: string; type: string; staffing?: number }[];
  removeUnits?: string[];
}

export interface CoverageOptions {
  minutes: number;
  bands: number[];
  erfMinutes: number;
  erfStaff: number;
}
export const COVERAGE_DEFAULTS: CoverageOptions = {
  minutes: 4,
  bands: [4, 6, 8],
  erfMinutes: 8,
  erfStaff: 15,
};

const SUPPRESSION = new Set(['ENGINE', 'TRUCK', 'RESCUE', 'CHIEF', 'QUINT', 'SQUAD']);

/** The stations of a what-if: closed ones removed, moved and added ones snapped, units added or removed. */
export function applyScenario(ctx: CoverageContext, sc: Scenario = {}): Station[] {
  // stations stored before positions were checked on import: say which, rather than leave them out unseen
  for (const s of ctx.stations) {
    const problem = positionProblem(s.lon, s.lat);
    if (problem)
      throw new UserError(
        `Station ${s.id} is at [${s.lon}, ${s.lat}], which ${problem}. Correct it and import the stations again (cityops import stations FILE).`,
      );
  }
  const known = new Set(ctx.stations.map((s) => s.id));
  for (const id of [
    ...(sc.close ?? []),
    ...(sc.move ?? []).map((m) => m.id),
    ...(sc.addUnits ?? []).map((u) => u.station),
  ]) {
    if (!known.has(id))
      throw new UserError(`There is no station ${id}. Stations: ${[...known].join(', ')}`);
  }
  const snap = (lat: number, lon: number, what: string) => {
    const s = ctx.graph.index.nearest(lon, lat, SNAP_M * 1.5);
    if (!s)
      throw new UserError(
        `${what} at ${lat}, ${lon} is off the road network "${ctx.network}" (more than ${SNAP_M * 1.5} m from a road it covers).`,
      );
    return s;
  };
  let stations = ctx.stations
    .filter((s) => !(sc.close ?? []).includes(s.id))
    .map((s) => ({ ...s, units: s.units.map((u) => ({ ...u })) }));
  for (const m of sc.move ?? []) {
    const s = stations.find((x) => x.id === m.id);
    if (!s) throw new UserError(`Station ${m.id} is closed in this scenario and cannot also move.`);
    const p = snap(m.lat, m.lon, `Station ${m.id}'s new site`);
    Object.assign(s, { lat: m.lat, lon: m.lon, node: p.node, snapM: p.distanceM });
  }
  (sc.add ?? []).forEach((a, i) => {
    const p = snap(a.lat, a.lon, 'A new station');
    const id = a.id ?? `new-${i + 1}`;
    const units = (a.units ?? [{ type: 'ENGINE' }]).map((u, k) => ({
      id: `${id}-${u.type}-${k + 1}`,
      type: u.type.toUpperCase(),
      staffing: u.staffing ?? DEFAULT_STAFFING[u.type.toUpperCase()] ?? 2,
      busyFraction: 0,
    }));
    stations.push({
      id,
      name: `New station ${i + 1}`,
      lat: a.lat,
      lon: a.lon,
      units,
      node: p.node,
      snapM: p.distanceM,
    });
  });
  for (const u of sc.addUnits ?? []) {
    const s = stations.find((x) => x.id === u.station);
    if (!s)
      throw new UserError(
        `Station ${u.station} is closed in this scenario: a unit cannot be added to it.`,
      );
    s.units.push({
      id: `${s.id}-${u.type}-added-${s.units.length + 1}`,
      type: u.type.toUpperCase(),
      staffing: u.staffing ?? DEFAULT_STAFFING[u.type.toUpperCase()] ?? 2,
      busyFraction: 0,
    });
  }
  for (const id of sc.removeUnits ?? []) {
    const s = stations.find((x) => x.units.some((u) => u.id === id));
    if (!s) throw new UserError(`There is no unit ${id} at an open station.`);
    s.units = s.units.filter((u) => u.id !== id);
  }
  stations = stations.filter((s) => s.node !== null);
  return stations;
}

export const factorOf = (ctx: CoverageContext) => ctx.calibration?.factor ?? 1;

/** Calibrated seconds from every station to every node (Infinity beyond the cutoff). */
export function stationTimes(
  ctx: CoverageContext,
  stations: Station[],
  cutoffS = Infinity,
): Float64Array[] {
  const f = factorOf(ctx);
  return stations.map((s) => {
    const t = dijkstra(ctx.graph, [s.node!], cutoffS * f).time;
    for (let i = 0; i < t.length; i++) t[i] = t[i]! / f;
    return t;
  });
}

export function coverage(
  ctx: CoverageContext,
  stations: Station[],
  o: CoverageOptions = COVERAGE_DEFAULTS,
) {
  const limit = o.minutes * 60;
  const f = factorOf(ctx);
  const nearest = dijkstra(
    ctx.graph,
    stations.map((s) => s.node!),
  );
  const time = (node: number) => nearest.time[node]! / f;
  const perStation = stationTimes(ctx, stations, Math.max(limit, o.erfMinutes * 60));
  let covered = 0,
    expected = 0,
    erf = 0;
  const byStation = stations.map(() => ({ firstDue: 0, coveredFirstDue: 0 }));
  const travel: number[] = [];
  const coveredFlags = new Uint8Array(ctx.demand.length);
  ctx.demand.forEach((d, i) => {
    const t = time(d.node);
    travel.push(t);
    const src = nearest.source[d.node]!;
    if (src >= 0) {
      byStation[src]!.firstDue++;
      if (t <= limit) byStation[src]!.coveredFirstDue++;
    }
    if (t <= limit) {
      covered++;
      coveredFlags[i] = 1;
    }
    // probabilistic: covered unless every suppression unit that can reach in time is busy (independent busy fractions)
    let pAllBusy = 1,
      staff = 0;
    stations.forEach((s, k) => {
      const tk = perStation[k]![d.node]!;
      if (tk <= limit)
        for (const u of s.units) if (SUPPRESSION.has(u.type)) pAllBusy *= u.busyFraction;
      if (tk <= o.erfMinutes * 60)
        for (const u of s.units) if (SUPPRESSION.has(u.type)) staff += u.staffing;
    });
    if (stations.some((_, k) => perStation[k]![d.node]! <= limit)) expected += 1 - pAllBusy;
    if (staff >= o.erfStaff) erf++;
  });
  const n = ctx.demand.length;
  const finite = travel.filter(Number.isFinite);
  let residents = null;
  if (ctx.residents) {
    const on = ctx.residents.units.filter((u) => u.node !== null);
    const total = on.reduce((a, u) => a + u.weight, 0),
      within = on.filter((u) => time(u.node!) <= limit).reduce((a, u) => a + u.weight, 0);
    residents = {
      layer: ctx.residents.layer,
      weighting: ctx.residents.weighting,
      units: on.length,
      leftOut: ctx.residents.units.length - on.length,
      total,
      covered: within,
      coveredShare: total ? within / total : 0,
      definition: 'each polygon counts at its centroid’s road node',
    };
  }
  return {
    minutes: o.minutes,
    network: ctx.network,
    clip: ctx.clip,
    calibration: ctx.calibration
      ? { factor: ctx.calibration.factor, fittedAt: ctx.calibration.fittedAt }
      : { factor: 1, note: 'not calibrated: posted speeds (run cityops plan calibrate)' },
    incidents: n,
    covered,
    coveredShare: n ? covered / n : 0,
    probabilistic: {
      expectedCovered: expected,
      expectedCoveredShare: n ? expected / n : 0,
      definition:
        'an incident counts as covered with probability 1 − Π busy fraction of the suppression units that reach it within the objective (busy fractions from CAD commitment time; units assumed independent)',
    },
    erf: {
      minutes: o.erfMinutes,
      staff: o.erfStaff,
      covered: erf,
      coveredShare: n ? erf / n : 0,
      definition: `suppression staffing of every station within ${o.erfMinutes} min sums to at least ${o.erfStaff}`,
    },
    predictedTravel: {
      n: finite.length,
      p50: quantile(finite, 0.5),
      p90: quantile(finite, 0.9),
      unreachable: n - finite.length,
    },
    residents,
    excluded: ctx.excluded,
    stations: stations.map((s, k) => ({
      id: s.id,
      name: s.name,
      lat: s.lat,
      lon: s.lon,
      units: s.units.map((u) => u.id),
      firstDueIncidents: byStation[k]!.firstDue,
      coveredFirstDue: byStation[k]!.coveredFirstDue,
    })),
    coveredFlags,
  };
}
export type CoverageResult = ReturnType<typeof coverage>;

/** Today against a what-if: coverage, incidents newly covered or lost, predicted p90 travel. */
export function compare(base: CoverageResult, what: CoverageResult) {
  let gained = 0,
    lost = 0;
  for (let i = 0; i < base.coveredFlags.length; i++) {
    if (what.coveredFlags[i] && !base.coveredFlags[i]) gained++;
    if (!what.coveredFlags[i] && base.coveredFlags[i]) lost++;
  }
  return {
    coveredShare: {
      today: base.coveredShare,
      scenario: what.coveredShare,
      change: what.coveredShare - base.coveredShare,
    },
    newlyCovered: gained,
    lost,
    predictedP90: { today: base.predictedTravel.p90, scenario: what.predictedTravel.p90 },
    expectedCoveredShare: {
      today: base.probabilistic.expectedCoveredShare,
      scenario: what.probabilistic.expectedCoveredShare,
    },
    erfCoveredShare: { today: base.erf.coveredShare, scenario: what.erf.coveredShare },
    residentsCoveredShare:
      base.residents && what.residents
        ? { today: base.residents.coveredShare, scenario: what.residents.coveredShare }
        : null,
  };
}

/**
 * Drive-time bands as GeoJSON: for the union and per station, the H3 resolution-9 cells (≈ 0.1 km²)
 * whose road nodes are reached within each band, merged into (multi)polygons. Also the cells outside the
 * objective (the first band), and the cells where the effective response force assembles in time. A
 * cell takes the median of its road nodes, so it is not painted as covered because one corner of it is.
 */
export function bandsGeoJson(
  ctx: CoverageContext,
  stations: Station[],
  bands: number[],
  opts: { perStation?: boolean; erf?: { minutes: number; staff: number } } = {},
) {
  const max = Math.max(...bands, opts.erf?.minutes ?? 0) * 60;
  const times = stationTimes(ctx, stations, max);
  const g = ctx.graph;
  const byCell = new Map<string, number[]>();
  for (let i = 0; i < g.n; i++) {
    if (!g.main[i]) continue;
    const c = latLngToCell(g.lat[i]!, g.lon[i]!, 9);
    const l = byCell.get(c);
    if (l) l.push(i);
    else byCell.set(c, [i]);
  }
  const median = (xs: number[]) => {
    xs.sort((a, b) => a - b);
    return xs[(xs.length - 1) >> 1]!;
  };
  const cellValue = (v: (node: number) => number) =>
    new Map([...byCell].map(([c, nodes]) => [c, median(nodes.map(v))]));
  const features: Feature<MultiPolygon>[] = [];
  const feature = (cells: string[], properties: Record<string, unknown>) => {
    if (cells.length)
      features.push({
        type: 'Feature',
        properties,
        geometry: { type: 'MultiPolygon', coordinates: cellsToMultiPolygon(cells, true) },
      });
  };
  const emit = (scope: string, station: string | null, t: Map<string, number>) =>
    bands.forEach((b, k) => {
      const lo = k === 0 ? -1 : bands[k - 1]! * 60;
      feature(
        [...t].filter(([, x]) => x > lo && x <= b * 60).map(([c]) => c),
        { station, band: `${k === 0 ? 0 : bands[k - 1]}–${b} min`, bandIndex: k, scope },
      );
    });
  if (opts.perStation ?? true)
    stations.forEach((s, k) =>
      emit(
        'station',
        s.id,
        cellValue((i) => times[k]![i]!),
      ),
    );
  const union = cellValue((i) => {
    let b = Infinity;
    for (const t of times) b = Math.min(b, t[i]!);
    return b;
  });
  emit('union', null, union);
  feature(
    [...union].filter(([, x]) => x > bands[0]! * 60).map(([c]) => c),
    { scope: 'uncovered', band: `over ${bands[0]} min` },
  );
  if (opts.erf) {
    const { minutes, staff } = opts.erf;
    const staffAt = (i: number) =>
      stations.reduce(
        (a, s, k) =>
          a +
          (times[k]![i]! <= minutes * 60
            ? s.units.filter((u) => SUPPRESSION.has(u.type)).reduce((b, u) => b + u.staffing, 0)
            : 0),
        0,
      );
    feature(
      [...cellValue(staffAt)].filter(([, x]) => x >= staff).map(([c]) => c),
      { scope: 'erf', band: `${staff} staff within ${minutes} min` },
    );
  }
  return { type: 'FeatureCollection' as const, features };
}
