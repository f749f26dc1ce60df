import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { UserError } from '../../platform/errors.ts';
import {
  applyScenario,
  bandsGeoJson,
  calibrate,
  compare,
  coverage,
  COVERAGE_DEFAULTS,
  importLayerFile,
  importRoadsFile,
  importStationsFile,
  loadCoverageContext,
  placeStations,
  type Scenario,
  simulate,
} from '../../domains/coverage/index.ts';
import { withStore } from './context.ts';
import { fmtShare, printImportSummary, printJson, table } from './output.ts';

type Common = {
  db?: string;
  json?: boolean;
  network?: string;
  priority?: string;
  close?: string;
  add?: string[];
  move?: string[];
  addUnit?: string[];
  removeUnit?: string;
};

const latLon = (text: string, what: string) => {
  const [lat, lon] = text.split(',').map(Number);
  if (!Number.isFinite(lat) || !Number.isFinite(lon) || Math.abs(lat!) > 90 || Math.abs(lon!) > 180)
    throw new UserError(`${what} is LAT,LON in degrees (got "${text}")`);
  return { lat: lat!, lon: lon! };
};

/** The what-if options every coverage command takes. */
function scenarioOf(o: Common): Scenario {
  return {
    close: o.close
      ? o.close
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean)
      : [],
    add: (o.add ?? []).map((a) => latLon(a, '--add')),
    move: (o.move ?? []).map((m) => {
      const [id, rest] = m.split(':');
      if (!id || !rest) throw new UserError('--move is ID:LAT,LON');
      return { id, ...latLon(rest, '--move') };
    }),
    addUnits: (o.addUnit ?? []).map((u) => {
      const [station, type] = u.split(':');
      if (!station || !type) throw new UserError('--add-unit is STATION:TYPE (e.g. 36:ENGINE)');
      return { station, type };
    }),
    removeUnits: o.removeUnit ? o.removeUnit.split(',').map((s) => s.trim()) : [],
  };
}
const isWhatIf = (s: Scenario) =>
  !!(
    s.close?.length ||
    s.add?.length ||
    s.move?.length ||
    s.addUnits?.length ||
    s.removeUnits?.length
  );
const collect = (v: string, prev: string[] = []) => [...prev, v];

function withScenario(cmd: Command): Command {
  return cmd
    .option('--close <ids>', 'close these stations (comma-separated station ids)')
    .option('--add <lat,lon>', 'add a station here (repeatable)', collect)
    .option('--move <id:lat,lon>', 'move a station (repeatable)', collect)
    .option('--add-unit <station:type>', 'add a unit, e.g. 36:ENGINE (repeatable)', collect)
    .option('--remove-unit <ids>', 'remove units (comma-separated unit ids)')
    .option('--network <name>', 'road network (default: the latest imported)')
    .option(
      '--priority <p>',
      'emergency (default: response objectives are for emergencies) or all incidents as demand',
      'emergency',
    )
    .option('--db <path>', 'database file')
    .option('--json', 'print JSON');
}
const minutesOf = (v: string, what = '--minutes') => {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0 || n > 60)
    throw new UserError(`${what} is a number of minutes (0–60)`);
  return n;
};
const mmss = (s: number | null) =>
  s === null ? '–' : `${Math.floor(s / 60)}:${String(Math.round(s % 60)).padStart(2, '0')}`;

export function registerCoverage(program: Command, imp: Command): void {
  registerImportRoads(imp);
  registerImportStations(imp);
  registerImportLayer(imp);
  // "plan" was its name before the word came to mean only the strategic plan: kept as an alias
  const coverageCommand = program
    .command('coverage')
    .alias('plan')
    .description('station coverage: drive times, what-if, station placement, replay simulation');
  registerCoverageShare(coverageCommand);
  registerCoveragePlace(coverageCommand);
  registerCoverageSimulate(coverageCommand);
  registerCoverageCalibrate(coverageCommand);
}

function registerImportRoads(imp: Command): void {
  imp
    .command('roads')
    .description(
      'import a road network: OSM .pbf, OSM XML (.osm, .osm.gz) or GeoJSON lines (.gz accepted); replaces the same --source',
    )
    .argument('<file>', 'road file')
    .option('--source <name>', 'network name', 'roads')
    .option('--db <path>', 'database file')
    .option('--json', 'print JSON')
    .action(async (file: string, opts: { source: string; db?: string; json?: boolean }) => {
      await withStore(opts, async (store) => {
        const s = await importRoadsFile(store, file, { source: opts.source });
        if (opts.json) return printJson(s);
        printImportSummary(s, [
          [
            'network',
            `"${s.source}": ${s.segments} ways, ${s.lengthKm.toFixed(1)} km (${s.format})`,
          ],
          ['unnamed', String(s.unnamed)],
          ['oneway', `${s.onewayUnknown} with an unknown oneway tag (treated as two-way)`],
        ]);
      });
    });
}

function registerImportStations(imp: Command): void {
  imp
    .command('stations')
    .description(
      'import fire stations: GeoJSON points or CSV (station, name, lat, lon, optional units "E01:ENGINE:4;T01:TRUCK")',
    )
    .argument('<file>', 'stations file')
    .option('--db <path>', 'database file')
    .option('--json', 'print JSON')
    .action(async (file: string, opts: { db?: string; json?: boolean }) => {
      await withStore(opts, async (store) => {
        const s = await importStationsFile(store, file);
        if (opts.json) return printJson(s);
        printImportSummary(s, [
          [
            'stations',
            `${s.stations} (${s.withApparatus} with apparatus in the file; the others take their units from the CAD data)`,
          ],
        ]);
      });
    });
}

function registerImportLayer(imp: Command): void {
  imp
    .command('layer')
    .description('import polygons for reporting (a city boundary, census tracts) as a named layer')
    .argument('<file>', 'GeoJSON')
    .requiredOption(
      '--name <layer>',
      'layer name: boundary, tracts, or population (with --value-field) for coverage of residents',
    )
    .option('--value-field <property>', 'a count per polygon, e.g. the population')
    .option('--db <path>', 'database file')
    .action(async (file: string, opts: { name: string; valueField?: string; db?: string }) => {
      await withStore(opts, async (store) => {
        const r = await importLayerFile(store, file, opts.name, { valueField: opts.valueField });
        printImportSummary(r, [
          [
            'layer',
            `"${r.layer}": ${r.features} polygons${r.withValue ? `, ${r.withValue} with ${opts.valueField}` : ''}`,
          ],
        ]);
      });
    });
}

function registerCoverageCalibrate(coverageCommand: Command): void {
  coverageCommand
    .command('calibrate')
    .description(
      'fit the speed factor that makes predicted drive times match observed emergency travel, and save it',
    )
    .option('--network <name>', 'road network (default: the latest imported)')
    .option('--db <path>', 'database file')
    .option('--json', 'print JSON')
    .action(async (o: { network?: string; db?: string; json?: boolean }) => {
      await withStore(o, async (store) => {
        const ctx = await loadCoverageContext(store, { network: o.network });
        let r;
        try {
          r = await calibrate(store, ctx);
        } catch (e) {
          throw new UserError(`Cannot calibrate: ${(e as Error).message}`);
        }
        if (o.json) return printJson(r);
        process.stdout.write(
          `Speed factor ${r.factor.toFixed(3)} (apparatus drive at ${(r.factor * 100).toFixed(0)}% of posted speed) from ${r.n} responses.\n` +
            `Median absolute error ${r.medianAbsErrorS.toFixed(0)} s; p90 observed ${mmss(r.observedP90)}, predicted ${mmss(r.predictedP90)} (posted speeds: ${mmss(r.uncalibratedP90)}).\n` +
            `Left out: ${Object.entries(r.excluded)
              .map(([k, v]) => `${k} ${v}`)
              .join(', ')}. Saved for network "${r.network}".\n`,
        );
      });
    });
}

function registerCoverageShare(coverageCommand: Command): void {
  withScenario(
    coverageCommand
      .command('coverage', { isDefault: true })
      .description(
        'share of incidents within a drive time of a station, today or in a what-if; probabilistic and ERF coverage',
      ),
  )
    .option(
      '--minutes <m>',
      'response objective in minutes of travel',
      String(COVERAGE_DEFAULTS.minutes),
    )
    .option(
      '--erf-minutes <m>',
      'effective response force travel objective',
      String(COVERAGE_DEFAULTS.erfMinutes),
    )
    .option(
      '--erf-staff <n>',
      'staff the effective response force needs',
      String(COVERAGE_DEFAULTS.erfStaff),
    )
    .option('--bands <list>', 'band limits for --geojson, minutes', '4,6,8')
    .option(
      '--geojson <file>',
      'write drive-time bands (per station and union), uncovered cells and ERF areas as GeoJSON',
    )
    .action(
      async (
        o: Common & {
          minutes: string;
          erfMinutes: string;
          erfStaff: string;
          bands: string;
          geojson?: string;
        },
      ) => {
        const opts = {
          minutes: minutesOf(o.minutes),
          erfMinutes: minutesOf(o.erfMinutes, '--erf-minutes'),
          erfStaff: Number(o.erfStaff),
          bands: o.bands.split(',').map((b) => minutesOf(b, '--bands')),
        };
        if (!Number.isInteger(opts.erfStaff) || opts.erfStaff < 1)
          throw new UserError('--erf-staff is a whole number of people');
        if (o.priority !== 'all' && o.priority !== 'emergency')
          throw new UserError('--priority is all or emergency');
        const sc = scenarioOf(o);
        await withStore(o, async (store) => {
          const ctx = await loadCoverageContext(store, {
            network: o.network,
            priority: o.priority as 'all' | 'emergency',
          });
          const stations = applyScenario(ctx, sc);
          const { coveredFlags: _f, ...r } = coverage(ctx, stations, opts);
          const base = isWhatIf(sc) ? coverage(ctx, applyScenario(ctx, {}), opts) : null;
          const cmp = base ? compare(base, coverage(ctx, stations, opts)) : null;
          if (o.geojson)
            writeFileSync(
              o.geojson,
              JSON.stringify(
                bandsGeoJson(ctx, stations, opts.bands, {
                  erf: { minutes: opts.erfMinutes, staff: opts.erfStaff },
                }),
              ),
            );
          if (o.json) return printJson({ ...r, ...(cmp ? { whatIf: sc, comparison: cmp } : {}) });
          process.stdout.write(
            `${fmtShare(r.coveredShare)} of ${r.incidents} incidents are within ${r.minutes} min of a station ` +
              `(calibration factor ${r.calibration.factor.toFixed(3)}${ctx.calibration ? '' : ', NOT calibrated'}); predicted p90 travel ${mmss(r.predictedTravel.p90)}\n` +
              `Probabilistic (units' busy time counted): ${fmtShare(r.probabilistic.expectedCoveredShare)}; ERF (${r.erf.staff} staff within ${r.erf.minutes} min): ${fmtShare(r.erf.coveredShare)}\n` +
              (r.residents
                ? `Residents: ${fmtShare(r.residents.coveredShare)} of ${r.residents.units} ${r.residents.layer} on the network, weighted by ${r.residents.weighting}\n`
                : '') +
              `Note: ${r.clip}. Left out: ${r.excluded.outsideNetwork} incidents off the network, ${r.excluded.noLocation} without a location; stations off it: ${r.excluded.stationsOutside.length}.\n\n` +
              table(
                ['station', 'name', 'units', 'first-due incidents', `within ${r.minutes} min`],
                r.stations.map((s) => [
                  s.id,
                  s.name,
                  s.units.join(' '),
                  s.firstDueIncidents,
                  s.coveredFirstDue,
                ]),
              ) +
              '\n' +
              (cmp
                ? `\nWhat-if against today: covered ${fmtShare(cmp.coveredShare.today)} → ${fmtShare(cmp.coveredShare.scenario)}; newly covered ${cmp.newlyCovered}, lost ${cmp.lost}; ` +
                  `predicted p90 travel ${mmss(cmp.predictedP90.today)} → ${mmss(cmp.predictedP90.scenario)}\n`
                : '') +
              (o.geojson ? `Bands written to ${o.geojson}\n` : ''),
          );
        });
      },
    );
}

function registerCoveragePlace(coverageCommand: Command): void {
  withScenario(
    coverageCommand
      .command('place')
      .description(
        'where k new stations cover the most incidents not covered today (maximal covering location; greedy, then HiGHS)',
      ),
  )
    .requiredOption('--k <n>', 'number of new stations')
    .option('--minutes <m>', 'response objective in minutes', String(COVERAGE_DEFAULTS.minutes))
    .option(
      '--resolution <r>',
      'H3 resolution of candidate sites (9 ≈ 350 m apart, 10 ≈ 130 m)',
      '9',
    )
    .option('--time-limit <s>', 'solver time limit, seconds', '10')
    .action(
      async (o: Common & { k: string; minutes: string; resolution: string; timeLimit: string }) => {
        const k = Number(o.k),
          res = Number(o.resolution),
          limit = Number(o.timeLimit);
        if (!Number.isInteger(k) || k < 1 || k > 20) throw new UserError('--k is 1 to 20');
        if (![8, 9, 10].includes(res)) throw new UserError('--resolution is 8, 9 or 10');
        if (!(limit > 0 && limit <= 600)) throw new UserError('--time-limit is 1 to 600 seconds');
        await withStore(o, async (store) => {
          const ctx = await loadCoverageContext(store, {
            network: o.network,
            priority: o.priority as 'all' | 'emergency',
          });
          const r = await placeStations(ctx, applyScenario(ctx, scenarioOf(o)), {
            k,
            minutes: minutesOf(o.minutes),
            candidateResolution: res,
            timeLimitS: limit,
          });
          if (o.json) return printJson(r);
          process.stdout.write(
            `Today ${fmtShare(r.today.coveredShare)} of ${r.today.incidents} incidents within ${r.minutes} min; ${r.uncoveredIncidents} uncovered in ${r.demandCells} cells; ${r.candidates} candidate sites.\n` +
              `Greedy: +${r.greedy.value} incidents. ${r.refined ? `HiGHS (${r.refined.status.toLowerCase()}): +${r.refined.value}, bound ${r.refined.bound.toFixed(1)}; gap greedy ${fmtShare(r.gap!.greedy)}, best ${fmtShare(r.gap!.best)}.` : ''}\n` +
              `Best: ${fmtShare(r.best.coveredShare)} covered with\n` +
              table(
                ['site', 'lat', 'lon', 'demand cells reached'],
                r.best.sites.map((s, i) => [i + 1, s.lat, s.lon, s.demandCells]),
              ) +
              `\nNote: ${r.clip}.\n`,
          );
        });
      },
    );
}

function registerCoverageSimulate(coverageCommand: Command): void {
  withScenario(
    coverageCommand
      .command('simulate')
      .description(
        'replay the real incidents against a deployment: nearest available unit, busy for its real commitment; simulated vs observed travel',
      ),
  ).action(async (o: Common) => {
    await withStore(o, async (store) => {
      const ctx = await loadCoverageContext(store, {
        network: o.network,
        priority: o.priority as 'all' | 'emergency',
      });
      const r = simulate(ctx, applyScenario(ctx, scenarioOf(o)));
      if (o.json) return printJson(r);
      process.stdout.write(
        `Replayed ${r.incidents} incidents (${r.queued} waited for a free unit, ${r.unreachable} unreachable).\n` +
          table(
            ['first-unit travel', 'n', 'p50', 'p90'],
            [
              [
                'simulated',
                r.simulatedTravel.n,
                mmss(r.simulatedTravel.p50),
                mmss(r.simulatedTravel.p90),
              ],
              [
                'observed',
                r.observedTravel.n,
                mmss(r.observedTravel.p50),
                mmss(r.observedTravel.p90),
              ],
            ],
          ) +
          `\nNote: ${r.clip}.\n`,
      );
    });
  });
}
