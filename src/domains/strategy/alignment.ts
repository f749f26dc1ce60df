import { readFileSync } from 'node:fs';
import { UserError } from '../../platform/errors.ts';
import type { Store } from '../../platform/db.ts';
import type { BudgetSummary } from '../budget/index.ts';
import { loadPlanFile, parsePlan, type Plan } from './plan.ts';
import type { GoalAlignment } from '../../contracts/strategy.ts';

/** The plan in force: a file given, else the latest plan loaded into the database. */
export async function currentPlan(store: Store, file?: string): Promise<Plan> {
  if (file) return loadPlanFile(file);
  const row = await store.one<{ yaml: string; source: string }>(
    'SELECT yaml, source FROM strategy_plans ORDER BY plan_id DESC LIMIT 1',
  );
  if (!row)
    throw new UserError(
      'No strategic plan is loaded: cityops strategy load FILE (or pass --plan FILE).',
    );
  return parsePlan(row.yaml, `loaded from ${row.source}`);
}

/** Validates a plan file and stores it as the current plan. */
export async function loadPlanIntoStore(store: Store, file: string): Promise<Plan> {
  const plan = loadPlanFile(file);
  await store.run(
    `INSERT INTO strategy_plans (plan_id, source, yaml) SELECT coalesce(max(plan_id), 0) + 1, $1, $2 FROM strategy_plans`,
    [file, readFileSync(file, 'utf8')],
  );
  return plan;
}

/**
 * Dollars by strategic goal: each budget line counts toward the goals its department serves, by
 * the department's share in the plan; what no goal claims is reported as not aligned.
 */
export async function budgetByGoal(
  store: Store,
  plan: Plan,
  q: { fy: number; phase: string; direction: string; fund?: string },
): Promise<BudgetSummary> {
  const pairs = plan.goals.flatMap((g) =>
    Object.entries(g.departments).map(([d, share]) => [g.id, d, share] as const),
  );
  const byDept = await store.all<{ department: string | null; amount: number; lines: number }>(
    `SELECT department, sum(amount)::DOUBLE AS amount, count(*) AS lines
    FROM budget_lines WHERE fiscal_year_end = $1 AND phase = $2 AND direction = $3 AND ($4::VARCHAR IS NULL OR fund = $4) GROUP BY 1`,
    [q.fy, q.phase, q.direction, q.fund ?? null],
  );
  const amountOf = new Map(byDept.map((r) => [r.department, r.amount]));
  const total = byDept.reduce((a, r) => a + r.amount, 0);
  const byGoal = new Map<string, number>(plan.goals.map((g) => [g.id, 0]));
  let aligned = 0;
  for (const [goal, dept, share] of pairs) {
    const a = (amountOf.get(dept) ?? 0) * share;
    byGoal.set(goal, byGoal.get(goal)! + a);
    aligned += a;
  }
  const rows = [...byGoal].map(([key, amount]) => ({ key, amount }));
  rows.push({ key: '(not aligned)', amount: total - aligned });
  return {
    fy: q.fy,
    phase: q.phase,
    direction: q.direction,
    by: 'goal',
    total,
    lines: byDept.reduce((a, r) => a + r.lines, 0),
    rows: rows.map((r) => ({ ...r, share: total ? r.amount / total : 0 })),
  };
}

/** Dollars by goal in one fiscal year against the year before, and per resident. */
export async function alignmentReport(
  store: Store,
  plan: Plan,
  q: { fy: number; phase: string; direction: string },
) {
  const now = await budgetByGoal(store, plan, q);
  const gf = plan.generalFund
    ? await budgetByGoal(store, plan, { ...q, fund: plan.generalFund })
    : null;
  const before = await budgetByGoal(store, plan, { ...q, fy: q.fy - 1 });
  const priorOf = new Map(before.lines ? before.rows.map((r) => [r.key, r.amount]) : []);
  const goals: GoalAlignment[] = now.rows.map((r) => {
    const prior = priorOf.get(r.key) ?? null;
    const g = gf?.rows.find((x) => x.key === r.key);
    return {
      goal: r.key,
      name: plan.goals.find((goal) => goal.id === r.key)?.name ?? 'Not aligned to a goal',
      amount: r.amount,
      share: r.share,
      generalFund: g?.amount ?? null,
      generalFundShare: g?.share ?? null,
      prior,
      change: prior ? (r.amount - prior) / Math.abs(prior) : null,
      perResident: plan.population ? r.amount / plan.population : null,
    };
  });
  return {
    fy: q.fy,
    phase: q.phase,
    direction: q.direction,
    total: now.total,
    generalFundTotal: gf ? gf.total : null,
    priorTotal: before.lines ? before.total : null,
    population: plan.population ?? null,
    goals,
  };
}

/** Capital appropriations of one fiscal year by goal (a project serving several goals is split evenly). */
export function capitalByGoal(plan: Plan, fy: number) {
  const byGoal = new Map<string, number>(plan.goals.map((g) => [g.id, 0]));
  const projects = plan.capitalProjects.map((c) => ({
    ...c,
    thisYear: c.funding[String(fy)] ?? 0,
  }));
  for (const c of projects)
    for (const g of c.goals) byGoal.set(g, byGoal.get(g)! + c.thisYear / c.goals.length);
  return {
    fy,
    total: projects.reduce((a, c) => a + c.thisYear, 0),
    goals: [...byGoal].map(([goal, amount]) => ({ goal, amount })),
    projects: projects.map((c) => ({
      id: c.id,
      name: c.name,
      department: c.department,
      goals: c.goals,
      thisYear: c.thisYear,
      fundedToDate: Object.entries(c.funding)
        .filter(([y]) => Number(y) <= fy)
        .reduce((a, [, v]) => a + v, 0),
      totalCost: c.totalCost,
      operatingImpact: c.operatingImpact,
    })),
  };
}

/** Every action of the plan with its goal and objective; overdue when past due and not done. */
export function planActions(plan: Plan, today: string) {
  return plan.goals.flatMap((g) =>
    g.objectives.flatMap((o) =>
      o.actions.map((a) => ({
        goal: g.id,
        objective: o.id,
        ...a,
        overdue: a.status !== 'done' && a.due < today,
      })),
    ),
  );
}

export async function hasPlan(store: Store): Promise<boolean> {
  return (
    (await store.one<{ n: number }>('SELECT count(*)::INTEGER AS n FROM strategy_plans'))!.n > 0
  );
}
