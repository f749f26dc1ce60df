import { cellToBoundary, cellToLatLng, gridDisk, latLngToCell } from 'h3-js';
import { benjaminiHochberg, normalUpperTail } from '../../platform/distributions.ts';
import { isKA, ksiPeople, type Crash } from './crashes.ts';
import { WEIGHT_SETS } from './summary.ts';
import type { HexagonCounts } from '../../contracts/collisions.ts';

/**
 * Crashes binned to H3 hexagons (docs/collisions.md §4) with counts, KSI and EPDO per cell, and Getis-Ord Gi*
 * hot spots on them (docs/collisions.md §5) with a Benjamini–Hochberg false-discovery-rate correction.
 */
/** One H3 cell's counts. */
export type HexCell = HexagonCounts;
export type HexValue = 'crashes' | 'ksi' | 'epdo';

export function hexBins(crashes: Crash[], resolution: number, weights: string): HexCell[] {
  const w = WEIGHT_SETS[weights]!;
  const cells = new Map<string, HexCell>();
  for (const c of crashes) {
    if (c.lat === null || c.lon === null) continue;
    const id = latLngToCell(c.lat, c.lon, resolution);
    let h = cells.get(id);
    if (!h) {
      const [lat, lon] = cellToLatLng(id);
      h = { cell: id, lat, lon, crashes: 0, ka: 0, ksi: 0, epdo: 0 };
      cells.set(id, h);
    }
    h.crashes++;
    if (isKA(c)) h.ka++;
    h.ksi += ksiPeople(c);
    h.epdo += w[c.severity];
  }
  return [...cells.values()].sort((a, b) => b.epdo - a.epdo || a.cell.localeCompare(b.cell));
}

export interface HotSpot {
  cell: string;
  lat: number;
  lon: number;
  value: number;
  z: number;
  p: number;
  q: number;
  class: number;
}

export interface HotSpotResult {
  method: string;
  resolution: number;
  value: HexValue;
  neighbours: number;
  features: number;
  meanValue: number;
  fdr: boolean;
  hot: number;
  cold: number;
  cells: HotSpot[];
}

/**
 * Gi* with binary weights on the k-ring (the cell itself included). The features are the cells with
 * crashes plus every cell within k of one, so zeros around the crashes take part, as Gi* requires.
 * `class` is ±3/±2/±1 for significance at 99/95/90% (after FDR when `fdr`), 0 otherwise.
 */
export function hotSpots(
  bins: HexCell[],
  opts: { resolution: number; value: HexValue; k?: number; fdr?: boolean },
): HotSpotResult {
  const k = opts.k ?? 1,
    fdr = opts.fdr ?? true;
  const value = new Map(bins.map((b) => [b.cell, b[opts.value]]));
  const features = new Set<string>();
  for (const b of bins) for (const n of gridDisk(b.cell, k)) features.add(n);
  const ids = [...features].sort();
  const x = ids.map((id) => value.get(id) ?? 0);
  const n = ids.length;
  const mean = x.reduce((a, b) => a + b, 0) / n;
  const s = Math.sqrt(x.reduce((a, b) => a + b * b, 0) / n - mean * mean);
  const at = new Map(ids.map((id, i) => [id, i]));
  const z = ids.map((id) => {
    const ring = gridDisk(id, k).filter((nb) => at.has(nb));
    const sw = ring.length; // binary weights: Σw = Σw² = neighbours in the study area
    const sum = ring.reduce((a, nb) => a + x[at.get(nb)!]!, 0);
    const den = s * Math.sqrt((n * sw - sw * sw) / (n - 1));
    return den > 0 ? (sum - mean * sw) / den : 0;
  });
  const p = z.map((v) => 2 * normalUpperTail(Math.abs(v)));
  const q = fdr ? benjaminiHochberg(p) : p;
  const cls = (i: number) => {
    const v = q[i]!;
    const level = v <= 0.01 ? 3 : v <= 0.05 ? 2 : v <= 0.1 ? 1 : 0;
    return Math.sign(z[i]!) * level;
  };
  const cells = ids
    .map((id, i) => {
      const [lat, lon] = cellToLatLng(id);
      return { cell: id, lat, lon, value: x[i]!, z: z[i]!, p: p[i]!, q: q[i]!, class: cls(i) };
    })
    .sort((a, b) => b.z - a.z);
  return {
    method: `Getis-Ord Gi* on H3 resolution ${opts.resolution}, binary weights on the ${k}-ring including the cell; two-sided normal p-values${fdr ? ', Benjamini–Hochberg FDR' : ''}`,
    resolution: opts.resolution,
    value: opts.value,
    neighbours: k,
    features: n,
    meanValue: mean,
    fdr,
    hot: cells.filter((c) => c.class > 0).length,
    cold: cells.filter((c) => c.class < 0).length,
    cells,
  };
}

/** A hexagon's outline as a closed GeoJSON ring. */
export function hexPolygon(cell: string): number[][][] {
  const ring = cellToBoundary(cell, true);
  return [[...ring, ring[0]!]];
}
