import type { Command } from 'commander';
import { importBudgetFile } from '../budget/import.ts';
import { BUDGET_PROFILES } from '../budget/mapping.ts';
import { BUDGET_DIMENSIONS, budgetEditions, budgetSummary, BudgetSummaryQuerySchema } from '../budget/summary.ts';
import { UserError } from '../core/errors.ts';
import { describeZodError } from '../fire/mapping.ts';
import { budgetByGoal, currentPlan } from '../strategy/alignment.ts';
import { withStore } from './context.ts';
import { printJson, table } from './output.ts';

const money = (x: number) => Math.round(x).toLocaleString('en-US');

export function registerBudget(program: Command, imp: Command): void {
  imp.command('budget')
    .description('import budget lines (proposed, adopted, adjusted, actual) from a CSV export, .gz accepted')
    .argument('<file>', 'CSV file')
    .option('--profile <name>', `built-in profile: ${Object.keys(BUDGET_PROFILES).join(', ')} (default oakland)`)
    .option('--mapping <file>', 'mapping file (JSON or YAML) for another export')
    .option('--db <path>', 'database file')
    .option('--json', 'print the summary as JSON')
    .action(async (file: string, opts: { profile?: string; mapping?: string; db?: string; json?: boolean }) => {
      await withStore(opts, async (store) => {
        const s = await importBudgetFile(store, file, { profile: opts.profile, mappingFile: opts.mapping });
        if (opts.json) return printJson(s);
        process.stdout.write(`Imported ${s.file} (batch ${s.batchId}, profile ${s.profile}): read ${s.rowsRead}, inserted ${s.inserted}, ` +
          `updated ${s.updated}, unchanged ${s.unchanged}, quarantined ${s.quarantined}` +
          `${Object.keys(s.warnings).length ? `; ${Object.entries(s.warnings).map(([k, v]) => `${k} ${v}`).join(', ')}` : ''}\n`);
      });
    });

  const budget = program.command('budget').description('budget analysis');
  budget.command('summary')
    .description('totals for one fiscal year, phase and direction, by fund, department, division or account')
    .requiredOption('--fy <year>', "the fiscal year's ending calendar year (FY22-23 → 2023)")
    .requiredOption('--phase <phase>', 'requested, proposed, adopted, adjusted or actual')
    .requiredOption('--direction <d>', 'expense or revenue')
    .requiredOption('--by <dimension>', `${BUDGET_DIMENSIONS.join(', ')}, or goal (through the strategic plan's departments)`)
    .option('--plan <file>', 'with --by goal: a plan file instead of the loaded plan')
    .option('--db <path>', 'database file')
    .option('--json', 'print JSON')
    .action(async (opts: { fy: string; phase: string; direction: string; by: string; plan?: string; db?: string; json?: boolean }) => {
      const q = BudgetSummaryQuerySchema.safeParse({ fy: opts.fy, phase: opts.phase, direction: opts.direction, by: opts.by });
      if (!q.success) throw new UserError(`Invalid options:\n${describeZodError(q.error)}`);
      await withStore(opts, async (store) => {
        const { by, ...rest } = q.data;
        const s = by === 'goal' ? await budgetByGoal(store, await currentPlan(store, opts.plan), rest) : await budgetSummary(store, { ...rest, by });
        if (opts.json) return printJson(s);
        if (!s.lines) return void process.stdout.write(`No ${q.data.phase} ${q.data.direction} lines for FY ending ${q.data.fy}. Editions loaded: see cityops budget editions.\n`);
        process.stdout.write(`${s.direction}, ${s.phase}, fiscal year ending ${s.fy}: $${money(s.total)} in ${s.lines} lines\n\n`);
        process.stdout.write(table([s.by, 'amount ($)', 'share'], s.rows.map((r) => [r.key, money(r.amount), `${(r.share * 100).toFixed(1)}%`])) + '\n');
      });
    });
  budget.command('editions')
    .description('the budget editions loaded (fiscal year × phase × direction) with totals')
    .option('--db <path>', 'database file')
    .option('--json', 'print JSON')
    .action(async (opts: { db?: string; json?: boolean }) => {
      await withStore(opts, async (store) => {
        const rows = await budgetEditions(store);
        if (opts.json) return printJson(rows);
        process.stdout.write(table(['fiscal year', 'phase', 'direction', 'lines', 'total ($)'], rows.map((r) => [r.label, r.phase, r.direction, r.lines, money(r.total)])) + '\n');
      });
    });
}
