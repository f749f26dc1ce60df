import { readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { UserError } from '../../platform/errors.ts';
import { describeZodError } from '../../platform/validation.ts';
import {
  ActionInputSchema,
  addAction,
  COLLISION_PROFILES,
  CrashFilterSchema,
  evaluateActions,
  hinGeoJson,
  hinQuery,
  HinQuerySchema,
  hotspotQuery,
  HotspotQuerySchema,
  importCollisionsFile,
  kdeQuery,
  KdeQuerySchema,
  listActions,
  loadCrashes,
  PROFILES,
  rankQuery,
  RankQuerySchema,
  type Spf,
  SpfSchema,
  streetsSummary,
  StreetsSummaryQuerySchema,
  targetQuery,
  TargetQuerySchema,
  toAsciiGrid,
  WEIGHT_SETS,
} from '../../domains/collisions/index.ts';
import { withStore } from './context.ts';
import { csv, fmtShare, importProgress, printImportSummary, printJson, table } from './output.ts';
import type { z } from 'zod';

const parse = <S extends z.ZodType>(schema: S, input: unknown): z.output<S> => {
  const r = schema.safeParse(input);
  if (!r.success) throw new UserError(`Invalid options:\n${describeZodError(r.error)}`);
  return r.data;
};

type FilterOpts = {
  mode?: string;
  severity?: string;
  from?: string;
  to?: string;
  hours?: string;
  city?: string;
  district?: string;
};

/** The crash filter every streets command shares. */
function withFilter(cmd: Command): Command {
  return cmd
    .option('--mode <list>', 'pedestrian, bicycle, motorcycle, other (comma-separated)')
    .option('--severity <list>', 'KABCO letters, e.g. K,A')
    .option('--from <year>', 'first year')
    .option('--to <year>', 'last year')
    .option('--hours <from-to>', 'time of day, e.g. 22-5')
    .option('--city <name>', 'jurisdiction (CITY column)')
    .option('--district <file>', 'GeoJSON file with the district polygon: only crashes inside')
    .option('--db <path>', 'database file')
    .option('--json', 'print JSON');
}
function filterInput(o: FilterOpts) {
  let district: string | undefined;
  if (o.district) {
    try {
      district = readFileSync(o.district, 'utf8');
    } catch (e) {
      throw new UserError(`Cannot read the district file ${o.district}: ${(e as Error).message}`);
    }
  }
  return {
    mode: o.mode,
    severity: o.severity,
    from: o.from,
    to: o.to,
    hours: o.hours,
    city: o.city,
    district,
  };
}
const num = (x: number | null, d = 1) => (x === null ? null : Number(x.toFixed(d)));

export function registerStreets(program: Command, imp: Command): void {
  registerImportCollisions(imp);
  const streets = program
    .command('streets')
    .description(
      'road safety: summaries, hot spots, rankings, high-injury network, targets, actions',
    );
  registerStreetsSummary(streets);
  registerStreetsHotspots(streets);
  registerStreetsRank(streets);
  registerStreetsHin(streets);
  registerStreetsTarget(streets);
  registerStreetsKde(streets);
  const action = streets
    .command('action')
    .description('engineering, education and enforcement actions');
  registerStreetsActionAdd(action);
  registerStreetsActionList(action);
  registerStreetsActionEvaluate(action);
}

function registerImportCollisions(imp: Command): void {
  imp
    .command('collisions')
    .description('import road collisions (.gz accepted); idempotent by case id')
    .argument('<file>', 'CSV or tab-separated file')
    .option(
      '--profile <name>',
      `${COLLISION_PROFILES.map((p) => `${p}: ${PROFILES[p]!.description}`).join('; ')} (default tims)`,
    )
    .option(
      '--mapping <file>',
      'a JSON or YAML mapping for any other export (columns, dateFormat, timeFormat, severityCodes)',
    )
    .option(
      '--injured <file>',
      'CCRS InjuredWitnessPassengers table (gives each crash its severity)',
    )
    .option('--bounds <w,s,e,n>', 'reported coordinates outside this box are flagged, not mapped')
    .option('--db <path>', 'database file')
    .option('--json', 'print the summary as JSON')
    .action(
      async (
        file: string,
        opts: {
          profile?: string;
          mapping?: string;
          injured?: string;
          bounds?: string;
          db?: string;
          json?: boolean;
        },
      ) => {
        let bounds: [number, number, number, number] | undefined;
        if (opts.bounds) {
          const b = opts.bounds.split(',').map(Number);
          if (
            b.length !== 4 ||
            b.some((x) => !Number.isFinite(x)) ||
            b[0]! >= b[2]! ||
            b[1]! >= b[3]!
          )
            throw new UserError('--bounds is west,south,east,north in degrees');
          bounds = b as [number, number, number, number];
        }
        await withStore(opts, async (store) => {
          const progress = importProgress();
          const s = await importCollisionsFile(store, file, {
            profile: opts.profile,
            mapping: opts.mapping,
            injured: opts.injured,
            bounds,
            onProgress: progress.onProgress,
          });
          progress.stop();
          if (opts.json) return printJson(s);
          printImportSummary(s);
        });
      },
    );
}

function registerStreetsSummary(streets: Command): void {
  streets
    .command('summary')
    .description(
      'crashes by KABCO severity with an EPDO score; per year, severity or mode with --by',
    )
    .option('--by <key>', 'year, severity or mode')
    .option('--weights <set>', `EPDO weights: ${Object.keys(WEIGHT_SETS).join(', ')}`, 'hsm')
    .option('--db <path>', 'database file')
    .option('--json', 'print JSON')
    .action(async (opts: { by?: string; weights: string; db?: string; json?: boolean }) => {
      const q = parse(StreetsSummaryQuerySchema, { by: opts.by, weights: opts.weights });
      await withStore(opts, async (store) => {
        const s = await streetsSummary(store, q);
        if (opts.json) return printJson(s);
        const rows = s.groups ?? [{ key: 'all', ...s }];
        process.stdout.write(
          table(
            [
              q.by ?? '',
              'crashes',
              'K',
              'A',
              'B',
              'C',
              'O',
              'killed',
              'injured',
              `EPDO (${q.weights})`,
            ],
            rows.map((g) => [
              g.key,
              g.crashes,
              g.bySeverity.K ?? 0,
              g.bySeverity.A ?? 0,
              g.bySeverity.B ?? 0,
              g.bySeverity.C ?? 0,
              g.bySeverity.O ?? 0,
              g.killed,
              g.injured,
              g.epdo.value,
            ]),
          ) + '\n',
        );
      });
    });
}

function registerStreetsHotspots(streets: Command): void {
  withFilter(
    streets
      .command('hotspots')
      .description(
        'Getis-Ord Gi* hot and cold spots on H3 hexagons, with false-discovery-rate correction',
      ),
  )
    .option('--resolution <n>', 'H3 resolution (9 or 10 typical)', '9')
    .option('--value <v>', 'crashes, ksi or epdo', 'epdo')
    .option('--weights <set>', 'EPDO weight set', 'hsm')
    .option('--k <n>', 'neighbour ring', '1')
    .option('--no-fdr', 'no false-discovery-rate correction')
    .option('--top <n>', 'list at most this many hot (and cold) spots', '20')
    .action(
      async (
        opts: FilterOpts & {
          resolution: string;
          value: string;
          weights: string;
          k: string;
          fdr: boolean;
          top: string;
          db?: string;
          json?: boolean;
        },
      ) => {
        const q = parse(HotspotQuerySchema, {
          ...filterInput(opts),
          resolution: opts.resolution,
          value: opts.value,
          weights: opts.weights,
          k: opts.k,
          fdr: opts.fdr,
          top: opts.top,
        });
        await withStore(opts, async (store) => {
          const r = await hotspotQuery(store, q);
          if (opts.json) return printJson(r);
          process.stdout.write(
            `${r.method}\n${r.features} hexagons (${r.crashes} crashes; ${r.excluded.noLocation} without a location left out): ${r.hot} hot, ${r.cold} cold spots\n\n`,
          );
          const conf = (c: number) =>
            c === 0 ? '' : `${c > 0 ? 'hot' : 'cold'} ${[0, 90, 95, 99][Math.abs(c)]}%`;
          process.stdout.write(
            table(
              ['hexagon', 'lat', 'lon', q.value, 'z', q.fdr ? 'q (FDR)' : 'p', 'class'],
              r.cells.map((c) => [
                c.cell,
                c.lat.toFixed(5),
                c.lon.toFixed(5),
                num(c.value),
                num(c.z, 2),
                c.q.toExponential(2),
                conf(c.class),
              ]),
            ) + '\n',
          );
        });
      },
    );
}

function registerStreetsRank(streets: Command): void {
  withFilter(
    streets
      .command('rank')
      .description(
        'intersections or corridors ranked by crashes, KA, KSI or EPDO (top N, within a district with --district)',
      ),
  )
    .option('--kind <k>', 'intersection or corridor', 'intersection')
    .option('--by <m>', 'crashes, ka, ksi or epdo', 'epdo')
    .option('--weights <set>', 'EPDO weight set', 'hsm')
    .option('--top <n>', 'how many', '20')
    .option(
      '--within-ft <ft>',
      'intersection crashes: at most this far from the cross street',
      '250',
    )
    .option('--csv', 'print CSV')
    .action(
      async (
        opts: FilterOpts & {
          kind: string;
          by: string;
          weights: string;
          top: string;
          withinFt: string;
          csv?: boolean;
          db?: string;
          json?: boolean;
        },
      ) => {
        const q = parse(RankQuerySchema, {
          ...filterInput(opts),
          kind: opts.kind,
          by: opts.by,
          weights: opts.weights,
          top: opts.top,
          withinFt: opts.withinFt,
        });
        await withStore(opts, async (store) => {
          const r = await rankQuery(store, q);
          if (opts.json) return printJson(r);
          const head = [
            'rank',
            r.kind,
            'crashes',
            'KA',
            'KSI',
            `EPDO (${r.weights})`,
            'lat',
            'lon',
            'first',
            'last',
          ];
          const rows = r.locations.map((l) => [
            l.rank,
            l.name,
            l.crashes,
            l.ka,
            l.ksi,
            l.epdo,
            l.lat === null ? null : l.lat.toFixed(5),
            l.lon === null ? null : l.lon.toFixed(5),
            l.firstDate,
            l.lastDate,
          ]);
          if (opts.csv) return void process.stdout.write(csv(head, rows));
          process.stdout.write(
            `${r.total} crashes, ${r.unplaced} not placed at ${r.kind === 'intersection' ? 'an intersection' : 'a named road'}; ranked by ${r.by}\n\n${table(head, rows)}\n`,
          );
        });
      },
    );
}

function registerStreetsHin(streets: Command): void {
  withFilter(
    streets
      .command('hin')
      .description('high-injury network by sliding windows: "p% of street miles carry q% of KSI"'),
  )
    .option('--window-miles <mi>', 'window length', '0.5')
    .option('--step-miles <mi>', 'window step (default a fifth of the window)')
    .option('--tolerance-m <m>', 'snapping distance', '15')
    .option('--score <s>', 'ksi (people per mile) or a weight set (EPDO per mile)', 'ksi')
    .option('--cover <share>', 'share of KSI the network must hold', '0.5')
    .option('--min-ka <n>', 'windows need at least this many KA crashes', '0')
    .option('--years <n>', 'latest N years when --from/--to are not given', '5')
    .option(
      '--no-name-match',
      'snap to the nearest street even when its name differs from the report',
    )
    .option('--no-network', 'use the road-name fallback even when a network is loaded')
    .option('--geojson <file>', 'write the corridors as GeoJSON')
    .action(
      async (
        opts: FilterOpts & {
          windowMiles: string;
          stepMiles?: string;
          toleranceM: string;
          score: string;
          cover: string;
          minKa: string;
          years: string;
          nameMatch: boolean;
          network: boolean;
          geojson?: string;
          db?: string;
          json?: boolean;
        },
      ) => {
        const q = parse(HinQuerySchema, {
          ...filterInput(opts),
          windowMiles: opts.windowMiles,
          stepMiles: opts.stepMiles,
          toleranceM: opts.toleranceM,
          score: opts.score,
          cover: opts.cover,
          minKa: opts.minKa,
          years: opts.years,
          nameMatch: opts.nameMatch,
          network: opts.network ? 'auto' : 'none',
        });
        await withStore(opts, async (store) => {
          const r = await hinQuery(store, q);
          if (opts.geojson) writeFileSync(opts.geojson, JSON.stringify(hinGeoJson(r)));
          if (opts.json) return printJson(r);
          const p = r.parameters;
          process.stdout.write(
            `${r.statement}\n` +
              `Method: ${r.method === 'network' ? 'loaded road network' : 'road names (no network loaded)'}; windows ${p.windowMiles.toFixed(2)} mi every ${p.stepMiles.toFixed(2)} mi; ` +
              `score ${p.scoreLabel}; tolerance ${p.toleranceM} m; cover ${fmtShare(p.cover)} of KSI${p.minKa ? `; ≥ ${p.minKa} KA per window` : ''}\n` +
              `Network ${r.network.miles.toFixed(1)} mi (${r.network.basis}); crashes ${r.crashes.total} (${r.crashes.snapped} placed, ${r.crashes.unsnapped} not placed, ${r.crashes.noLocation} without location); KSI ${r.crashes.ksi}\n\n` +
              table(
                ['corridor', 'from mi', 'to mi', 'miles', 'crashes', 'KA', 'KSI', 'KSI/mi'],
                r.hin.corridors.map((c) => [
                  c.name,
                  (c.fromM / 1609.344).toFixed(2),
                  (c.toM / 1609.344).toFixed(2),
                  c.miles.toFixed(2),
                  c.crashes,
                  c.ka,
                  c.ksi,
                  (c.ksi / Math.max(c.miles, 0.01)).toFixed(1),
                ]),
              ) +
              `${opts.geojson ? `\n\nCorridors written to ${opts.geojson}` : ''}\n`,
          );
        });
      },
    );
}

function registerStreetsTarget(streets: Command): void {
  withFilter(
    streets
      .command('target')
      .description(
        'progress to a reduction target: baseline, glide path, yearly and rolling-12-month counts with exact intervals and a significance test',
      ),
  )
    .option('--metric <m>', 'injury (K–C crashes), ka (crashes), ksi (people) or crashes', 'injury')
    .option('--baseline-year <y>', 'last year of the baseline (default: the first complete period)')
    .option('--baseline-years <n>', '1, 3 or 5 (rolling mean)', '1')
    .option('--reduction <share>', 'target reduction', '0.19')
    .option('--target-year <y>', 'year the target is due (default baseline + 5)')
    .action(
      async (
        opts: FilterOpts & {
          metric: string;
          baselineYear?: string;
          baselineYears: string;
          reduction: string;
          targetYear?: string;
          db?: string;
          json?: boolean;
        },
      ) => {
        const q = parse(TargetQuerySchema, {
          ...filterInput(opts),
          metric: opts.metric,
          baselineYear: opts.baselineYear,
          baselineYears: opts.baselineYears,
          reduction: opts.reduction,
          targetYear: opts.targetYear,
        });
        await withStore(opts, async (store) => {
          const r = await targetQuery(store, q);
          if (opts.json) return printJson(r);
          process.stdout.write(
            `${r.label}: baseline ${num(r.baseline.value)} (${r.definitions.baseline}), target ${num(r.target.value)} by ${r.target.year} (−${(r.target.reduction * 100).toFixed(0)}%)\n\n` +
              table(
                ['year', 'count', '95% interval', 'glide path', 'on track'],
                r.years.map((y) => [
                  y.year + (y.complete ? '' : ' (partial)'),
                  y.value,
                  `${num(y.low)}–${num(y.high)}`,
                  y.glidePath === null ? null : num(y.glidePath),
                  y.onTrack === null ? null : y.onTrack ? 'yes' : 'no',
                ]),
              ) +
              (r.latest12
                ? `\n\nLatest ${r.latest12.period}: ${r.latest12.value} (95% interval ${num(r.latest12.low)}–${num(r.latest12.high)}); ${r.latest12.verdict}.\n`
                : '\n'),
          );
        });
      },
    );
}

function registerStreetsKde(streets: Command): void {
  withFilter(
    streets
      .command('kde')
      .description(
        'kernel density surface (quartic kernel) for reports, written as an ESRI ASCII grid',
      ),
  )
    .requiredOption('--out <file>', 'grid file (.asc); a .prj-style PROJ string is printed')
    .option('--bandwidth <m>', 'search radius in metres, or esri for the Esri default', 'esri')
    .option('--cell <m>', 'cell size in metres (default bandwidth/6)')
    .option('--weight <w>', 'count or epdo', 'epdo')
    .option('--weights <set>', 'EPDO weight set', 'hsm')
    .action(
      async (
        opts: FilterOpts & {
          out: string;
          bandwidth: string;
          cell?: string;
          weight: string;
          weights: string;
          db?: string;
          json?: boolean;
        },
      ) => {
        const q = parse(KdeQuerySchema, {
          ...filterInput(opts),
          bandwidth: opts.bandwidth === 'esri' ? 'esri' : opts.bandwidth,
          cell: opts.cell,
          weight: opts.weight,
          weights: opts.weights,
        });
        await withStore(opts, async (store) => {
          const r = await kdeQuery(store, q);
          writeFileSync(opts.out, toAsciiGrid(r.surface));
          writeFileSync(opts.out.replace(/\.asc$/i, '') + '.proj4', r.proj + '\n');
          const info = {
            out: opts.out,
            proj: r.proj,
            crashes: r.crashes,
            excluded: r.excluded,
            bandwidthM: r.surface.bandwidth,
            bandwidthRule: r.bandwidthRule,
            cellM: r.surface.cell,
            cols: r.surface.cols,
            rows: r.surface.rows,
            units: `${q.weight === 'epdo' ? `EPDO (${q.weights})` : 'crashes'} per km²`,
            peak: r.peak,
          };
          if (opts.json) return printJson(info);
          process.stdout.write(
            `Wrote ${info.cols}×${info.rows} cells of ${info.cellM} m to ${opts.out} (${info.units}); bandwidth ${info.bandwidthM.toFixed(0)} m (${info.bandwidthRule}).\n` +
              `Peak ${info.peak.perKm2.toFixed(1)} at ${info.peak.lat.toFixed(5)}, ${info.peak.lon.toFixed(5)}. Projection: ${info.proj}\n`,
          );
        });
      },
    );
}

function registerStreetsActionAdd(action: Command): void {
  action
    .command('add')
    .description('record an action at a location')
    .requiredOption('--kind <k>', 'engineering, education or enforcement')
    .requiredOption('--title <text>', 'what was done')
    .requiredOption('--lat <deg>', 'latitude')
    .requiredOption('--lon <deg>', 'longitude')
    .requiredOption('--started <date>', 'YYYY-MM-DD')
    .option('--finished <date>', 'YYYY-MM-DD (after period starts here)')
    .option('--radius-m <m>', 'treated area radius', '100')
    .option('--road <name>', 'only crashes on this road count')
    .option('--description <text>', 'details')
    .option('--db <path>', 'database file')
    .option('--json', 'print JSON')
    .action(
      async (o: {
        kind: string;
        title: string;
        lat: string;
        lon: string;
        started: string;
        finished?: string;
        radiusM: string;
        road?: string;
        description?: string;
        db?: string;
        json?: boolean;
      }) => {
        const input = parse(ActionInputSchema, {
          kind: o.kind,
          title: o.title,
          lat: o.lat,
          lon: o.lon,
          started: o.started,
          finished: o.finished,
          radiusM: o.radiusM,
          road: o.road,
          description: o.description,
        });
        await withStore(o, async (store) => {
          const a = await addAction(store, input, process.env.USER ?? null);
          if (o.json) return printJson(a);
          process.stdout.write(
            `Recorded action ${a.id}: ${a.kind} "${a.title}" from ${a.started}\n`,
          );
        });
      },
    );
}

function registerStreetsActionList(action: Command): void {
  action
    .command('list')
    .description('list actions')
    .option('--db <path>', 'database file')
    .option('--json', 'print JSON')
    .action(async (o: { db?: string; json?: boolean }) => {
      await withStore(o, async (store) => {
        const list = await listActions(store);
        if (o.json) return printJson(list);
        process.stdout.write(
          table(
            ['id', 'kind', 'title', 'started', 'finished', 'lat', 'lon', 'radius m', 'road'],
            list.map((a) => [
              a.id,
              a.kind,
              a.title,
              a.started,
              a.finished ?? null,
              a.lat,
              a.lon,
              a.radiusM,
              a.road ?? null,
            ]),
          ) + '\n',
        );
      });
    });
}

function registerStreetsActionEvaluate(action: Command): void {
  action
    .command('evaluate')
    .description(
      'before/after evaluation of actions: naive (biased), comparison group, Empirical Bayes with --spf',
    )
    .argument('<ids>', 'action ids, comma-separated')
    .option('--years <n>', 'years before and after', '3')
    .option('--severity <s>', 'all or ka', 'all')
    .option(
      '--spf <file>',
      'JSON: { a, b, k, sites: { "<id>": { lengthMiles, aadtBefore, aadtAfter } } }',
    )
    .option('--db <path>', 'database file')
    .option('--json', 'print JSON')
    .action(
      async (
        ids: string,
        o: { years: string; severity: string; spf?: string; db?: string; json?: boolean },
      ) => {
        const want = ids.split(',').map((s) => Number(s.trim()));
        if (want.some((n) => !Number.isInteger(n)))
          throw new UserError('ids are action numbers, comma-separated');
        const years = Number(o.years);
        if (!Number.isFinite(years) || years <= 0 || years > 10)
          throw new UserError('--years is 1 to 10');
        if (o.severity !== 'all' && o.severity !== 'ka')
          throw new UserError('--severity is all or ka');
        let spf: Spf | undefined;
        if (o.spf) {
          let data: unknown;
          try {
            data = JSON.parse(readFileSync(o.spf, 'utf8'));
          } catch (e) {
            throw new UserError(`Cannot read the SPF file ${o.spf}: ${(e as Error).message}`);
          }
          spf = parse(SpfSchema, data);
        }
        await withStore(o, async (store) => {
          const all = await listActions(store);
          const chosen = want.map(
            (id) =>
              all.find((a) => a.id === id) ??
              (() => {
                throw new UserError(`No action ${id} (cityops streets action list)`);
              })(),
          );
          const { crashes } = await loadCrashes(store, parse(CrashFilterSchema, {}));
          const r = evaluateActions(crashes, chosen, {
            years,
            spf,
            severity: o.severity as 'all' | 'ka',
          });
          if (o.json) return printJson(r);
          const cmf = (x: { cmf: number | null } | { unavailable: string }) =>
            'unavailable' in x ? `– (${x.unavailable})` : x.cmf === null ? '–' : x.cmf.toFixed(3);
          process.stdout.write(
            table(
              ['action', 'before', 'after', 'years before', 'years after'],
              r.sites.map((s) => [
                `${s.action} ${s.title}`,
                s.before,
                s.after,
                s.beforeYears.toFixed(2),
                s.afterYears.toFixed(2),
              ]),
            ) +
              '\n\n' +
              `Naive CMF ${cmf(r.naive)}  (${r.naive.caution})\n` +
              `Comparison-group CMF ${cmf(r.comparisonGroup)}${'significance' in r.comparisonGroup ? ` (SE ${r.comparisonGroup.se.toFixed(3)}, ${r.comparisonGroup.significance})` : ''}\n` +
              `Empirical Bayes CMF ${cmf(r.empiricalBayes)}${'significance' in r.empiricalBayes ? ` (SE ${r.empiricalBayes.se.toFixed(3)}, ${r.empiricalBayes.significance})` : ''}\n` +
              (r.incompletePeriods.length
                ? `Shorter periods than asked for actions ${r.incompletePeriods.join(', ')} (data ends or starts).\n`
                : ''),
          );
        });
      },
    );
}
