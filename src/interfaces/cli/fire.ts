import { type Command, Option } from 'commander';
import { z } from 'zod';
import { UserError } from '../../platform/errors.ts';
import { describeZodError } from '../../platform/validation.ts';
import {
  FireQuerySchema,
  GROUP_KEYS,
  MetricsQuerySchema,
  SEGMENTS,
  STANDARDS,
} from '../../domains/fire/index.ts';
import { withFire } from './context.ts';
import { csv, dim, fmtSeconds, fmtShare, green, printJson, red, table } from './output.ts';

interface CommonOptions {
  db?: string;
  config?: string;
  from?: string;
  to?: string;
  priority?: string;
  category?: string;
  station?: string;
  unitType?: string;
  json?: boolean;
  csv?: boolean;
}

function withFilters(cmd: Command): Command {
  return cmd
    .option('--db <path>', 'database file (default $CITYOPS_DB or ./data/cityops.duckdb)')
    .option(
      '--config <file>',
      'analysis settings (JSON or YAML): time zone, caps, shifts, staffing, ERF, standard',
    )
    .option('--from <date>', 'first local date included, YYYY-MM-DD')
    .option('--to <date>', 'last local date included, YYYY-MM-DD')
    .addOption(
      new Option('--priority <p>', 'all incidents, or emergency (lights and sirens) only')
        .choices(['all', 'emergency'])
        .default('all'),
    )
    .option(
      '--category <list>',
      'incident categories, comma-separated (EMS,FIRE,RESCUE,HAZMAT,SERVICE,OTHER)',
    )
    .option('--station <list>', 'first-due station areas, comma-separated')
    .option('--unit-type <list>', 'unit types, comma-separated (ENGINE,TRUCK,MEDIC_ALS,...)')
    .option('--json', 'print JSON');
}

function parseQuery<S extends z.ZodType>(schema: S, opts: Record<string, unknown>): z.output<S> {
  const { db: _db, config: _config, json: _json, csv: _csv, ...rest } = opts;
  const clean = Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined));
  const r = schema.safeParse(clean);
  if (!r.success) throw new UserError(`Invalid options:\n${describeZodError(r.error)}`);
  return r.data;
}

type SegmentLike = {
  n: number;
  p50: number | null;
  p90: number | null;
  excluded: Record<string, number>;
  compliance: number | null;
  pass: boolean | null;
  objective: number | string | null;
};

function passText(s: SegmentLike): string {
  if (s.pass === null) return dim('not graded');
  return s.pass ? green('PASS') : red('FAIL');
}

function segmentRows(source: Record<string, unknown>) {
  return SEGMENTS.map((seg) => {
    const s = source[seg] as SegmentLike;
    const excl = Object.entries(s.excluded)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');
    return [
      seg,
      s.n,
      fmtSeconds(s.p50),
      fmtSeconds(s.p90),
      typeof s.objective === 'number' ? s.objective : s.objective ? 'varies' : null,
      fmtShare(s.compliance),
      passText(s),
      excl || '–',
    ];
  });
}

export function registerFire(program: Command): void {
  const fire = program.command('fire').description('fire and EMS response analytics');

  registerFireMetrics(fire);
  registerFireQuality(fire);
  registerFireUtilization(fire);
  registerFireConcurrency(fire);
  registerFireReliability(fire);
  registerFireVolume(fire);
}

function registerFireMetrics(fire: Command): void {
  withFilters(fire.command('metrics'))
    .description(
      'response-time segments: n, p50, p90 (exact, nearest rank), exclusions by reason, compliance with a standard',
    )
    .option('--by <keys>', `group by one to three keys, comma-separated: ${GROUP_KEYS.join(', ')}`)
    .option(
      '--standard <id|file>',
      `standards preset (${Object.keys(STANDARDS).join(', ')}) or a JSON/YAML file`,
    )
    .option('--csv', 'print CSV')
    .addHelpText(
      'after',
      `
Segments (seconds): alarmAnswering, callProcessing, turnout, travel, totalResponse, firstUnitTurnout,
firstUnitTravel, commitment, erf. A value is used when both stamps exist, it is >= 0 and at most the
cap (3600 s; commitment 86400 s); the rest are counted by reason. Other agencies' units are excluded.
Examples:
  cityops fire metrics --priority emergency
  cityops fire metrics --by station --from 2020-04-08 --to 2020-04-14 --json`,
    )
    .action(async (opts: CommonOptions & { by?: string; standard?: string }) => {
      const q = parseQuery(MetricsQuerySchema, opts as Record<string, unknown>);
      await withFire(opts, async (svc) => {
        const m = (await svc.metrics(q)) as Record<string, unknown>;
        if (opts.json) return printJson(m);
        const head = [
          'segment',
          'n',
          'p50 s',
          'p90 s',
          'objective s',
          'compliance',
          'grade',
          'excluded',
        ];
        if ('groups' in m) {
          const groups = m.groups as Record<string, unknown>[];
          if (opts.csv) {
            const keys = q.by!;
            const rows = groups.flatMap((g) =>
              segmentRows(g).map((r) => [
                ...keys.map((k) => (g.keys as Record<string, string>)[k]),
                ...r.slice(0, 6),
                (g[r[0] as string] as SegmentLike).pass,
              ]),
            );
            return void process.stdout.write(csv([...keys, ...head.slice(0, 6), 'pass'], rows));
          }
          for (const g of groups) {
            process.stdout.write(
              `\n${q.by!.join(' / ')} ${g.key}: ${g.incidents} incidents, ${g.unitResponses} unit responses\n`,
            );
            process.stdout.write(table(head, segmentRows(g)) + '\n');
          }
          return;
        }
        if (opts.csv)
          return void process.stdout.write(
            csv(
              [...head.slice(0, 6), 'pass', 'excluded'],
              segmentRows(m).map((r) => [
                ...r.slice(0, 6),
                (m[r[0] as string] as SegmentLike).pass,
                r[7],
              ]),
            ),
          );
        const std = m.standard as { name: string };
        process.stdout.write(
          `${m.incidents} incidents, ${m.unitResponses} unit responses; graded against ${std.name}\n\n`,
        );
        process.stdout.write(table(head, segmentRows(m)) + '\n');
      });
    });
}

function registerFireQuality(fire: Command): void {
  withFilters(fire.command('quality'))
    .description(
      'data-quality report: missing and out-of-order stamps, implausible intervals, unknown codes, by month',
    )
    .action(async (opts: CommonOptions) => {
      const q = parseQuery(FireQuerySchema, opts as Record<string, unknown>);
      await withFire(opts, async (svc) => {
        const r = await svc.quality(q);
        if (opts.json) return printJson(r);
        const lines = [
          `${r.incidents} incidents, ${r.unitResponses} unit responses`,
          `Missing stamps:     ${Object.entries(r.missingStamps)
            .map(([k, v]) => `${k} ${v}`)
            .join(', ')}`,
          `Out of order:       ${Object.entries(r.outOfOrder)
            .map(([k, v]) => `${k} ${v}`)
            .join(', ')}`,
          `Over the cap:       ${Object.entries(r.overCap)
            .map(([k, v]) => `${k} ${v}`)
            .join(', ')}`,
          `Missing location:   ${r.missingCoordinates} incidents; missing station area: ${r.missingStationArea}`,
          `Unknown unit types: ${r.unknownUnitTypes.map((u) => `${u.unitType} ${u.responses}`).join(', ') || 'none'}`,
          `Imports:            ${r.imports.batches} batches, ${r.imports.quarantined} rows quarantined; warnings ${
            Object.entries(r.imports.warnings)
              .map(([k, v]) => `${k} ${v}`)
              .join(', ') || 'none'
          }`,
          '',
          table(
            [
              'month',
              'incidents',
              'unit responses',
              'missing en route',
              'missing on scene',
              'out of order',
            ],
            r.byMonth.map((m) => [
              m.month,
              m.incidents,
              m.unitResponses,
              m.missingEnroute,
              m.missingOnScene,
              m.outOfOrder,
            ]),
          ),
        ];
        process.stdout.write(lines.join('\n') + '\n');
      });
    });
}

function registerFireUtilization(fire: Command): void {
  withFilters(fire.command('utilization'))
    .description(
      'unit hour utilization: busy time ÷ staffed time per unit, unit type and hour of day',
    )
    .action(async (opts: CommonOptions) => {
      const q = parseQuery(FireQuerySchema, opts as Record<string, unknown>);
      await withFire(opts, async (svc) => {
        const r = await svc.utilization(q);
        if (opts.json) return printJson(r);
        if (!('units' in r)) return void process.stdout.write('No incidents match.\n');
        process.stdout.write(
          `Period: ${new Date(r.period!.start * 1000).toISOString()} → ${new Date(r.period!.end * 1000).toISOString()} (${r.period!.hours} h)\n\n`,
        );
        process.stdout.write(
          table(
            ['unit type', 'units', 'mean UHU', 'max UHU', 'busiest'],
            r.byUnitType!.map((t) => [
              t.unitType,
              t.units,
              t.meanUhu.toFixed(3),
              t.maxUhu.toFixed(3),
              t.maxUnit,
            ]),
          ) + '\n\n',
        );
        process.stdout.write(
          table(
            ['unit', 'type', 'responses', 'busy h', 'UHU', 'transports/h'],
            r
              .units!.slice(0, 25)
              .map((u) => [
                u.unit,
                u.unitType,
                u.responses,
                u.busyHours.toFixed(1),
                u.uhu.toFixed(3),
                u.transportsPerUnitHour.toFixed(3),
              ]),
          ) + '\n',
        );
      });
    });
}

function registerFireConcurrency(fire: Command): void {
  withFilters(fire.command('concurrency'))
    .description(
      'incidents in progress when each call arrives, share of time with N or more in progress',
    )
    .action(async (opts: CommonOptions) => {
      const q = parseQuery(FireQuerySchema, opts as Record<string, unknown>);
      await withFire(opts, async (svc) => {
        const r = await svc.concurrency(q);
        if (opts.json) return printJson(r);
        process.stdout.write(`Max in progress: ${r.maxInProgress}\n\n`);
        process.stdout.write(
          table(['in progress (same area)', 'incidents'], Object.entries(r.atArrivalSameArea)) +
            '\n\n',
        );
        process.stdout.write(
          table(
            ['same-area level', 'n', 'first-unit travel p50', 'p90'],
            r.firstUnitTravelByLevel.map((l) => [l.level, l.n, l.p50, l.p90]),
          ) + '\n',
        );
      });
    });
}

function registerFireReliability(fire: Command): void {
  withFilters(fire.command('reliability'))
    .description(
      "first-due reliability: share of incidents where the area's own station arrived first",
    )
    .action(async (opts: CommonOptions) => {
      const q = parseQuery(FireQuerySchema, opts as Record<string, unknown>);
      await withFire(opts, async (svc) => {
        const r = await svc.reliability(q);
        if (opts.json) return printJson(r);
        process.stdout.write(
          table(
            [
              'station',
              'incidents',
              'first-due first',
              'reliability',
              'first-due busy',
              'covered by',
            ],
            r.stations.map((s) => [
              s.station,
              s.incidents,
              s.firstDueFirst,
              fmtShare(s.reliability),
              s.firstDueBusy,
              Object.entries(s.coveredBy)
                .sort((a, b) => b[1] - a[1])
                .slice(0, 3)
                .map(([k, v]) => `${k} (${v})`)
                .join(', '),
            ]),
          ) + '\n',
        );
      });
    });
}

function registerFireVolume(fire: Command): void {
  withFilters(fire.command('volume'))
    .description('call volume: 7 × 24 hour-of-week grid, by day and category')
    .action(async (opts: CommonOptions) => {
      const q = parseQuery(FireQuerySchema, opts as Record<string, unknown>);
      await withFire(opts, async (svc) => {
        const r = await svc.volume(q);
        if (opts.json) return printJson(r);
        const days = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
        process.stdout.write(
          table(
            ['', ...Array.from({ length: 24 }, (_, h) => String(h))],
            r.hourOfWeek.map((row, d) => [days[d]!, ...row]),
          ) + '\n',
        );
      });
    });
}
