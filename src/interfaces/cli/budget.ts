import type { Command } from 'commander';
import {
  addRequest,
  BUDGET_DIMENSIONS,
  BUDGET_PROFILES,
  budgetEditions,
  budgetSummary,
  BudgetSummaryQuerySchema,
  decideRequest,
  importBudgetFile,
  listRequests,
  scoreRequest,
} from '../../domains/budget/index.ts';
import { UserError } from '../../platform/errors.ts';
import { describeZodError } from '../../platform/validation.ts';
import { budgetByGoal, currentPlan } from '../../domains/strategy/index.ts';
import { withStore } from './context.ts';
import { importProgress, printImportSummary, printJson, table } from './output.ts';

const money = (x: number) => Math.round(x).toLocaleString('en-US');

export function registerBudget(program: Command, imp: Command): void {
  registerImportBudget(imp);
  const budget = program.command('budget').description('budget analysis');
  registerBudgetSummary(budget);
  registerBudgetEditions(budget);
  const request = budget
    .command('request')
    .description('budget requests: add, score, decide (every score and decision is kept)');
  registerBudgetRequestAdd(request);
  registerBudgetRequestScore(request);
  registerBudgetRequestDecide(request);
  registerBudgetRequestList(request);
}

function registerImportBudget(imp: Command): void {
  imp
    .command('budget')
    .description(
      'import budget lines (proposed, adopted, adjusted, actual) from a CSV export, .gz accepted',
    )
    .argument('<file>', 'CSV file')
    .option(
      '--profile <name>',
      `built-in profile: ${Object.keys(BUDGET_PROFILES).join(', ')} (default oakland)`,
    )
    .option('--mapping <file>', 'mapping file (JSON or YAML) for another export')
    .option('--db <path>', 'database file')
    .option('--json', 'print the summary as JSON')
    .action(
      async (
        file: string,
        opts: { profile?: string; mapping?: string; db?: string; json?: boolean },
      ) => {
        await withStore(opts, async (store) => {
          const progress = importProgress();
          const s = await importBudgetFile(store, file, {
            profile: opts.profile,
            mappingFile: opts.mapping,
            onProgress: progress.onProgress,
          });
          progress.stop();
          if (opts.json) return printJson(s);
          printImportSummary(s);
        });
      },
    );
}

function registerBudgetSummary(budget: Command): void {
  budget
    .command('summary')
    .description(
      'totals for one fiscal year, phase and direction, by fund, department, division or account',
    )
    .requiredOption('--fy <year>', "the fiscal year's ending calendar year (FY22-23 → 2023)")
    .requiredOption('--phase <phase>', 'requested, proposed, adopted, adjusted or actual')
    .requiredOption('--direction <d>', 'expense or revenue')
    .requiredOption(
      '--by <dimension>',
      `${BUDGET_DIMENSIONS.join(', ')}, or goal (through the strategic plan's departments)`,
    )
    .option('--plan <file>', 'with --by goal: a plan file instead of the loaded plan')
    .option('--db <path>', 'database file')
    .option('--json', 'print JSON')
    .action(
      async (opts: {
        fy: string;
        phase: string;
        direction: string;
        by: string;
        plan?: string;
        db?: string;
        json?: boolean;
      }) => {
        const q = BudgetSummaryQuerySchema.safeParse({
          fy: opts.fy,
          phase: opts.phase,
          direction: opts.direction,
          by: opts.by,
        });
        if (!q.success) throw new UserError(`Invalid options:\n${describeZodError(q.error)}`);
        await withStore(opts, async (store) => {
          const { by, ...rest } = q.data;
          const s =
            by === 'goal'
              ? await budgetByGoal(store, await currentPlan(store, opts.plan), rest)
              : await budgetSummary(store, { ...rest, by });
          if (opts.json) return printJson(s);
          if (!s.lines)
            return void process.stdout.write(
              `No ${q.data.phase} ${q.data.direction} lines for FY ending ${q.data.fy}. Editions loaded: see cityops budget editions.\n`,
            );
          process.stdout.write(
            `${s.direction}, ${s.phase}, fiscal year ending ${s.fy}: $${money(s.total)} in ${s.lines} lines\n\n`,
          );
          process.stdout.write(
            table(
              [s.by, 'amount ($)', 'share'],
              s.rows.map((r) => [r.key, money(r.amount), `${(r.share * 100).toFixed(1)}%`]),
            ) + '\n',
          );
        });
      },
    );
}

function registerBudgetEditions(budget: Command): void {
  budget
    .command('editions')
    .description('the budget editions loaded (fiscal year × phase × direction) with totals')
    .option('--db <path>', 'database file')
    .option('--json', 'print JSON')
    .action(async (opts: { db?: string; json?: boolean }) => {
      await withStore(opts, async (store) => {
        const rows = await budgetEditions(store);
        if (opts.json) return printJson(rows);
        process.stdout.write(
          table(
            ['fiscal year', 'phase', 'direction', 'lines', 'total ($)'],
            rows.map((r) => [r.label, r.phase, r.direction, r.lines, money(r.total)]),
          ) + '\n',
        );
      });
    });
}

function registerBudgetRequestAdd(request: Command): void {
  request
    .command('add')
    .description('add a request tagged to goals (and measures) of the plan')
    .requiredOption('--fy <year>', 'fiscal year (ending year)')
    .requiredOption('--department <name>', 'department')
    .requiredOption('--kind <kind>', 'new, enhancement or reduction')
    .requiredOption('--title <text>', 'what is asked for')
    .requiredOption('--amount <dollars>', 'amount (negative for a reduction)')
    .option('--fte <n>', 'positions')
    .option('--goal <ids>', 'goal ids, comma-separated')
    .option('--measure <ids>', 'measure ids, comma-separated')
    .requiredOption('--by <name>', 'who submits it')
    .option('--db <path>', 'database file')
    .action(async (o: Record<string, string | undefined>) => {
      await withStore({ db: o.db }, async (store) => {
        const plan = await currentPlan(store);
        const id = await addRequest(
          store,
          {
            fy: Number(o.fy),
            department: o.department!,
            kind: o.kind as 'new',
            title: o.title!,
            amount: Number(o.amount),
            fte: o.fte === undefined ? undefined : Number(o.fte),
            goals:
              o.goal
                ?.split(',')
                .map((x) => x.trim())
                .filter(Boolean) ?? [],
            measures:
              o.measure
                ?.split(',')
                .map((x) => x.trim())
                .filter(Boolean) ?? [],
            by: o.by!,
          },
          plan.goals.map((g) => g.id),
        );
        process.stdout.write(`Request ${id} added.\n`);
      });
    });
}

function registerBudgetRequestScore(request: Command): void {
  request
    .command('score')
    .description('score a request 0–4 on a criterion (self, peer or council round)')
    .argument('<id>', 'request id')
    .requiredOption('--criterion <name>', 'e.g. a goal id, "evidence", "leverage"')
    .requiredOption('--score <0-4>', 'score')
    .requiredOption('--round <round>', 'self, peer or council')
    .requiredOption('--by <name>', 'scorer')
    .option('--rationale <text>', 'why')
    .option('--db <path>', 'database file')
    .action(async (id: string, o: Record<string, string | undefined>) => {
      await withStore({ db: o.db }, (store) =>
        scoreRequest(store, Number(id), {
          criterion: o.criterion!,
          score: Number(o.score),
          round: o.round as 'self',
          scorer: o.by!,
          rationale: o.rationale,
        }),
      );
      process.stdout.write(`Scored request ${id}.\n`);
    });
}

function registerBudgetRequestDecide(request: Command): void {
  request
    .command('decide')
    .description('decide a request with a rationale (approved/modified carry an amount)')
    .argument('<id>', 'request id')
    .requiredOption('--decision <d>', 'approved, modified, deferred or denied')
    .option('--amount <dollars>', 'amount approved')
    .requiredOption('--rationale <text>', 'why: kept as the audit trail')
    .requiredOption('--by <name>', 'who decided')
    .option('--db <path>', 'database file')
    .action(async (id: string, o: Record<string, string | undefined>) => {
      await withStore({ db: o.db }, (store) =>
        decideRequest(store, Number(id), {
          decision: o.decision as 'approved',
          amount: o.amount === undefined ? undefined : Number(o.amount),
          rationale: o.rationale!,
          by: o.by!,
        }),
      );
      process.stdout.write(`Decision recorded for request ${id}.\n`);
    });
}

function registerBudgetRequestList(request: Command): void {
  request
    .command('list')
    .description('requests with their score, decision and history')
    .option('--fy <year>', 'fiscal year (ending year)')
    .option('--db <path>', 'database file')
    .option('--json', 'print JSON')
    .action(async (o: { fy?: string; db?: string; json?: boolean }) => {
      await withStore(o, async (store) => {
        const rows = await listRequests(store, o.fy ? Number(o.fy) : undefined);
        if (o.json) return printJson(rows);
        process.stdout.write(
          table(
            ['id', 'FY', 'department', 'kind', 'title', 'amount', 'goals', 'score', 'decision'],
            rows.map((r) => [
              r.id,
              r.fy,
              r.department,
              r.kind,
              r.title,
              money(r.amount),
              r.goals.join(', '),
              r.score === null ? null : r.score.toFixed(1),
              r.decision,
            ]),
          ) + '\n',
        );
      });
    });
}
