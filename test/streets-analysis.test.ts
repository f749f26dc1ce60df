import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { gridDisk, latLngToCell } from 'h3-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  benjaminiHochberg,
  binomialTestTwoSided,
  normalUpperTail,
  poissonInterval,
} from '../src/platform/distributions.ts';
import type { Store } from '../src/platform/db.ts';
import { evaluateActions, type Action } from '../src/domains/collisions/actions.ts';
import { loadCrashes, type Crash } from '../src/domains/collisions/crashes.ts';
import { localPlane, normaliseRoadName } from '../src/platform/geo.ts';
import { hexBins, hotSpots } from '../src/domains/collisions/hex.ts';
import { highInjuryNetwork, MILE_M, type RoadSegment } from '../src/domains/collisions/hin.ts';
import { importCollisionsFile } from '../src/domains/collisions/import.ts';
import {
  esriDefaultBandwidth,
  gridAround,
  kdeSurface,
  kdeSurfaceIndexed,
} from '../src/domains/collisions/kde.ts';
import {
  hinQuery,
  HinQuerySchema,
  rankQuery,
  RankQuerySchema,
  targetQuery,
  TargetQuerySchema,
} from '../src/domains/collisions/queries.ts';
import { rankLocations } from '../src/domains/collisions/rank.ts';
import { targetProgress } from '../src/domains/collisions/target.ts';
import { importRoadsFile } from '../src/domains/coverage/roads.ts';
import { cli, openTemp, ROOT, tempDir } from './helpers.ts';

const SHARED = join(ROOT, '../shared/data/collisions/slo_county_tims_crashes_2011_2020.csv.gz');
const SLO = existsSync(SHARED)
  ? SHARED
  : join(ROOT, 'samples/collisions/slo_county_tims_crashes_2011_2020.csv.gz');
const SHARED_ROADS = join(ROOT, '../shared/data/geo/sf-ne-osm-2026-drive.geojson.gz');
const ROADS = existsSync(SHARED_ROADS)
  ? SHARED_ROADS
  : join(ROOT, 'samples/geo/sf-ne-osm-2026-drive.geojson.gz');

function crash(over: Partial<Crash>): Crash {
  const date = over.date ?? '2019-06-01';
  return {
    id: Math.random().toString(36).slice(2),
    date,
    year: Number(date.slice(0, 4)),
    month: Number(date.slice(5, 7)),
    minute: 600,
    severity: 'C',
    killed: 0,
    injured: 1,
    severe: 0,
    pedestrian: false,
    bicycle: false,
    motorcycle: false,
    lat: 37.77,
    lon: -122.42,
    primary: null,
    secondary: null,
    intersection: null,
    distanceFt: null,
    city: null,
    ...over,
  };
}

/** A deterministic pseudo-random generator, so tests see the same numbers every run. */
function rng(seed: number) {
  return () => (seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32;
}

describe('exact distributions', () => {
  it('Garwood intervals match published values', () => {
    const [lo, hi] = poissonInterval(10);
    expect(lo).toBeCloseTo(4.795389, 5);
    expect(hi).toBeCloseTo(18.390356, 5);
    expect(poissonInterval(0)[0]).toBe(0);
    expect(poissonInterval(0)[1]).toBeCloseTo(3.688879, 5);
  });
  it('the conditional binomial test reproduces streets.md’s Carlsbad examples (exact sums computed with rational arithmetic)', () => {
    // car injury collisions 354 → 308 and bike 100 → 80: neither change is significant at 95%
    expect(binomialTestTwoSided(308, 662, 0.5)).toBeCloseTo(0.0802170009430972, 10);
    expect(binomialTestTwoSided(80, 180, 0.5)).toBeCloseTo(0.1565314695781511, 10);
  });
  it('normal tail and Benjamini–Hochberg', () => {
    expect(normalUpperTail(1.959963985)).toBeCloseTo(0.025, 9);
    expect(normalUpperTail(0)).toBeCloseTo(0.5, 12);
    // q_i = min over j ≥ i of p_(j)·m/j
    expect(benjaminiHochberg([0.01, 0.04, 0.03, 0.5])).toEqual(
      [0.04, (0.04 * 4) / 3, (0.04 * 4) / 3, 0.5].map((x) => expect.closeTo(x, 12)),
    );
  });
});

describe('kernel density', () => {
  const r = rng(7);
  const n = 3000;
  const pts = { x: new Float64Array(n), y: new Float64Array(n), w: new Float64Array(n) };
  for (let i = 0; i < n; i++) {
    pts.x[i] = r() * 3000;
    pts.y[i] = r() * 2000;
    pts.w[i] = [1, 6, 11, 29, 542][Math.floor(r() * 5)]!;
  }

  it('the scatter and the indexed evaluations agree to 1e-9 in every cell', () => {
    const grid = gridAround(pts, 25, 300);
    const a = kdeSurface(pts, grid, 300),
      b = kdeSurfaceIndexed(pts, grid, 300);
    let worst = 0;
    for (let i = 0; i < a.values.length; i++) {
      const d = Math.abs(a.values[i]! - b.values[i]!);
      if (d > 0)
        worst = Math.max(worst, d / Math.max(Math.abs(a.values[i]!), Math.abs(b.values[i]!)));
    }
    expect(worst).toBeLessThan(1e-9);
  });
  it('a kernel integrates to its weight, and one cell equals the formula by hand', () => {
    const one = { x: Float64Array.of(0), y: Float64Array.of(0), w: Float64Array.of(5) };
    const s = kdeSurface(one, gridAround(one, 2, 100), 100);
    const total = s.values.reduce((a, v) => a + v, 0) * 4;
    expect(total).toBeCloseTo(5, 3);
    // cell (col, row) has centre x0 + (c + 0.5)·cell; the point sits at (0, 0), x0 = y0 = −100
    const c = 60,
      row = 45,
      dx = -100 + (c + 0.5) * 2,
      dy = -100 + (row + 0.5) * 2;
    expect(s.values[row * s.cols + c]).toBeCloseTo(
      (1 / 100 ** 2) * (3 / Math.PI) * 5 * (1 - (dx * dx + dy * dy) / 100 ** 2) ** 2,
      15,
    );
  });
  it('Esri’s default bandwidth from its definition', () => {
    // four points on a 100 m square around (0, 0): SD = Dm = 100·√2/2·… computed by hand
    const sq = {
      x: Float64Array.of(-50, 50, 50, -50),
      y: Float64Array.of(-50, -50, 50, 50),
      w: Float64Array.of(1, 1, 1, 1),
    };
    const d = Math.hypot(50, 50);
    expect(esriDefaultBandwidth(sq)).toBeCloseTo(
      0.9 * Math.min(d, Math.sqrt(1 / Math.LN2) * d) * 4 ** -0.2,
      10,
    );
  });
});

describe('Gi* hot spots on H3', () => {
  it('matches the Getis-Ord formula evaluated directly with an explicit weights matrix', () => {
    const r = rng(3);
    const crashes: Crash[] = [];
    for (let i = 0; i < 400; i++)
      crashes.push(
        crash({
          lat: 37.76 + r() * 0.03,
          lon: -122.44 + r() * 0.03,
          severity: r() < 0.1 ? 'A' : 'C',
        }),
      );
    for (let i = 0; i < 60; i++)
      crashes.push(
        crash({ lat: 37.775 + r() * 0.002, lon: -122.425 + r() * 0.002, severity: 'B' }),
      ); // a cluster
    const bins = hexBins(crashes, 9, 'hsm');
    const result = hotSpots(bins, { resolution: 9, value: 'crashes', k: 1, fdr: true });
    const byCell = new Map(bins.map((b) => [b.cell, b.crashes]));
    const ids = new Set<string>();
    for (const b of bins) for (const nb of gridDisk(b.cell, 1)) ids.add(nb);
    const all = [...ids];
    const x = all.map((id) => byCell.get(id) ?? 0),
      n = all.length;
    const mean = x.reduce((a, b) => a + b, 0) / n,
      S = Math.sqrt(x.reduce((a, b) => a + b * b, 0) / n - mean ** 2);
    for (const id of all.slice(0, 40)) {
      const w = all.map((j) => (gridDisk(id, 1).includes(j) ? 1 : 0));
      const sw = w.reduce((a: number, b) => a + b, 0),
        sw2 = w.reduce((a: number, b) => a + b * b, 0);
      const z =
        (w.reduce((a: number, wi, j) => a + wi * x[j]!, 0) - mean * sw) /
        (S * Math.sqrt((n * sw2 - sw * sw) / (n - 1)));
      expect(result.cells.find((c) => c.cell === id)!.z).toBeCloseTo(z, 10);
    }
    expect(result.features).toBe(n);
    const hot = result.cells.filter((c) => c.class > 0).map((c) => c.cell);
    expect(hot).toContain(latLngToCell(37.776, -122.424, 9));
  });
});

describe('rankings', () => {
  it('normalises names, treats the pair as unordered, and ties share a rank', () => {
    const cs = [
      crash({
        primary: 'Main Street',
        secondary: 'EL CAMINO REAL',
        intersection: true,
        severity: 'K',
        killed: 1,
      }),
      crash({ primary: 'EL CAMINO REAL', secondary: 'MAIN ST', distanceFt: 40, severity: 'C' }),
      crash({
        primary: 'OAK AVE',
        secondary: '1st st',
        intersection: true,
        severity: 'A',
        severe: 1,
      }),
      crash({
        primary: 'PINE AV',
        secondary: 'ELM ST',
        intersection: true,
        severity: 'A',
        severe: 1,
      }),
      crash({ primary: 'MAIN ST', secondary: 'ELM ST', distanceFt: 900, severity: 'A' }),
    ];
    const r = rankLocations(cs, { kind: 'intersection', by: 'ka', weights: 'hsm', top: 10 });
    expect(r.locations.map((l) => [l.rank, l.name, l.crashes])).toEqual([
      [1, 'EL CAMINO REAL & MAIN ST', 2],
      [1, '1ST ST & OAK AVE', 1],
      [1, 'ELM ST & PINE AVE', 1],
    ]);
    expect(r.unplaced).toBe(1);
    expect(normaliseRoadName('US-101 (N/B)')).toBe('RT 101');
    expect(normaliseRoadName('SR 46')).toBe('RT 46');
  });
});

describe('SLO County: rankings, HIN and target on the real file', () => {
  let store: Store;
  beforeAll(async () => {
    ({ store } = await openTemp());
    await importCollisionsFile(store, SLO);
  });
  afterAll(() => store.close());

  it('corridor ranking accounts for every crash, and its counts add up', async () => {
    const r = await rankQuery(
      store,
      RankQuerySchema.parse({ kind: 'corridor', by: 'crashes', top: 10000 }),
    );
    expect(r.locations.reduce((a, l) => a + l.crashes, 0) + r.unplaced).toBe(10667);
    expect(r.locations.reduce((a, l) => a + (l.bySeverity.K ?? 0), 0)).toBeLessThanOrEqual(283);
    const top = await rankQuery(
      store,
      RankQuerySchema.parse({ kind: 'corridor', by: 'crashes', top: 1 }),
    );
    expect(top.locations[0]!.name).toBe('RT 101');
  });

  it('HIN by road name: the selection holds ≥ the cover share and the figures reconcile', async () => {
    const r = await hinQuery(store, HinQuerySchema.parse({}));
    expect(r.method).toBe('road-name');
    expect(r.filter).toEqual({ from: 2016, to: 2020 });
    // README: people killed + severely injured 2016–2020 = 163 + 167 + 220 + 224 + 162
    expect(r.crashes.ksi).toBe(163 + 167 + 220 + 224 + 162);
    expect(r.hin.shareOfKsi).toBeGreaterThanOrEqual(0.5);
    expect(r.hin.corridors.reduce((a, c) => a + c.ksi, 0)).toBe(r.hin.ksi);
    expect(r.hin.miles).toBeCloseTo(
      r.hin.corridors.reduce((a, c) => a + c.miles, 0),
      9,
    );
    expect(r.hin.shareOfMiles).toBeLessThan(0.2);
    expect(r.statement).toMatch(
      /^\d+\.\d% of street miles carry 5\d\.\d% of people killed or seriously injured \(2016–2020\)$/,
    );
  });

  it('target: a year the data starts in the middle of is not a baseline year', () => {
    const cs = [
      crash({ date: '2015-07-01' }),
      ...[2016, 2017, 2018, 2019].flatMap((y) => [
        crash({ date: `${y}-01-05` }),
        crash({ date: `${y}-12-20` }),
      ]),
    ];
    expect(() =>
      targetProgress(cs, {
        metric: 'crashes',
        baselineYears: 1,
        baselineYear: 2015,
        reduction: 0.19,
      }),
    ).toThrow(/complete years 2015/);
    const r = targetProgress(cs, { metric: 'crashes', baselineYears: 1, reduction: 0.19 })!;
    expect(r.baseline.years).toEqual([2016]);
    expect(r.years.find((y) => y.year === 2015)!.complete).toBe(false);
  });

  it('target: baseline, glide path and the significance test against independent values', async () => {
    const r = await targetQuery(
      store,
      TargetQuerySchema.parse({
        metric: 'injury',
        baselineYear: 2011,
        baselineYears: 1,
        reduction: 0.19,
        targetYear: 2016,
      }),
    );
    expect(r.baseline).toMatchObject({ value: 1054, total: 1054 });
    expect(r.target.value).toBeCloseTo(1054 * 0.81, 9);
    expect(r.years.find((y) => y.year === 2013)!.glidePath).toBeCloseTo(
      1054 - ((1054 - 1054 * 0.81) * 2) / 5,
      9,
    );
    expect(r.latest12).toMatchObject({ value: 848, significant: true });
    expect(r.latest12!.pValue).toBeCloseTo(2.539754063805392e-6, 12);
    const k = await targetQuery(
      store,
      TargetQuerySchema.parse({ metric: 'ksi', baselineYear: 2015, baselineYears: 3 }),
    );
    expect(k.baseline.total).toBe(154 + 160 + 155);
    expect(k.latest12).toMatchObject({ value: 162, significant: false });
    expect(k.latest12!.pValue).toBeCloseTo(0.713046915102745, 10); // exact binomial, rational arithmetic
    expect(k.latest12!.verdict).toMatch(/can happen by chance/);
  });
});

describe('HIN on a loaded road network (SF OpenStreetMap, crashes placed on known streets)', () => {
  let store: Store;
  let segments: RoadSegment[];
  beforeAll(async () => {
    ({ store } = await openTemp());
    const s = await importRoadsFile(store, ROADS);
    const doc = JSON.parse(gunzipSync(readFileSync(ROADS)).toString('utf8'));
    // every way of the file but those closed to the public
    expect(s.segments).toBe(
      doc.features.filter(
        (f: { properties: { access: string | null } }) =>
          !['private', 'no'].includes(f.properties.access ?? ''),
      ).length,
    );
    segments = doc.features.map(
      (f: {
        properties: { osm_id: string; name: string | null };
        geometry: { coordinates: [number, number][] };
      }) => ({
        id: f.properties.osm_id,
        name: f.properties.name,
        coordinates: f.geometry.coordinates,
      }),
    );
  });
  afterAll(() => store.close());

  it('re-importing the same file leaves the same network', async () => {
    const before = await store.one<{ n: number; len: number }>(
      'SELECT count(*) AS n, sum(length_m) AS len FROM road_segments',
    );
    await importRoadsFile(store, ROADS);
    expect(
      await store.one('SELECT count(*) AS n, sum(length_m) AS len FROM road_segments'),
    ).toEqual(before);
  });

  it('finds the stretch where the severe crashes are, with coverage statistics computed from the network', () => {
    // KSI crashes on the vertices of one Mission Street way, minor ones scattered on other streets
    const mission = segments
      .filter((s) => s.name === 'Mission Street')
      .sort((a, b) => b.coordinates.length - a.coordinates.length)[0]!;
    const crashes: Crash[] = mission.coordinates.slice(0, 6).map(([lon, lat], i) =>
      crash({
        lon,
        lat,
        primary: 'MISSION ST',
        severity: 'A',
        severe: 2,
        date: `2020-0${1 + i}-10`,
      }),
    );
    const others = segments.filter((s) => s.name && s.name !== 'Mission Street').slice(0, 40);
    for (const s of others)
      crashes.push(
        crash({
          lon: s.coordinates[0]![0],
          lat: s.coordinates[0]![1],
          primary: s.name,
          severity: 'C',
        }),
      );
    crashes.push(
      crash({ lon: -122.4, lat: 37.785, primary: 'NOT A STREET HERE', severity: 'A', severe: 1 }),
    ); // cannot be snapped
    const r = highInjuryNetwork(crashes, segments, { cover: 0.9 });
    expect(r.method).toBe('network');
    expect(r.crashes.ksi).toBe(6 * 2 + 1);
    expect(r.crashes.unsnapped).toBe(1);
    expect(r.hin.ksi).toBe(12); // all of Mission Street's, none else has KSI
    expect(r.hin.shareOfKsi).toBeCloseTo(12 / 13, 12);
    expect(new Set(r.hin.corridors.map((c) => c.name))).toEqual(new Set(['MISSION ST']));
    const total =
      segments.reduce((a, s) => {
        const p = localPlane({ lon: s.coordinates[0]![0], lat: s.coordinates[0]![1] });
        let len = 0;
        for (let i = 1; i < s.coordinates.length; i++) {
          const a1 = p.toXY(...s.coordinates[i - 1]!),
            b1 = p.toXY(...s.coordinates[i]!);
          len += Math.hypot(b1.x - a1.x, b1.y - a1.y);
        }
        return a + len;
      }, 0) / MILE_M;
    expect(r.network.miles).toBeCloseTo(total, 0);
    expect(r.hin.shareOfMiles).toBeCloseTo(r.hin.miles / r.network.miles, 12);
    expect(r.hin.miles).toBeLessThan(1.5);
  });
});

describe('before/after evaluation', () => {
  const site: Action = {
    id: 1,
    kind: 'engineering',
    title: 'Road diet',
    lat: 37.77,
    lon: -122.42,
    radiusM: 100,
    started: '2018-01-01',
    finished: '2018-01-01',
    createdBy: null,
    createdAt: '',
  };
  const crashes: Crash[] = [];
  const add = (n: number, year: number, at: boolean) => {
    for (let i = 0; i < n; i++)
      crashes.push(
        crash({
          date: `${year}-0${1 + (i % 9)}-15`,
          lat: at ? 37.77 : 37.8,
          lon: at ? -122.42 : -122.45,
        }),
      );
  };
  // treated: 12 before (2015–2017), 6 after (2018–2020); comparison: 300 before, 270 after
  add(4, 2015, true);
  add(4, 2016, true);
  add(4, 2017, true);
  add(2, 2018, true);
  add(2, 2019, true);
  add(2, 2020, true);
  add(100, 2015, false);
  add(100, 2016, false);
  add(100, 2017, false);
  add(90, 2018, false);
  add(90, 2019, false);
  add(90, 2020, false);
  crashes.push(crash({ date: '2020-12-31', lat: 37.8, lon: -122.45 }));
  crashes.sort((a, b) => a.date.localeCompare(b.date));

  it('naive, comparison group and Empirical Bayes follow their formulas', () => {
    const r = evaluateActions(crashes, [site], {
      years: 3,
      spf: {
        a: -2,
        b: 0.5,
        k: 0.4,
        sites: { '1': { lengthMiles: 0.5, aadtBefore: 10000, aadtAfter: 11000 } },
      },
    });
    expect(r.sites[0]).toMatchObject({ before: 12, after: 6 });
    const { beforeYears: tB, afterYears: tA } = r.sites[0]!;
    expect(r.naive.cmf).toBeCloseTo(6 / tA / (12 / tB), 12);
    const cg = r.comparisonGroup as { cmf: number };
    const E = 12 * (271 / 300),
      rel = 1 / 12 + 1 / 300 + 1 / 271;
    expect(cg.cmf).toBeCloseTo(6 / E / (1 + rel), 12);
    const eb = r.empiricalBayes as { cmf: number; sites: { weight: number }[] };
    const pred = (aadt: number) => Math.exp(-2 + 0.5 * Math.log(aadt) + Math.log(0.5));
    const pB = pred(10000) * tB,
      pA = pred(11000) * tA,
      w = 1 / (1 + 0.4 * pB);
    const expB = w * pB + (1 - w) * 12,
      ratio = pA / pB,
      expA = expB * ratio,
      v = ratio ** 2 * (1 - w) * expB;
    expect(eb.sites[0]!.weight).toBeCloseTo(w, 12);
    expect(eb.cmf).toBeCloseTo(6 / expA / (1 + v / expA ** 2), 12);
  });
});

describe('collision profiles', () => {
  let store: Store;
  beforeAll(async () => {
    ({ store } = await openTemp());
  });
  afterAll(() => store.close());
  const fixture = (name: string) => join(ROOT, 'test/fixtures', name);

  it('switrs: tab-separated, YYYYMMDD, HHMM without zeros, 2500 unknown, PDO, unsigned longitudes, outliers flagged', async () => {
    const s = await importCollisionsFile(store, fixture('switrs-collisions.txt'), {
      profile: 'switrs',
    });
    expect(s).toMatchObject({ rowsRead: 7, inserted: 6, quarantined: 1 });
    expect(s.warnings).toMatchObject({
      longitude_sign_fixed: 5,
      unknown_time: 1,
      outside_area: 1,
      no_location: 1,
    });
    const rows = await store.all<{
      case_id: string;
      d: string;
      minute: number | null;
      severity: string;
      lon: number | null;
      note: string | null;
    }>(
      `SELECT case_id, strftime(collision_date, '%Y-%m-%d') AS d, collision_minute AS minute, severity, lon, location_note AS note FROM collisions WHERE source = 'switrs' ORDER BY case_id`,
    );
    expect(rows[0]).toEqual({
      case_id: '0726202',
      d: '2019-03-07',
      minute: 7 * 60,
      severity: 'O',
      lon: -117.3,
      note: null,
    });
    expect(rows.find((r) => r.case_id === '0726205')).toMatchObject({
      minute: null,
      severity: 'K',
    });
    expect(rows.find((r) => r.case_id === '0726206')).toMatchObject({
      lon: null,
      note: 'outside_area',
    });
    const q = await store.one<{ line: number; field: string }>(
      'SELECT line, field FROM quarantine WHERE batch_id = $1',
      [s.batchId],
    );
    expect(q).toEqual({ line: 8, field: 'COLLISION_SEVERITY' });
    expect(
      await importCollisionsFile(store, fixture('switrs-collisions.txt'), { profile: 'switrs' }),
    ).toMatchObject({ inserted: 0, unchanged: 6 });
  });

  it('nyc: killed → K, injured → I (level unknown), modes from the per-mode counts', async () => {
    const s = await importCollisionsFile(store, fixture('nyc-crashes.csv'), { profile: 'nyc' });
    expect(s).toMatchObject({ rowsRead: 4, inserted: 4, quarantined: 0 });
    const rows = await store.all<{
      case_id: string;
      severity: string;
      pedestrian: boolean;
      bicycle: boolean;
      minute: number;
      lat: number | null;
    }>(
      `SELECT case_id, severity, pedestrian, bicycle, collision_minute AS minute, lat FROM collisions WHERE source = 'nyc' ORDER BY case_id`,
    );
    expect(rows.map((r) => [r.case_id, r.severity, r.pedestrian, r.bicycle])).toEqual([
      ['4000001', 'K', true, false],
      ['4000002', 'I', false, true],
      ['4000003', 'O', false, false],
      ['4000004', 'I', false, false],
    ]);
    expect(rows[0]!.minute).toBe(17 * 60 + 5);
    expect(rows[3]!.lat).toBeNull(); // 0,0 is no location
  });

  it('ccrs: severity is the worst injured person; witnesses are not victims; count disagreements are reported', async () => {
    const s = await importCollisionsFile(store, fixture('ccrs-crashes.csv'), {
      profile: 'ccrs',
      injured: fixture('ccrs-iwp.csv'),
    });
    expect(s).toMatchObject({ inserted: 3 });
    expect(s.warnings).toMatchObject({ killed_count_disagrees_with_injured_people: 1 });
    const rows = await store.all<{
      case_id: string;
      severity: string;
      severe: number;
      pedestrian: boolean;
    }>(
      `SELECT case_id, severity, severe_injured AS severe, pedestrian FROM collisions WHERE source = 'ccrs' ORDER BY case_id`,
    );
    expect(rows).toEqual([
      { case_id: '9100001', severity: 'A', severe: 2, pedestrian: true },
      { case_id: '9100002', severity: 'K', severe: 0, pedestrian: false },
      { case_id: '9100003', severity: 'O', severe: 0, pedestrian: false },
    ]);
    await expect(
      importCollisionsFile(store, fixture('ccrs-crashes.csv'), { profile: 'ccrs' }),
    ).rejects.toThrow(/--injured/);
  });

  it('a mapping file reads any other export, and a bad mapping lists its problems', async () => {
    const s = await importCollisionsFile(store, fixture('city-crashes.csv'), {
      mapping: fixture('city-crashes-mapping.yaml'),
    });
    expect(s).toMatchObject({ rowsRead: 3, inserted: 3 });
    const r = await store.all<{ severity: string }>(
      `SELECT severity FROM collisions WHERE source = 'mapping' ORDER BY case_id`,
    );
    expect(r.map((x) => x.severity)).toEqual(['K', 'B', 'O']);
    const bad = cli([
      'import',
      'collisions',
      fixture('city-crashes.csv'),
      '--mapping',
      fixture('vendor-mapping.yaml'),
      '--db',
      join(tempDir(), 'x.duckdb'),
    ]);
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/mapping file .* is not valid/);
  });

  it('filters: district polygon, mode, hours (wrapping midnight)', async () => {
    const all = await loadCrashes(store, {});
    const district = JSON.stringify({
      type: 'Polygon',
      coordinates: [
        [
          [-74.1, 40.6],
          [-73.8, 40.6],
          [-73.8, 40.9],
          [-74.1, 40.9],
          [-74.1, 40.6],
        ],
      ],
    });
    const inside = await loadCrashes(store, { district });
    expect(inside.crashes.every((c) => c.lon! > -74.1 && c.lon! < -73.8)).toBe(true);
    expect(inside.crashes.length).toBeGreaterThan(0);
    expect(inside.crashes.length).toBeLessThan(all.crashes.length);
    const night = await loadCrashes(store, { hours: '22-5' });
    expect(
      night.crashes.every((c) => c.minute !== null && (c.minute >= 22 * 60 || c.minute < 6 * 60)),
    ).toBe(true);
    const allDay = await loadCrashes(store, { hours: '0-23' });
    expect(allDay.crashes.length).toBe(all.crashes.filter((c) => c.minute !== null).length);
    const ped = await loadCrashes(store, { mode: ['pedestrian'] });
    expect(ped.crashes.every((c) => c.pedestrian)).toBe(true);
  });
});

describe('the streets CLI, as a user runs it', () => {
  let db: string;
  beforeAll(async () => {
    const t = await openTemp();
    db = t.path;
    await importCollisionsFile(t.store, SLO);
    t.store.close();
  });
  const run = (args: string[]) => {
    const r = cli([...args, '--db', db]);
    if (r.status !== 0) throw new Error(`cityops ${args.join(' ')} failed: ${r.stderr}`);
    return r.stdout;
  };

  it('hotspots, rank, hin and target print JSON with their definitions and counts', () => {
    const hot = JSON.parse(
      run(['streets', 'hotspots', '--resolution', '10', '--value', 'ksi', '--json']),
    );
    expect(hot).toMatchObject({
      resolution: 10,
      value: 'ksi',
      fdr: true,
      crashes: 10586,
      excluded: { noLocation: 81 },
    });
    expect(
      hot.cells.every((c: { q: number; class: number }) => (c.class > 0 ? c.q <= 0.1 : true)),
    ).toBe(true);
    const rank = JSON.parse(
      run([
        'streets',
        'rank',
        '--kind',
        'corridor',
        '--by',
        'ksi',
        '--from',
        '2016',
        '--top',
        '3',
        '--json',
      ]),
    );
    expect(rank.locations.map((l: { name: string }) => l.name)).toEqual([
      'RT 101',
      'RT 46',
      'RT 1',
    ]);
    const hin = JSON.parse(
      run(['streets', 'hin', '--window-miles', '0.25', '--cover', '0.6', '--json']),
    );
    expect(hin.parameters).toMatchObject({ windowMiles: 0.25, stepMiles: 0.05, cover: 0.6 });
    expect(hin.hin.shareOfKsi).toBeGreaterThanOrEqual(0.6);
    const target = JSON.parse(
      run([
        'streets',
        'target',
        '--metric',
        'ka',
        '--baseline-years',
        '5',
        '--baseline-year',
        '2015',
        '--json',
      ]),
    );
    // KA crashes 2011–2015 from the README: (21+85) + (27+95) + (25+107) + (28+114) + (33+98)
    expect(target.baseline.total).toBe(106 + 122 + 132 + 142 + 131);
    expect(target.years.find((y: { year: number }) => y.year === 2020).value).toBe(18 + 121);
  });

  it('kde writes an ESRI ASCII grid whose cells sum to the total weight', () => {
    const dir = tempDir(),
      out = join(dir, 'kde.asc'),
      district = join(dir, 'paso-robles.geojson');
    writeFileSync(
      district,
      JSON.stringify({
        type: 'Feature',
        properties: {},
        geometry: {
          type: 'Polygon',
          coordinates: [
            [
              [-120.72, 35.6],
              [-120.65, 35.6],
              [-120.65, 35.66],
              [-120.72, 35.66],
              [-120.72, 35.6],
            ],
          ],
        },
      }),
    );
    const info = JSON.parse(
      run([
        'streets',
        'kde',
        '--district',
        district,
        '--bandwidth',
        '300',
        '--cell',
        '25',
        '--weight',
        'count',
        '--out',
        out,
        '--json',
      ]),
    );
    const lines = readFileSync(out, 'utf8').trim().split('\n');
    expect(lines.slice(0, 2)).toEqual([`ncols ${info.cols}`, `nrows ${info.rows}`]);
    const sum = lines
      .slice(6)
      .reduce((a, l) => a + l.split(' ').reduce((b, v) => b + Number(v), 0), 0);
    // per km² × cell area (km²) = each crash contributes ≈ 1 (the discretised kernel integrates to ~1)
    expect((sum * (25 * 25)) / 1e6).toBeCloseTo(info.crashes, -1);
  });

  it('records an action and evaluates it; bad input gets a clear message', () => {
    const added = JSON.parse(
      run([
        'streets',
        'action',
        'add',
        '--kind',
        'engineering',
        '--title',
        'Signal retiming',
        '--lat',
        '35.6265',
        '--lon',
        '-120.6909',
        '--radius-m',
        '200',
        '--started',
        '2016-06-01',
        '--json',
      ]),
    );
    expect(added).toMatchObject({ id: 1, kind: 'engineering', radiusM: 200 });
    const r = JSON.parse(run(['streets', 'action', 'evaluate', '1', '--years', '3', '--json']));
    expect(r.naive.caution).toMatch(/regression to the mean/);
    expect(r.sites[0].before + r.sites[0].after).toBeGreaterThan(0);
    const bad = cli([
      'streets',
      'action',
      'add',
      '--kind',
      'paint',
      '--title',
      'x',
      '--lat',
      '99',
      '--lon',
      '0',
      '--started',
      '2016-13-01',
      '--db',
      db,
    ]);
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/kind[\s\S]*title[\s\S]*lat[\s\S]*started/);
  });
});
