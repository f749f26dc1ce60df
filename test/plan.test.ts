import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MultiDirectedGraph } from 'graphology';
import { dijkstra as gDijkstra } from 'graphology-shortest-path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importFireFile } from '../src/domains/fire/import.ts';
import { calibrate } from '../src/domains/coverage/calibrate.ts';
import {
  applyScenario,
  compare,
  coverage,
  COVERAGE_DEFAULTS,
} from '../src/domains/coverage/coverage.ts';
import { dijkstra } from '../src/domains/coverage/graph.ts';
import {
  loadGraph,
  loadCoverageContext,
  type CoverageContext,
} from '../src/domains/coverage/context.ts';
import { placeStations, solveMclp } from '../src/domains/coverage/place.ts';
import { simulate } from '../src/domains/coverage/simulate.ts';
import { importStationsFile } from '../src/domains/coverage/stations.ts';
import { importRoadsFile } from '../src/domains/coverage/roads.ts';
import type { Store } from '../src/platform/db.ts';
import { cli, openTemp, ROOT, SF_2020, tempDir } from './helpers.ts';

const GEO = join(ROOT, 'samples/geo');
const SHARED_GEO = GEO; // copies of shared/data/geo

/** graphology's Dijkstra over the same directed edges: an independent shortest-path implementation. */
function graphologyOf(ctx: CoverageContext) {
  const g = ctx.graph;
  const gg = new MultiDirectedGraph();
  for (let v = 0; v < g.n; v++) gg.addNode(String(v));
  for (let v = 0; v < g.n; v++)
    for (let e = g.offsets[v]!; e < g.offsets[v + 1]!; e++)
      gg.addEdge(String(v), String(g.targets[e]), { s: g.seconds[e] });
  return gg;
}

describe('strategic planning on the San Francisco network and CAD file', () => {
  let store: Store, db: string, ctx: CoverageContext;
  beforeAll(async () => {
    ({ store, path: db } = await openTemp());
    await importFireFile(store, SF_2020);
    await importRoadsFile(store, join(GEO, 'sf-ne-osm-2026-drive.geojson.gz'), { source: 'sf-ne' });
    await importStationsFile(store, join(GEO, 'sf-fire-stations.geojson'));
    await calibrate(store, await loadCoverageContext(store));
    ctx = await loadCoverageContext(store);
  }, 120_000);
  afterAll(() => store.close());

  it('builds the graph the geo README describes: every vertex a node, one-way streets honoured', async () => {
    const { graph } = await loadGraph(store);
    expect(graph.n).toBe(24_768); // README: 24,768 nodes
    // README: 42,740 directed edges and a largest strongly connected component of 23,327 nodes; we keep the
    // 105 ways whose oneway tag was lost as two-way, as the README recommends, which adds a few edges
    expect(graph.targets.length).toBeGreaterThan(42_740 * 0.99);
    expect(graph.targets.length).toBeLessThan(42_740 * 1.01);
    let main = 0;
    for (const m of graph.main) main += m;
    expect(main).toBeGreaterThan(23_327 * 0.99);
    expect(graph.onewayUnknown).toBe(105);
  });

  it('OSM XML and OSM PBF of the same extract give the same network', async () => {
    const { store: s2 } = await openTemp();
    const a = await importRoadsFile(s2, join(SHARED_GEO, 'sf-mission-osm-2014.osm.gz'), {
      source: 'xml',
    });
    const b = await importRoadsFile(s2, join(SHARED_GEO, 'sf-mission-osm-2014.osm.pbf'), {
      source: 'pbf',
    });
    expect([a.format, b.format]).toEqual(['osm-xml', 'pbf']);
    expect(b.segments).toBe(a.segments);
    expect(b.lengthKm).toBeCloseTo(a.lengthKm, 6);
    const [gx, gp] = [(await loadGraph(s2, 'xml')).graph, (await loadGraph(s2, 'pbf')).graph];
    expect([gp.n, gp.targets.length]).toEqual([gx.n, gx.targets.length]);
    s2.close();
  });

  it('drive times equal graphology’s Dijkstra on the same edges', () => {
    const gg = graphologyOf(ctx);
    for (const s of ctx.stations.filter((x) => x.node !== null).slice(0, 3)) {
      const ours = dijkstra(ctx.graph, [s.node!]).time;
      const paths = gDijkstra.singleSource(gg, String(s.node), 's') as Record<string, string[]>;
      for (const [target, path] of Object.entries(paths).slice(0, 400)) {
        let t = 0;
        for (let k = 1; k < path.length; k++) {
          const v = Number(path[k - 1]),
            w = Number(path[k]);
          let best = Infinity;
          for (let e = ctx.graph.offsets[v]!; e < ctx.graph.offsets[v + 1]!; e++)
            if (ctx.graph.targets[e] === w) best = Math.min(best, ctx.graph.seconds[e]!);
          t += best;
        }
        expect(ours[Number(target)]).toBeCloseTo(t, 6);
      }
    }
  });

  it('calibration: the median calibrated error is zero by construction, and apparatus are slower than posted speeds', () => {
    const c = ctx.calibration!;
    expect(c.factor).toBeGreaterThan(0.3);
    expect(c.factor).toBeLessThan(0.9);
    expect(c.n).toBeGreaterThan(300);
    // fire.md §6: observed emergency travel p90 is a few minutes; the fit lands within a minute of it
    expect(Math.abs(c.predictedP90 - c.observedP90)).toBeLessThan(60);
  });

  it('coverage counts equal a count from one search per station', () => {
    const r = coverage(ctx, applyScenario(ctx), COVERAGE_DEFAULTS);
    const limit = 4 * 60 * ctx.calibration!.factor; // in posted-speed seconds
    const best = new Float64Array(ctx.graph.n).fill(Infinity);
    // single-source searches (checked against graphology above), minimum taken here, not by the multi-source search
    const demandNodes = [...new Set(ctx.demand.map((d) => d.node))];
    for (const s of ctx.stations.filter((x) => x.node !== null)) {
      const t = dijkstra(ctx.graph, [s.node!]).time; // single-source runs, minimum taken outside the multi-source search
      for (const n of demandNodes) best[n] = Math.min(best[n]!, t[n]!);
    }
    const covered = ctx.demand.filter((d) => best[d.node]! <= limit).length;
    expect(r.covered).toBe(covered);
    expect(r.incidents).toBe(ctx.demand.length);
    expect(r.coveredShare).toBeCloseTo(covered / ctx.demand.length, 12);
    expect(r.incidents + r.excluded.outsideNetwork + r.excluded.noLocation).toBeGreaterThan(0);
  });

  it('what-if: closing a station loses incidents, adding one only gains, and the counts reconcile', () => {
    const base = coverage(ctx, applyScenario(ctx));
    const closed = coverage(ctx, applyScenario(ctx, { close: ['36'] }));
    const c1 = compare(base, closed);
    expect(c1.newlyCovered).toBe(0);
    expect(c1.lost).toBeGreaterThan(0);
    expect(closed.covered).toBe(base.covered - c1.lost);
    expect(closed.predictedTravel.p90!).toBeGreaterThanOrEqual(base.predictedTravel.p90!);
    const added = coverage(
      ctx,
      applyScenario(ctx, { close: ['36'], add: [{ lat: 37.7716, lon: -122.4204 }] }),
    );
    const c2 = compare(closed, added);
    expect(c2.lost).toBe(0);
    expect(added.covered).toBe(closed.covered + c2.newlyCovered);
    expect(() => applyScenario(ctx, { close: ['999'] })).toThrow(/no station 999/);
    expect(() => applyScenario(ctx, { add: [{ lat: 37.9, lon: -122.6 }] })).toThrow(
      /off the road network/,
    );
  });

  it('station placement: greedy ≤ HiGHS ≤ its bound, and HiGHS finds the brute-force optimum of a small instance', async () => {
    const r = await placeStations(ctx, applyScenario(ctx, { close: ['36', '8'] }), {
      k: 2,
      minutes: 4,
      candidateResolution: 9,
      timeLimitS: 10,
    });
    expect(r.refined).not.toBeNull();
    expect(r.greedy.value).toBeLessThanOrEqual(r.refined!.value + 1e-9);
    expect(r.refined!.value).toBeLessThanOrEqual(r.refined!.bound + 1e-6);
    expect(r.best.sites).toHaveLength(2);
    // a random instance small enough to enumerate every choice of 3 sites of 12
    let seed = 11;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const weights = Array.from({ length: 40 }, () => 1 + Math.floor(rand() * 9));
    const covers = Array.from({ length: 12 }, () =>
      weights.map((_, j) => j).filter(() => rand() < 0.2),
    );
    let optimum = 0;
    for (let a = 0; a < 12; a++)
      for (let b = a + 1; b < 12; b++)
        for (let c = b + 1; c < 12; c++) {
          const set = new Set([...covers[a]!, ...covers[b]!, ...covers[c]!]);
          optimum = Math.max(
            optimum,
            [...set].reduce((s, j) => s + weights[j]!, 0),
          );
        }
    const solved = (await solveMclp(covers, weights, 3, 10))!;
    expect(solved.value).toBe(optimum);
    expect(solved.chosen).toHaveLength(3);
    expect(
      [...new Set(solved.chosen.flatMap((i) => covers[i]!))].reduce((s, j) => s + weights[j]!, 0),
    ).toBe(optimum);
  });

  it('replay simulation on today’s deployment lands near the observed first-unit travel', () => {
    const r = simulate(ctx, applyScenario(ctx));
    expect(r.incidents).toBeGreaterThan(1000);
    expect(r.observedTravel.p90).not.toBeNull();
    expect(
      Math.abs(r.simulatedTravel.p90! - r.observedTravel.p90!) / r.observedTravel.p90!,
    ).toBeLessThan(0.3);
    const fewer = simulate(ctx, applyScenario(ctx, { close: ['1', '36'] }));
    expect(fewer.simulatedTravel.p90!).toBeGreaterThan(r.simulatedTravel.p90!);
  });

  it('residents: census tracts at equal weight as a proxy, and a population layer weights them', async () => {
    const { importLayerFile } = await import('../src/domains/coverage/stations.ts');
    await importLayerFile(store, join(GEO, 'sf-tracts-2020.geojson'), 'tracts');
    const proxy = coverage(await loadCoverageContext(store), applyScenario(ctx)).residents!;
    expect(proxy.weighting).toMatch(/proxy/);
    expect(proxy.units + proxy.leftOut).toBe(241);
    // the same tracts with a population: all equal gives the proxy's share; all people in one tract gives 0 or 1
    const tracts = JSON.parse(
      (await import('node:fs')).readFileSync(join(GEO, 'sf-tracts-2020.geojson'), 'utf8'),
    );
    const file = join(tempDir(), 'population.geojson');
    const write = (pop: (id: string) => number) =>
      writeFileSync(
        file,
        JSON.stringify({
          ...tracts,
          features: tracts.features.map((f: { properties: { TRACTCE20: string } }) => ({
            ...f,
            properties: { ...f.properties, POP: pop(f.properties.TRACTCE20) },
          })),
        }),
      );
    write(() => 1000);
    await importLayerFile(store, file, 'population', { valueField: 'POP' });
    const ctx2 = await loadCoverageContext(store);
    const equal = coverage(ctx2, applyScenario(ctx2)).residents!;
    expect(equal.coveredShare).toBeCloseTo(proxy.coveredShare, 12);
    expect(equal.weighting).toMatch(/residents/);
    const nearest = dijkstra(
      ctx2.graph,
      applyScenario(ctx2).map((x) => x.node!),
    );
    const unit = (covered: boolean) =>
      ctx2.residents!.units.find(
        (u) =>
          u.node !== null && nearest.time[u.node]! / ctx2.calibration!.factor <= 240 === covered,
      )!;
    for (const covered of [true, false]) {
      write((id) => (id === unit(covered).id ? 5000 : 0));
      await importLayerFile(store, file, 'population', { valueField: 'POP' });
      const c = await loadCoverageContext(store);
      expect(coverage(c, applyScenario(c)).residents!.coveredShare).toBe(covered ? 1 : 0);
    }
    // a polygon without a count goes to the quarantine by feature number (it refused the whole file
    // before the one pipeline); a file of such polygons only leaves the layer as it was
    const before = await store.all('SELECT feature_id, value FROM map_layers ORDER BY 1');
    write(() => -1);
    const bad = await importLayerFile(store, file, 'population', { valueField: 'POP' });
    expect([bad.rowsRead, bad.quarantined, bad.inserted, bad.updated]).toEqual([
      tracts.features.length,
      tracts.features.length,
      0,
      0,
    ]);
    const q = await store.one<{ line: number; field: string; reason: string }>(
      'SELECT line, field, reason FROM quarantine WHERE batch_id = $1 ORDER BY line LIMIT 1',
      [bad.batchId],
    );
    expect(q).toEqual({ line: 1, field: 'properties.POP', reason: 'POP is "-1", not a count' });
    expect(await store.all('SELECT feature_id, value FROM map_layers ORDER BY 1')).toEqual(before);
  });

  it('the CLI (`cityops coverage`, alias `plan`) prints minutes, coveredShare, incidents and stations; stations import by CSV with units; bad rows quarantined', async () => {
    store.close();
    const whatIf = ['--minutes', '4', '--close', '36', '--add', '37.7716,-122.4204'];
    // `coverage` is the command's name (its subcommand `coverage` the default); `plan` its old alias
    const renamed = cli(['coverage', ...whatIf, '--db', db, '--json']);
    expect(renamed.status, renamed.stderr).toBe(0);
    const out = JSON.parse(
      cli([
        'plan',
        'coverage',
        '--minutes',
        '4',
        '--close',
        '36',
        '--add',
        '37.7716,-122.4204',
        '--db',
        db,
        '--json',
      ]).stdout,
    );
    expect(out).toMatchObject({ minutes: 4, incidents: ctx.demand.length });
    expect(JSON.parse(renamed.stdout)).toEqual(out);
    expect(out.coveredShare).toBeGreaterThan(0);
    expect(out.coveredShare).toBeLessThanOrEqual(1);
    expect(out.stations.map((s: { id: string }) => s.id)).not.toContain('36');
    expect(out.stations.map((s: { id: string }) => s.id)).toContain('new-1');
    expect(out.comparison).toHaveProperty('newlyCovered');
    const bands = join(tempDir(), 'bands.geojson');
    cli(['plan', 'coverage', '--geojson', bands, '--db', db]);
    const fc = JSON.parse((await import('node:fs')).readFileSync(bands, 'utf8'));
    const scopes = new Set(
      fc.features.map((f: { properties: { scope: string } }) => f.properties.scope),
    );
    expect(scopes).toEqual(new Set(['station', 'union', 'uncovered', 'erf']));
    const csv = join(tempDir(), 'stations.csv');
    writeFileSync(
      csv,
      'station,name,lat,lon,units\n1,One,37.7794565,-122.4041202,E01:ENGINE:4;T01:TRUCK\n2,Two,north,-122.40,\n',
    );
    const imp = cli(['import', 'stations', csv, '--db', db]);
    // the one import summary: the pipeline's counts, then the domain's own line
    expect(imp.stdout).toMatch(/\n {2}read {9}2\n/);
    expect(imp.stdout).toMatch(
      /\n {2}quarantined {2}1 {3}\(see: cityops quarantine list --batch \d+\)/,
    );
    expect(imp.stdout).toMatch(/\n {2}stations {5}1 \(1 with apparatus in the file/);
    ({ store } = await openTemp());
  });
});
