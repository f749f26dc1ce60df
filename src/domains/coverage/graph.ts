import { haversineM } from '../../platform/geo.ts';
import type { RoadWay } from './osm.ts';

/**
 * The routable road graph: nodes are way vertices keyed on their coordinates (ways share exact
 * vertices at junctions), edges are directed with a travel time at posted speed in compressed sparse
 * row arrays. Calibration (a factor on speed) is applied at query time, so one graph serves every
 * factor. Routing is restricted to the largest strongly connected component, so every snapped point
 * can reach and be reached.
 */

/** Default speeds by OSM class where `maxspeed` is not tagged (km/h; US urban practice). */
export const CLASS_SPEED_KMH: Record<string, number> = {
  motorway: 88,
  motorway_link: 56,
  trunk: 72,
  trunk_link: 48,
  primary: 48,
  primary_link: 40,
  secondary: 40,
  secondary_link: 32,
  tertiary: 40,
  tertiary_link: 32,
  unclassified: 32,
  residential: 32,
  living_street: 16,
  service: 16,
  busway: 32,
  road: 32,
};
const DEFAULT_SPEED_KMH = 32;

export interface Graph {
  n: number;
  lon: Float64Array;
  lat: Float64Array;
  /** CSR: edges of node i are offsets[i]..offsets[i+1] */
  offsets: Int32Array;
  targets: Int32Array;
  seconds: Float64Array;
  /** 1 for nodes in the largest strongly connected component */
  main: Uint8Array;
  bbox: [number, number, number, number];
  onewayUnknown: number;
  index: NodeIndex;
}

export function buildGraph(ways: RoadWay[]): Graph {
  const ids = new Map<string, number>();
  const lon: number[] = [],
    lat: number[] = [];
  const node = (c: [number, number]) => {
    const k = `${c[0].toFixed(7)},${c[1].toFixed(7)}`;
    let i = ids.get(k);
    if (i === undefined) {
      i = lon.length;
      ids.set(k, i);
      lon.push(c[0]);
      lat.push(c[1]);
    }
    return i;
  };
  const from: number[] = [],
    to: number[] = [],
    secs: number[] = [];
  let onewayUnknown = 0;
  for (const w of ways) {
    if (w.onewayUnknown) onewayUnknown++;
    const kmh = w.maxspeedKmh ?? CLASS_SPEED_KMH[w.highway ?? ''] ?? DEFAULT_SPEED_KMH;
    const mps = kmh / 3.6;
    for (let j = 1; j < w.coordinates.length; j++) {
      const a = node(w.coordinates[j - 1]!),
        b = node(w.coordinates[j]!);
      if (a === b) continue;
      const s = haversineM({ lon: lon[a]!, lat: lat[a]! }, { lon: lon[b]!, lat: lat[b]! }) / mps;
      if (w.direction !== 'backward') {
        from.push(a);
        to.push(b);
        secs.push(s);
      }
      if (w.direction !== 'forward') {
        from.push(b);
        to.push(a);
        secs.push(s);
      }
    }
  }
  const n = lon.length;
  const offsets = new Int32Array(n + 1);
  for (const f of from) offsets[f + 1]!++;
  for (let i = 0; i < n; i++) offsets[i + 1]! += offsets[i]!;
  const fill = offsets.slice(0, n),
    targets = new Int32Array(from.length),
    seconds = new Float64Array(from.length);
  for (let e = 0; e < from.length; e++) {
    const k = fill[from[e]!]!++;
    targets[k] = to[e]!;
    seconds[k] = secs[e]!;
  }
  const main = largestScc(n, offsets, targets);
  const lonA = Float64Array.from(lon),
    latA = Float64Array.from(lat);
  let w = Infinity,
    s = Infinity,
    e = -Infinity,
    nn = -Infinity;
  for (let i = 0; i < n; i++) {
    w = Math.min(w, lonA[i]!);
    e = Math.max(e, lonA[i]!);
    s = Math.min(s, latA[i]!);
    nn = Math.max(nn, latA[i]!);
  }
  return {
    n,
    lon: lonA,
    lat: latA,
    offsets,
    targets,
    seconds,
    main,
    bbox: [w, s, e, nn],
    onewayUnknown,
    index: new NodeIndex(lonA, latA, main),
  };
}

/** Iterative Kosaraju: the largest strongly connected component. */
function largestScc(n: number, offsets: Int32Array, targets: Int32Array): Uint8Array {
  const order: number[] = [];
  const seen = new Uint8Array(n);
  const stack: number[] = [],
    edge: number[] = [];
  for (let s = 0; s < n; s++) {
    if (seen[s]) continue;
    seen[s] = 1;
    stack.push(s);
    edge.push(offsets[s]!);
    while (stack.length) {
      const v = stack[stack.length - 1]!,
        k = edge[edge.length - 1]!;
      if (k < offsets[v + 1]!) {
        edge[edge.length - 1] = k + 1;
        const t = targets[k]!;
        if (!seen[t]) {
          seen[t] = 1;
          stack.push(t);
          edge.push(offsets[t]!);
        }
      } else {
        order.push(v);
        stack.pop();
        edge.pop();
      }
    }
  }
  // reverse graph
  const rOff = new Int32Array(n + 1);
  for (let e = 0; e < targets.length; e++) rOff[targets[e]! + 1]!++;
  for (let i = 0; i < n; i++) rOff[i + 1]! += rOff[i]!;
  const rFill = rOff.slice(0, n),
    rT = new Int32Array(targets.length);
  for (let v = 0; v < n; v++)
    for (let k = offsets[v]!; k < offsets[v + 1]!; k++) rT[rFill[targets[k]!]!++] = v;
  const comp = new Int32Array(n).fill(-1);
  const sizes: number[] = [];
  for (let i = order.length - 1; i >= 0; i--) {
    const s = order[i]!;
    if (comp[s] !== -1) continue;
    const c = sizes.length;
    let size = 0;
    const st = [s];
    comp[s] = c;
    while (st.length) {
      const v = st.pop()!;
      size++;
      for (let k = rOff[v]!; k < rOff[v + 1]!; k++) {
        const t = rT[k]!;
        if (comp[t] === -1) {
          comp[t] = c;
          st.push(t);
        }
      }
    }
    sizes.push(size);
  }
  const best = sizes.indexOf(Math.max(...sizes));
  const main = new Uint8Array(n);
  for (let i = 0; i < n; i++) if (comp[i] === best) main[i] = 1;
  return main;
}

/** A uniform grid over the main component's nodes for nearest-node snapping. */
export class NodeIndex {
  private cells = new Map<string, number[]>();
  private readonly cellDeg = 0.002; // ≈ 180 m of latitude
  constructor(
    private lon: Float64Array,
    private lat: Float64Array,
    main: Uint8Array,
  ) {
    for (let i = 0; i < lon.length; i++) {
      if (!main[i]) continue;
      const k = this.key(Math.floor(lon[i]! / this.cellDeg), Math.floor(lat[i]! / this.cellDeg));
      let l = this.cells.get(k);
      if (!l) this.cells.set(k, (l = []));
      l.push(i);
    }
  }
  private key(x: number, y: number) {
    return `${x},${y}`;
  }
  /** The nearest main-component node within maxM metres, or null. */
  nearest(lon: number, lat: number, maxM: number): { node: number; distanceM: number } | null {
    const cx = Math.floor(lon / this.cellDeg),
      cy = Math.floor(lat / this.cellDeg);
    const cellM = this.cellDeg * 111_000 * Math.cos((lat * Math.PI) / 180); // the narrower side of a cell
    const rings = Math.ceil(maxM / cellM) + 1;
    let best = -1,
      bestD = Infinity;
    for (let r = 0; r <= rings; r++) {
      for (let x = cx - r; x <= cx + r; x++) {
        for (let y = cy - r; y <= cy + r; y++) {
          if (Math.max(Math.abs(x - cx), Math.abs(y - cy)) !== r) continue;
          for (const i of this.cells.get(this.key(x, y)) ?? []) {
            const d = haversineM({ lon, lat }, { lon: this.lon[i]!, lat: this.lat[i]! });
            if (d < bestD) {
              bestD = d;
              best = i;
            }
          }
        }
      }
      // everything outside the searched square is at least r cells away
      if (best >= 0 && bestD <= r * cellM) break;
    }
    return best >= 0 && bestD <= maxM ? { node: best, distanceM: bestD } : null;
  }
}

/** A binary min-heap of (node, time) pairs with lazy deletion. */
class Heap {
  private nodes = new Int32Array(1024);
  private keys = new Float64Array(1024);
  size = 0;
  push(node: number, key: number) {
    if (this.size === this.nodes.length) {
      const n = new Int32Array(this.size * 2);
      n.set(this.nodes);
      this.nodes = n;
      const k = new Float64Array(this.size * 2);
      k.set(this.keys);
      this.keys = k;
    }
    let i = this.size++;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (this.keys[p]! <= key) break;
      this.nodes[i] = this.nodes[p]!;
      this.keys[i] = this.keys[p]!;
      i = p;
    }
    this.nodes[i] = node;
    this.keys[i] = key;
  }
  pop(): number {
    const top = this.nodes[0]!;
    const n = this.nodes[--this.size]!,
      k = this.keys[this.size]!;
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= this.size) break;
      if (c + 1 < this.size && this.keys[c + 1]! < this.keys[c]!) c++;
      if (this.keys[c]! >= k) break;
      this.nodes[i] = this.nodes[c]!;
      this.keys[i] = this.keys[c]!;
      i = c;
    }
    this.nodes[i] = n;
    this.keys[i] = k;
    return top;
  }
  topKey(): number {
    return this.keys[0]!;
  }
}

export interface Reach {
  time: Float64Array;
  source: Int32Array;
}

/**
 * Multi-source Dijkstra in posted-speed seconds with a cutoff: every node gets the time from the
 * nearest source and which source that is (−1 and Infinity when beyond the cutoff).
 */
export function dijkstra(g: Graph, sources: number[], cutoff = Infinity): Reach {
  const time = new Float64Array(g.n).fill(Infinity),
    source = new Int32Array(g.n).fill(-1);
  const heap = new Heap();
  sources.forEach((s, k) => {
    if (s >= 0 && time[s]! > 0) {
      time[s] = 0;
      source[s] = k;
      heap.push(s, 0);
    }
  });
  while (heap.size) {
    const d = heap.topKey(),
      v = heap.pop();
    if (d > time[v]!) continue;
    for (let e = g.offsets[v]!; e < g.offsets[v + 1]!; e++) {
      const t = g.targets[e]!,
        nd = d + g.seconds[e]!;
      if (nd < time[t]! && nd <= cutoff) {
        time[t] = nd;
        source[t] = source[v]!;
        heap.push(t, nd);
      }
    }
  }
  return { time, source };
}
