/**
 * Planar kernel density with the quartic kernel (docs/collisions.md §3), as Esri's Kernel Density computes it:
 * density(x) = (1/r²) · Σ_{d_i<r} 3/π · w_i · (1 − (d_i/r)²)², per square metre, on a grid of square
 * cells whose values are taken at the cell centres. Coordinates are metres on a plane.
 */
export interface WeightedPoints {
  x: Float64Array;
  y: Float64Array;
  w: Float64Array;
}

export interface Grid {
  x0: number;
  y0: number;
  cell: number;
  cols: number;
  rows: number;
}

export interface Surface extends Grid {
  bandwidth: number;
  values: Float64Array;
}

const QUARTIC = 3 / Math.PI;

/** The grid covering the points plus one bandwidth on every side. */
export function gridAround(p: WeightedPoints, cell: number, bandwidth: number): Grid {
  let minX = Infinity,
    minY = Infinity,
    maxX = -Infinity,
    maxY = -Infinity;
  for (let i = 0; i < p.x.length; i++) {
    minX = Math.min(minX, p.x[i]!);
    maxX = Math.max(maxX, p.x[i]!);
    minY = Math.min(minY, p.y[i]!);
    maxY = Math.max(maxY, p.y[i]!);
  }
  const x0 = minX - bandwidth,
    y0 = minY - bandwidth;
  return {
    x0,
    y0,
    cell,
    cols: Math.max(1, Math.ceil((maxX + bandwidth - x0) / cell)),
    rows: Math.max(1, Math.ceil((maxY + bandwidth - y0) / cell)),
  };
}

/**
 * Esri's default search radius: 0.9 · min(SD, √(1/ln 2) · D_m) · n^−0.2, with SD the weighted standard
 * distance and D_m the weighted median distance from the weighted mean centre; n is the sum of weights.
 */
export function esriDefaultBandwidth(p: WeightedPoints): number {
  const n = p.x.length;
  let sw = 0,
    mx = 0,
    my = 0;
  for (let i = 0; i < n; i++) {
    sw += p.w[i]!;
    mx += p.w[i]! * p.x[i]!;
    my += p.w[i]! * p.y[i]!;
  }
  if (n === 0 || sw <= 0) return 0;
  mx /= sw;
  my /= sw;
  const d = new Array<[number, number]>(n);
  let ss = 0;
  for (let i = 0; i < n; i++) {
    const dd = Math.hypot(p.x[i]! - mx, p.y[i]! - my);
    d[i] = [dd, p.w[i]!];
    ss += p.w[i]! * dd * dd;
  }
  const sd = Math.sqrt(ss / sw);
  d.sort((a, b) => a[0] - b[0]);
  let acc = 0,
    dm = d[n - 1]![0];
  for (const [dist, w] of d) {
    acc += w;
    if (acc >= sw / 2) {
      dm = dist;
      break;
    }
  }
  return 0.9 * Math.min(sd, Math.sqrt(1 / Math.LN2) * dm) * Math.pow(sw, -0.2);
}

/**
 * Each point adds its kernel to the cells of its disc: per row, the columns inside the disc come from
 * one square root, and the kernel needs no branch inside the row. The work is n · (cells per disc),
 * with no index to search.
 */
export function kdeSurface(p: WeightedPoints, grid: Grid, bandwidth: number): Surface {
  const { x0, y0, cell, cols, rows } = grid;
  const values = new Float64Array(cols * rows);
  const r2 = bandwidth * bandwidth,
    inv = 1 / r2;
  for (let i = 0; i < p.x.length; i++) {
    const px = p.x[i]!,
      py = p.y[i]!,
      w = p.w[i]! * QUARTIC * inv;
    // cell centres: x0 + (c + 0.5)·cell
    const rLo = Math.max(0, Math.ceil((py - bandwidth - y0) / cell - 0.5)),
      rHi = Math.min(rows - 1, Math.floor((py + bandwidth - y0) / cell - 0.5));
    for (let r = rLo; r <= rHi; r++) {
      const dy = y0 + (r + 0.5) * cell - py,
        dy2 = dy * dy;
      if (dy2 >= r2) continue;
      const half = Math.sqrt(r2 - dy2);
      const cLo = Math.max(0, Math.ceil((px - half - x0) / cell - 0.5)),
        cHi = Math.min(cols - 1, Math.floor((px + half - x0) / cell - 0.5));
      const base = r * cols;
      for (let c = cLo; c <= cHi; c++) {
        const dx = x0 + (c + 0.5) * cell - px;
        const t = 1 - (dx * dx + dy2) * inv;
        if (t > 0) values[base + c]! += w * t * t;
      }
    }
  }
  return { ...grid, bandwidth, values };
}

/**
 * The textbook evaluation, kept as the benchmark's baseline and the tests' cross-check: for every
 * cell, the points within the bandwidth found through a uniform-grid spatial index (bucket side = the
 * bandwidth, so the 3 × 3 buckets around a cell hold every candidate).
 */
export function kdeSurfaceIndexed(p: WeightedPoints, grid: Grid, bandwidth: number): Surface {
  const { x0, y0, cell, cols, rows } = grid;
  const b = bandwidth,
    bx0 = x0 - b,
    by0 = y0 - b;
  const bCols = Math.ceil((cols * cell + 2 * b) / b) + 1,
    bRows = Math.ceil((rows * cell + 2 * b) / b) + 1;
  const counts = new Int32Array(bCols * bRows + 1);
  const bucketOf = new Int32Array(p.x.length);
  for (let i = 0; i < p.x.length; i++) {
    const bc = Math.floor((p.x[i]! - bx0) / b),
      br = Math.floor((p.y[i]! - by0) / b);
    const k = bc >= 0 && bc < bCols && br >= 0 && br < bRows ? br * bCols + bc : -1;
    bucketOf[i] = k;
    if (k >= 0) counts[k + 1]!++;
  }
  for (let k = 1; k < counts.length; k++) counts[k]! += counts[k - 1]!;
  const order = new Int32Array(p.x.length),
    fill = counts.slice(0, -1);
  for (let i = 0; i < p.x.length; i++) if (bucketOf[i]! >= 0) order[fill[bucketOf[i]!]!++] = i;
  const values = new Float64Array(cols * rows);
  const r2 = b * b,
    inv = 1 / r2;
  for (let r = 0; r < rows; r++) {
    const cy = y0 + (r + 0.5) * cell,
      br = Math.floor((cy - by0) / b);
    for (let c = 0; c < cols; c++) {
      const cx = x0 + (c + 0.5) * cell,
        bc = Math.floor((cx - bx0) / b);
      let sum = 0;
      for (let rr = Math.max(0, br - 1); rr <= Math.min(bRows - 1, br + 1); rr++) {
        for (let cc = Math.max(0, bc - 1); cc <= Math.min(bCols - 1, bc + 1); cc++) {
          const k = rr * bCols + cc;
          for (let j = counts[k]!; j < counts[k + 1]!; j++) {
            const i = order[j]!;
            const dx = cx - p.x[i]!,
              dy = cy - p.y[i]!;
            const t = 1 - (dx * dx + dy * dy) * inv;
            if (t > 0) sum += p.w[i]! * QUARTIC * inv * t * t;
          }
        }
      }
      values[r * cols + c] = sum;
    }
  }
  return { ...grid, bandwidth, values };
}

/** The PROJ definition of the plane a surface was computed on (equidistant cylindrical at the data's centre). */
export const planeProj = (origin: { lon: number; lat: number }) =>
  `+proj=eqc +lat_ts=${origin.lat} +lat_0=${origin.lat} +lon_0=${origin.lon} +R=6371008.8 +units=m +no_defs`;

/** ESRI ASCII grid (opens in QGIS and ArcGIS with the plane's PROJ definition); rows run north to south. Values per km². */
export function toAsciiGrid(s: Surface): string {
  const lines = [
    `ncols ${s.cols}`,
    `nrows ${s.rows}`,
    `xllcorner ${s.x0}`,
    `yllcorner ${s.y0}`,
    `cellsize ${s.cell}`,
    'NODATA_value -9999',
  ];
  for (let r = s.rows - 1; r >= 0; r--) {
    const row: string[] = [];
    for (let c = 0; c < s.cols; c++)
      row.push(String(Number((s.values[r * s.cols + c]! * 1e6).toPrecision(8))));
    lines.push(row.join(' '));
  }
  return lines.join('\n') + '\n';
}
