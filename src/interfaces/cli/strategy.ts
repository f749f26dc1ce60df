import type { Command } from 'commander';
import { FireService, loadConfig } from '../../domains/fire/index.ts';
import {
  currentPlan,
  loadActuals,
  loadPlanIntoStore,
  measureStatuses,
  pbbReport,
} from '../../domains/strategy/index.ts';
import { UserError } from '../../platform/errors.ts';
import { withStore } from './context.ts';
import { dim, green, printJson, red, table } from './output.ts';

const STATUS_TEXT = {
  on_track: green('on track'),
  near: 'near',
  off_track: red('off track'),
  no_data: dim('no data'),
  no_target: dim('no target'),
};
const fmt = (v: number | null, unit: string) =>
  v === null
    ? null
    : unit === 'share'
      ? `${(v * 100).toFixed(1)}%`
      : Number.isInteger(v)
        ? v.toLocaleString('en-US')
        : v.toFixed(1);

export function registerStrategy(program: Command): void {
  const money = (x: number) => `$${(x / 1e6).toFixed(1)}M`;
  const strategy = program
    .command('strategy')
    .description("the council's strategic plan: goals, objectives, measures and targets");
  strategy
    .command('load')
    .description('validate a plan (YAML) and make it the current plan')
    .argument('<file>', 'plan file')
    .option('--db <path>', 'database file')
    .action(async (file: string, opts: { db?: string }) => {
      await withStore(opts, async (store) => {
        const plan = await loadPlanIntoStore(store, file);
        const measures = plan.goals.flatMap((g) => g.objectives.flatMap((o) => o.measures));
        process.stdout.write(
          `Loaded ${file}: ${plan.city}, ${plan.goals.length} goals, ${measures.length} measures.\n`,
        );
      });
    });
  strategy
    .command('status')
    .description('each measure: latest actual, target for its fiscal year, status and trend')
    .option('--plan <file>', 'a plan file instead of the loaded plan')
    .option('--db <path>', 'database file')
    .option('--config <file>', 'analysis settings (for measures bound to fire data)')
    .option('--json', 'print JSON')
    .action(async (opts: { plan?: string; db?: string; config?: string; json?: boolean }) => {
      await withStore(opts, async (store) => {
        const plan = await currentPlan(store, opts.plan);
        const rows = await measureStatuses(
          store,
          new FireService(store, loadConfig(opts.config)),
          plan,
        );
        if (opts.json) return printJson({ city: plan.city, measures: rows });
        process.stdout.write(
          `${plan.city}: strategic plan FY${plan.period.from}–FY${plan.period.to}\n\n`,
        );
        process.stdout.write(
          table(
            ['goal', 'measure', 'period', 'actual', 'target', 'status', 'trend'],
            rows.map((r) => [
              r.goal,
              r.name,
              r.period,
              fmt(r.actual, r.unit),
              fmt(r.target, r.unit),
              STATUS_TEXT[r.status],
              r.trend,
            ]),
          ) + '\n',
        );
      });
    });
  strategy
    .command('pbb')
    .description(
      'priority-based budgeting: program scores, quartiles, and dollars by quartile (resource alignment)',
    )
    .option('--fy <year>', 'fiscal year of the adopted budget (ending year)', '2023')
    .option('--plan <file>', 'a plan file instead of the loaded plan')
    .option('--db <path>', 'database file')
    .option('--json', 'print JSON')
    .action(async (opts: { fy: string; plan?: string; db?: string; json?: boolean }) => {
      await withStore(opts, async (store) => {
        const r = await pbbReport(store, await currentPlan(store, opts.plan), Number(opts.fy));
        if (!r) throw new UserError('The plan has no pbb section (programs with scores).');
        if (opts.json) return printJson(r);
        process.stdout.write(
          table(
            ['rank', 'program', 'department', 'score', 'quartile', 'cost'],
            r.programs.map((p) => [
              p.rank,
              p.name,
              p.department,
              `${p.score}/${r.maxScore}`,
              `Q${p.quartile}`,
              money(p.cost),
            ]),
          ) + '\n\n',
        );
        process.stdout.write(
          table(
            ['quartile', 'programs', 'cost', 'share'],
            r.quartiles.map((q) => [
              `Q${q.quartile}`,
              q.programs,
              money(q.cost),
              `${(q.share * 100).toFixed(1)}%`,
            ]),
          ) + '\n',
        );
      });
    });
  strategy
    .command('actuals')
    .description(
      'load actuals of manually reported measures from a CSV (measure, period, value); all or nothing',
    )
    .argument('<file>', 'CSV file')
    .option('--db <path>', 'database file')
    .action(async (file: string, opts: { db?: string }) => {
      await withStore(opts, async (store) => {
        const r = await loadActuals(store, await currentPlan(store), file);
        process.stdout.write(`Loaded ${r.rows} actuals from ${file}.\n`);
      });
    });
}
