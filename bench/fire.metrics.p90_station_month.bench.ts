/**
 * fire.metrics.p90_station_month: exact p90 of turnout and travel by station × month over 5,000,000
 * synthetic unit responses (seeded: 50 stations, 250 units, 5 years, lognormal times, missing stamps).
 *
 * Engine: CityOps' metrics engine on the frame (the in-memory columnar view the server keeps warm);
 * the time to load the frame from DuckDB is printed too (loadMs, coldRatio).
 * Baseline: DuckDB's exact `quantile_disc` GROUP BY on the same raw rows, in the same run.
 * Both answers are checked against an independent nearest-rank query before anything is printed.
 */
import { closeSync, existsSync, openSync, rmSync, writeSync } from 'node:fs';
import { defaultConfig } from '../src/domains/fire/config.ts';
import { loadFrame } from '../src/domains/fire/frame.ts';
import { computeMetrics, type GroupedMetricsResult } from '../src/domains/fire/metrics.ts';
import { Store } from '../src/platform/db.ts';
import { benchPath, best, log, normal, prng, report, time } from './lib.ts';

const ROWS = Number(process.env.BENCH_ROWS ?? 5_000_000);
const DB = benchPath(`metrics-${ROWS}-v1.duckdb`);
const TZ = 'America/Los_Angeles';

/** Writes generated lines in 1 MB blocks (generation is synchronous, so plain sync writes suffice). */
function writeLines(
  path: string,
  header: string,
  fill: (push: (line: string) => void) => void,
): void {
  const fd = openSync(path, 'w');
  let buf: string[] = [header];
  const flush = () => {
    writeSync(fd, buf.join('\n') + '\n');
    buf = [];
  };
  fill((line) => {
    buf.push(line);
    if (buf.length >= 20000) flush();
  });
  flush();
  closeSync(fd);
}

/** Generates the data set once and caches it as a DuckDB file in .bench/. */
async function dataset(): Promise<Store> {
  if (existsSync(DB)) return Store.open(DB);
  log(`generating ${ROWS.toLocaleString()} unit responses (cached in ${DB})`);
  const rand = prng(20261122);
  const stations = 50;
  const weight = Array.from({ length: stations }, (_, s) => 1 / Math.pow(s + 1, 0.6)); // busy downtown, quiet edges
  const wsum = weight.reduce((a, b) => a + b, 0);
  const cum = weight.map(
    (
      (acc) => (w: number) =>
        (acc += w / wsum)
    )(0),
  );
  const unitTypes = ['ENGINE', 'TRUCK', 'MEDIC_ALS', 'MEDIC_ALS', 'CHIEF'];
  const start = Date.UTC(2021, 0, 1, 8) / 1000,
    span = 5 * 365.25 * 86400;
  const incPath = benchPath('gen-incidents.csv'),
    respPath = benchPath('gen-responses.csv');
  const incidents: string[] = [];
  let produced = 0,
    incidentNo = 0;
  writeLines(
    respPath,
    'response_id,incident_id,unit_id,unit_type,own,dispatched,enroute,on_scene,cleared',
    (push) => {
      while (produced < ROWS) {
        let t: number;
        do {
          t = start + rand() * span;
        } while (rand() > 0.55 + 0.45 * Math.sin(((t % 86400) / 86400) * 2 * Math.PI)); // day/night cycle
        const u = rand();
        const station = cum.findIndex((c) => u <= c);
        const id = `I${++incidentNo}`;
        const emergency = rand() < 0.6;
        incidents.push(
          `${id},${String(station + 1).padStart(2, '0')},${t.toFixed(0)},${emergency},${rand() < 0.7 ? 'EMS' : 'FIRE'}`,
        );
        const k = Math.min(ROWS - produced, 1 + Math.floor(-Math.log(1 - rand()) * 1.0));
        for (let j = 0; j < k; j++) {
          const s =
            j === 0 ? station : (station + Math.floor(rand() * 5) - 2 + stations) % stations;
          const unit = s * 5 + (j === 0 ? Math.floor(rand() * 3) : Math.floor(rand() * 5));
          const type = unitTypes[unit % 5]!;
          const d = t + Math.exp(4.3 + 0.5 * normal(rand));
          const turnout = Math.round(Math.exp(4.2 + 0.35 * normal(rand)) + (s % 7));
          const travel = Math.round(Math.exp(5.6 + 0.45 * normal(rand)));
          const en = rand() < 0.02 ? '' : (d + turnout).toFixed(0);
          const on = rand() < 0.12 ? '' : (d + turnout + travel).toFixed(0);
          const cl = (d + turnout + travel + Math.exp(7.2 + 0.6 * normal(rand))).toFixed(0);
          const own = rand() < 0.97;
          push(
            `${id}|${unit}|${j},${id},U${unit},${type},${own},${d.toFixed(0)},${en},${on},${cl}`,
          );
          produced++;
        }
      }
    },
  );
  writeLines(incPath, 'incident_id,station,received,emergency,category', (push) => {
    for (const l of incidents) push(l);
  });
  const store = await Store.open(DB);
  await store.transaction(async () => {
    await store.run(`INSERT INTO incidents (incident_id, source, call_received, category, emergency, station_area, batch_id)
      SELECT incident_id, 'bench', to_timestamp(received), category, emergency, station, 0
      FROM read_csv('${incPath}', header = true, columns = {'incident_id': 'VARCHAR', 'station': 'VARCHAR', 'received': 'DOUBLE', 'emergency': 'BOOLEAN', 'category': 'VARCHAR'})`);
    await store.run(`INSERT INTO unit_responses (response_id, incident_id, source, unit_id, unit_type, own_agency, dispatched, enroute, on_scene, cleared, batch_id)
      SELECT response_id, incident_id, 'bench', unit_id, unit_type, own, to_timestamp(dispatched), to_timestamp(enroute), to_timestamp(on_scene), to_timestamp(cleared), 0
      FROM read_csv('${respPath}', header = true, columns = {'response_id': 'VARCHAR', 'incident_id': 'VARCHAR', 'unit_id': 'VARCHAR', 'unit_type': 'VARCHAR',
        'own': 'BOOLEAN', 'dispatched': 'DOUBLE', 'enroute': 'DOUBLE', 'on_scene': 'DOUBLE', 'cleared': 'DOUBLE'})`);
  });
  await store.run('CHECKPOINT');
  rmSync(incPath);
  rmSync(respPath);
  return store;
}

/** The same rules as the engine: own-agency units, 0 ≤ value ≤ 3600 s; month in the agency's zone. */
const RAW = `SELECT i.station_area AS station, strftime(timezone('${TZ}', i.call_received), '%Y-%m') AS month,
    epoch(u.enroute) - epoch(u.dispatched) AS turnout, epoch(coalesce(u.staging, u.on_scene)) - epoch(u.enroute) AS travel
  FROM unit_responses u JOIN incidents i USING (incident_id) WHERE u.own_agency`;
const OK = (c: string) => `${c} BETWEEN 0 AND 3600`;
const BASELINE = `SELECT station, month,
    quantile_disc(turnout, 0.9) FILTER (WHERE ${OK('turnout')}) AS turnout_p90,
    quantile_disc(travel, 0.9) FILTER (WHERE ${OK('travel')}) AS travel_p90
  FROM (${RAW}) GROUP BY station, month`;
/** Nearest rank by definition: sort, take the ceil(0.9·n)-th. Slow; used only to check answers. */
const CHECK = `SELECT station, month,
    list_sort(list(turnout) FILTER (WHERE ${OK('turnout')}))[ceil(0.9 * count(turnout) FILTER (WHERE ${OK('turnout')}))::INTEGER] AS turnout_p90,
    list_sort(list(travel) FILTER (WHERE ${OK('travel')}))[ceil(0.9 * count(travel) FILTER (WHERE ${OK('travel')}))::INTEGER] AS travel_p90,
    count(turnout) FILTER (WHERE ${OK('turnout')}) AS turnout_n
  FROM (${RAW}) GROUP BY station, month`;

const store = await dataset();
const config = defaultConfig();
const rows = (await store.one<{ n: number }>('SELECT count(*) AS n FROM unit_responses'))!.n;

const load = await time(() => loadFrame(store, {}, TZ));
const frame = load.value;
const engine = await best(
  3,
  () =>
    computeMetrics(
      frame,
      config,
      null,
      ['station', 'month'],
      ['turnout', 'travel'],
    ) as GroupedMetricsResult,
);
const baseline = await best(3, () =>
  store.all<{ station: string; month: string; turnout_p90: number; travel_p90: number }>(BASELINE),
);

// correctness: the engine equals nearest rank by definition in every group
const check = await store.all<{
  station: string;
  month: string;
  turnout_p90: number;
  travel_p90: number;
  turnout_n: number;
}>(CHECK);
const byKey = new Map(engine.value.groups.map((g) => [g.key, g]));
let mismatches = 0;
for (const c of check) {
  const g = byKey.get(`${c.station} / ${c.month}`);
  if (
    !g ||
    g.turnout.p90 !== c.turnout_p90 ||
    g.travel.p90 !== c.travel_p90 ||
    g.turnout.n !== c.turnout_n
  )
    mismatches++;
}
if (mismatches || check.length !== engine.value.groups.length) {
  log(`MISMATCH: ${mismatches} of ${check.length} groups differ from nearest rank by definition`);
  process.exit(1);
}
// quantile_disc is not nearest rank (it takes the floor((n−1)·q)-th), so it may differ by one rank in a few groups
const discDiffers = baseline.value.filter(
  (b) => byKey.get(`${b.station} / ${b.month}`)?.turnout.p90 !== b.turnout_p90,
).length;

report({
  name: 'fire.metrics.p90_station_month',
  rows,
  ms: engine.ms,
  baselineMs: baseline.ms,
  groups: engine.value.groups.length,
  verified: true,
  quantileDiscGroupsDiffering: discDiffers,
  loadMs: Math.round(load.ms),
  coldRatio: Math.round(((load.ms + engine.ms) / baseline.ms) * 1000) / 1000,
});
store.close();
