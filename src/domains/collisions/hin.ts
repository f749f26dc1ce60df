import { ksiPeople, isKA, type Crash } from './crashes.ts';
import { localPlane, normaliseRoadName, pointToSegment, type Plane } from '../../platform/geo.ts';
import { WEIGHT_SETS } from './summary.ts';
import type { HighInjuryNetwork, HinCorridor } from '../../contracts/collisions.ts';

/**
 * High-injury network by sliding windows (docs/collisions.md §6). Streets are dissolved by name into
 * chains; windows of length L move along each chain in steps of L/5; crashes are snapped to the
 * nearest street within a tolerance, preferring (by default requiring) the street their report names
 * (PRIMARY_RD), as San Francisco does. Each window scores KSI people per mile (or a weighted score per
 * mile); windows are taken best first until they hold the target share of KSI, overlapping windows merge
 * into corridors, and the result is reported as "p% of street miles carry q% of KSI".
 *
 * Without a loaded network the fallback uses the road names alone: each named road's crashes are
 * placed along the road's principal axis, and street miles are the spans between each road's outermost
 * crashes, which undercounts mileage, so p% is an upper bound there.
 */
export const MILE_M = 1609.344;

export interface RoadSegment {
  id: string;
  name: string | null;
  coordinates: [number, number][];
}

export interface HinOptions {
  windowM: number;
  stepM: number;
  toleranceM: number;
  score: 'ksi' | string;
  cover: number;
  minKa: number;
  requireNameMatch: boolean;
}
export const HIN_DEFAULTS: HinOptions = {
  windowM: 0.5 * MILE_M,
  stepM: 0.1 * MILE_M,
  toleranceM: 15,
  score: 'ksi',
  cover: 0.5,
  minKa: 0,
  requireNameMatch: true,
};

/** The network and its statement; the HTTP answer adds the filter, a note and the lines (contracts). */
export type HinResult = Omit<HighInjuryNetwork, 'note' | 'filter' | 'geojson'>;

interface Chain {
  name: string;
  pts: { x: number; y: number }[];
  cum: number[];
  length: number;
}
interface Placed {
  crash: Crash;
  chain: number;
  at: number;
}
interface Window {
  chain: number;
  from: number;
  to: number;
  score: number;
  ksi: number;
  ka: number;
  crashes: number[];
}

function cumulative(pts: { x: number; y: number }[]): number[] {
  const cum = [0];
  for (let i = 1; i < pts.length; i++)
    cum.push(cum[i - 1]! + Math.hypot(pts[i]!.x - pts[i - 1]!.x, pts[i]!.y - pts[i - 1]!.y));
  return cum;
}

/** Joins same-named segments that share end points into maximal chains (walks start at ends and junctions). */
function chainsFromNetwork(segments: RoadSegment[], plane: Plane): Chain[] {
  const byName = new Map<string, RoadSegment[]>();
  segments.forEach((s, i) => {
    const key = normaliseRoadName(s.name) ?? `#${i}`;
    let g = byName.get(key);
    if (!g) byName.set(key, (g = []));
    g.push(s);
  });
  const chains: Chain[] = [];
  const key = (p: [number, number]) => `${p[0].toFixed(7)},${p[1].toFixed(7)}`;
  for (const [name, segs] of byName) {
    const ends = new Map<string, number[]>();
    segs.forEach((s, i) => {
      for (const e of [key(s.coordinates[0]!), key(s.coordinates.at(-1)!)]) {
        let l = ends.get(e);
        if (!l) ends.set(e, (l = []));
        l.push(i);
      }
    });
    const used = new Uint8Array(segs.length);
    const walk = (start: number, fromEnd: string) => {
      const coords: [number, number][] = [];
      let i = start,
        at = fromEnd;
      for (;;) {
        used[i] = 1;
        const s = segs[i]!.coordinates;
        const forward = key(s[0]!) === at;
        const seq = forward ? s : [...s].reverse();
        coords.push(...(coords.length ? seq.slice(1) : seq));
        at = key(seq.at(-1)!);
        const next = (ends.get(at) ?? []).filter((j) => !used[j]);
        if ((ends.get(at)?.length ?? 0) !== 2 || next.length !== 1) break; // stop at a junction or an end
        i = next[0]!;
      }
      const pts = coords.map(([lon, lat]) => plane.toXY(lon, lat));
      const cum = cumulative(pts);
      chains.push({
        name: name.startsWith('#') ? '(unnamed)' : name,
        pts,
        cum,
        length: cum.at(-1)!,
      });
    };
    for (const [e, l] of ends) if (l.length !== 2) for (const i of l) if (!used[i]) walk(i, e);
    segs.forEach((s, i) => {
      if (!used[i]) walk(i, key(s.coordinates[0]!));
    }); // loops
  }
  return chains;
}

/** Snaps each crash to the nearest chain piece within the tolerance, preferring chains of the crash's named road. */
function snap(
  crashes: Crash[],
  chains: Chain[],
  plane: Plane,
  o: HinOptions,
): { placed: Placed[]; unsnapped: number } {
  const cell = Math.max(50, o.toleranceM);
  const index = new Map<string, [number, number][]>();
  chains.forEach((c, ci) => {
    for (let k = 1; k < c.pts.length; k++) {
      const a = c.pts[k - 1]!,
        b = c.pts[k]!;
      for (
        let gx = Math.floor((Math.min(a.x, b.x) - o.toleranceM) / cell);
        gx <= Math.floor((Math.max(a.x, b.x) + o.toleranceM) / cell);
        gx++
      ) {
        for (
          let gy = Math.floor((Math.min(a.y, b.y) - o.toleranceM) / cell);
          gy <= Math.floor((Math.max(a.y, b.y) + o.toleranceM) / cell);
          gy++
        ) {
          const id = `${gx},${gy}`;
          let l = index.get(id);
          if (!l) index.set(id, (l = []));
          l.push([ci, k]);
        }
      }
    }
  });
  const placed: Placed[] = [];
  let unsnapped = 0;
  for (const crash of crashes) {
    const p = plane.toXY(crash.lon!, crash.lat!);
    const name = normaliseRoadName(crash.primary);
    let best: { d: number; chain: number; at: number; match: boolean } | null = null;
    for (const [ci, k] of index.get(`${Math.floor(p.x / cell)},${Math.floor(p.y / cell)}`) ?? []) {
      const c = chains[ci]!,
        a = c.pts[k - 1]!,
        b = c.pts[k]!;
      const { d, t } = pointToSegment(p.x, p.y, a.x, a.y, b.x, b.y);
      if (d > o.toleranceM) continue;
      const match = name !== null && c.name === name;
      if (!best || (match && !best.match) || (match === best.match && d < best.d))
        best = { d, chain: ci, at: c.cum[k - 1]! + t * (c.cum[k]! - c.cum[k - 1]!), match };
    }
    if (!best || (o.requireNameMatch && name !== null && !best.match)) {
      unsnapped++;
      continue;
    }
    placed.push({ crash, chain: best.chain, at: best.at });
  }
  return { placed, unsnapped };
}

/** The road-name fallback: each road's crashes along its principal axis. */
function chainsFromNames(
  crashes: Crash[],
  plane: Plane,
  windowM: number,
): { chains: Chain[]; placed: Placed[]; unnamed: number } {
  const byName = new Map<string, Crash[]>();
  let unnamed = 0;
  for (const c of crashes) {
    const n = normaliseRoadName(c.primary);
    if (!n) {
      unnamed++;
      continue;
    }
    let g = byName.get(n);
    if (!g) byName.set(n, (g = []));
    g.push(c);
  }
  const chains: Chain[] = [],
    placed: Placed[] = [];
  for (const [name, cs] of [...byName.entries()].sort((a, b) => a[0].localeCompare(b[0]))) {
    const pts = cs.map((c) => plane.toXY(c.lon!, c.lat!));
    const mx = pts.reduce((a, p) => a + p.x, 0) / pts.length,
      my = pts.reduce((a, p) => a + p.y, 0) / pts.length;
    let sxx = 0,
      sxy = 0,
      syy = 0;
    for (const p of pts) {
      sxx += (p.x - mx) ** 2;
      sxy += (p.x - mx) * (p.y - my);
      syy += (p.y - my) ** 2;
    }
    const angle = 0.5 * Math.atan2(2 * sxy, sxx - syy),
      ux = Math.cos(angle),
      uy = Math.sin(angle);
    const t = pts.map((p) => (p.x - mx) * ux + (p.y - my) * uy);
    let lo = Math.min(...t),
      hi = Math.max(...t);
    // a road with crashes close together still has at least one window of street
    if (hi - lo < windowM) {
      const pad = (windowM - (hi - lo)) / 2;
      lo -= pad;
      hi += pad;
    }
    const ci = chains.length;
    chains.push({
      name,
      pts: [
        { x: mx + lo * ux, y: my + lo * uy },
        { x: mx + hi * ux, y: my + hi * uy },
      ],
      cum: [0, hi - lo],
      length: hi - lo,
    });
    cs.forEach((c, i) => placed.push({ crash: c, chain: ci, at: t[i]! - lo }));
  }
  return { chains, placed, unnamed };
}

function slice(c: Chain, from: number, to: number, plane: Plane): [number, number][] {
  const out: [number, number][] = [];
  const at = (m: number) => {
    let k = 1;
    while (k < c.cum.length - 1 && c.cum[k]! < m) k++;
    const seg = c.cum[k]! - c.cum[k - 1]!,
      f = seg > 0 ? (m - c.cum[k - 1]!) / seg : 0;
    const a = c.pts[k - 1]!,
      b = c.pts[k]!;
    return plane.toLonLat(a.x + f * (b.x - a.x), a.y + f * (b.y - a.y));
  };
  out.push(at(from));
  for (let k = 1; k < c.cum.length - 1; k++)
    if (c.cum[k]! > from && c.cum[k]! < to) out.push(plane.toLonLat(c.pts[k]!.x, c.pts[k]!.y));
  out.push(at(to));
  return out.map(([x, y]) => [Number(x.toFixed(6)), Number(y.toFixed(6))]);
}

export function highInjuryNetwork(
  crashes: Crash[],
  segments: RoadSegment[] | null,
  opts: Partial<HinOptions> = {},
): HinResult {
  const o: HinOptions = { ...HIN_DEFAULTS, ...opts };
  const weights = o.score === 'ksi' ? null : WEIGHT_SETS[o.score];
  if (o.score !== 'ksi' && !weights)
    throw new Error(
      `unknown score "${o.score}": ksi or a weight set (${Object.keys(WEIGHT_SETS).join(', ')})`,
    );
  const value = (c: Crash) => (weights ? weights[c.severity] : ksiPeople(c));
  const located = crashes.filter((c) => c.lat !== null && c.lon !== null);
  const noLocation = crashes.length - located.length;
  let lat = 0,
    lon = 0;
  for (const c of located) {
    lat += c.lat!;
    lon += c.lon!;
  }
  const plane = localPlane(
    located.length ? { lat: lat / located.length, lon: lon / located.length } : { lat: 0, lon: 0 },
  );
  let chains: Chain[], placed: Placed[], unsnapped: number;
  if (segments?.length) {
    chains = chainsFromNetwork(segments, plane);
    ({ placed, unsnapped } = snap(located, chains, plane, o));
  } else {
    const r = chainsFromNames(located, plane, o.windowM);
    chains = r.chains;
    placed = r.placed;
    unsnapped = r.unnamed;
  }
  const byChain = new Map<number, Placed[]>();
  for (const p of placed) {
    let l = byChain.get(p.chain);
    if (!l) byChain.set(p.chain, (l = []));
    l.push(p);
  }
  const windows: Window[] = [];
  for (const [ci, ps] of byChain) {
    ps.sort((a, b) => a.at - b.at);
    const c = chains[ci]!;
    const starts: number[] = [];
    if (c.length <= o.windowM) starts.push(0);
    else {
      for (let s = 0; s + o.windowM < c.length; s += o.stepM) starts.push(s);
      starts.push(c.length - o.windowM);
    }
    let lo = 0;
    for (const s of starts) {
      const e = Math.min(c.length, s + o.windowM);
      while (lo < ps.length && ps[lo]!.at < s) lo++;
      const inside: number[] = [];
      let score = 0,
        ksi = 0,
        ka = 0;
      for (let j = lo; j < ps.length && ps[j]!.at <= e; j++) {
        inside.push(j);
        score += value(ps[j]!.crash);
        ksi += ksiPeople(ps[j]!.crash);
        if (isKA(ps[j]!.crash)) ka++;
      }
      // a street shorter than one window is scored over a whole window, so short stubs do not outrank corridors
      if (inside.length)
        windows.push({
          chain: ci,
          from: s,
          to: e,
          score: score / (Math.max(e - s, o.windowM) / MILE_M),
          ksi,
          ka,
          crashes: inside,
        });
    }
  }
  windows.sort((a, b) => b.score - a.score || b.ka - a.ka || a.chain - b.chain || a.from - b.from);
  const totalKsi =
    located.reduce((a, c) => a + ksiPeople(c), 0) +
    crashes.filter((c) => c.lat === null).reduce((a, c) => a + ksiPeople(c), 0);
  const covered = new Set<Placed>();
  let coveredKsi = 0;
  const intervals = new Map<number, [number, number][]>();
  for (const w of windows) {
    if (coveredKsi >= o.cover * totalKsi || w.score <= 0) break;
    if (w.ka < o.minKa) continue;
    const ps = byChain.get(w.chain)!;
    for (const j of w.crashes) {
      const p = ps[j]!;
      if (!covered.has(p)) {
        covered.add(p);
        coveredKsi += ksiPeople(p.crash);
      }
    }
    let l = intervals.get(w.chain);
    if (!l) intervals.set(w.chain, (l = []));
    l.push([w.from, w.to]);
  }
  const corridors: HinCorridor[] = [];
  for (const [ci, list] of intervals) {
    list.sort((a, b) => a[0] - b[0]);
    const merged: [number, number][] = [];
    for (const iv of list) {
      const last = merged.at(-1);
      if (last && iv[0] <= last[1]) last[1] = Math.max(last[1], iv[1]);
      else merged.push([...iv]);
    }
    const c = chains[ci]!,
      ps = byChain.get(ci)!;
    for (const [from, to] of merged) {
      const inside = ps.filter((p) => p.at >= from && p.at <= to && covered.has(p));
      corridors.push({
        name: c.name,
        fromM: Math.round(from),
        toM: Math.round(to),
        miles: (to - from) / MILE_M,
        crashes: inside.length,
        ka: inside.filter((p) => isKA(p.crash)).length,
        ksi: inside.reduce((a, p) => a + ksiPeople(p.crash), 0),
        coordinates: slice(c, from, to, plane),
      });
    }
  }
  corridors.sort((a, b) => b.ksi / Math.max(b.miles, 0.01) - a.ksi / Math.max(a.miles, 0.01));
  const networkMiles = chains.reduce((a, c) => a + c.length, 0) / MILE_M;
  const hinMiles = corridors.reduce((a, c) => a + c.miles, 0);
  const years = crashes.length
    ? ([crashes[0]!.year, crashes.at(-1)!.year] as [number, number])
    : null;
  const shareOfMiles = networkMiles > 0 ? hinMiles / networkMiles : 0,
    shareOfKsi = totalKsi > 0 ? coveredKsi / totalKsi : 0;
  const method = segments?.length ? 'network' : 'road-name';
  return {
    method,
    parameters: {
      ...o,
      windowMiles: o.windowM / MILE_M,
      stepMiles: o.stepM / MILE_M,
      scoreLabel: weights ? `EPDO (${o.score}) per mile` : 'KSI people per mile',
    },
    years,
    network: {
      chains: chains.length,
      miles: networkMiles,
      basis:
        method === 'network'
          ? 'loaded road network'
          : 'span between the outermost crashes on each named road, at least one window (no network loaded)',
    },
    crashes: {
      total: crashes.length,
      ksi: totalKsi,
      snapped: placed.length,
      unsnapped,
      noLocation,
    },
    hin: {
      miles: hinMiles,
      ksi: coveredKsi,
      crashes: covered.size,
      ka: [...covered].filter((p) => isKA(p.crash)).length,
      shareOfMiles,
      shareOfKsi,
      corridors,
    },
    statement:
      `${(shareOfMiles * 100).toFixed(1)}% of street miles carry ${(shareOfKsi * 100).toFixed(1)}% of people killed or seriously injured` +
      (years ? ` (${years[0]}–${years[1]})` : ''),
  };
}

/** HIN corridors as GeoJSON LineStrings with their figures. */
export function hinGeoJson(r: HinResult) {
  return {
    type: 'FeatureCollection' as const,
    features: r.hin.corridors.map((c) => ({
      type: 'Feature' as const,
      properties: { name: c.name, miles: c.miles, crashes: c.crashes, ka: c.ka, ksi: c.ksi },
      geometry: { type: 'LineString' as const, coordinates: c.coordinates },
    })),
  };
}
