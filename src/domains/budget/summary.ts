import { z } from 'zod';
import type { Store } from '../../platform/db.ts';
import { PHASES } from './fiscal.ts';

/** Budget totals for one fiscal year, phase and direction, by a chart-of-accounts dimension. */
export const BUDGET_DIMENSIONS = [
  'fund',
  'department',
  'division',
  'account_category',
  'account',
] as const;

export const BudgetSummaryQuerySchema = z.strictObject({
  fy: z.coerce
    .number()
    .int()
    .min(1900)
    .max(2200)
    .describe("the fiscal year's ending calendar year (FY22-23 → 2023)"),
  phase: z.enum(PHASES),
  direction: z.enum(['expense', 'revenue']),
  by: z.enum([...BUDGET_DIMENSIONS, 'goal']),
});
export type BudgetSummaryQuery = z.output<typeof BudgetSummaryQuerySchema>;

export interface BudgetSummary {
  fy: number;
  phase: string;
  direction: string;
  by: string;
  total: number;
  lines: number;
  rows: { key: string; amount: number; share: number }[];
}

/** Totals by a chart-of-accounts dimension (by goal, see strategy/alignment.ts). */
export async function budgetSummary(
  store: Store,
  q: BudgetSummaryQuery & { by: (typeof BUDGET_DIMENSIONS)[number] },
): Promise<BudgetSummary> {
  // the dimension is one of a fixed list (validated above), so naming the column is safe
  const rows = await store.all<{ key: string | null; amount: number; lines: number }>(
    `SELECT ${q.by} AS key, sum(amount)::DOUBLE AS amount, count(*) AS lines
    FROM budget_lines WHERE fiscal_year_end = $1 AND phase = $2 AND direction = $3 GROUP BY 1 ORDER BY 2 DESC, 1`,
    [q.fy, q.phase, q.direction],
  );
  const total = rows.reduce((a, r) => a + r.amount, 0);
  return {
    fy: q.fy,
    phase: q.phase,
    direction: q.direction,
    by: q.by,
    total,
    lines: rows.reduce((a, r) => a + r.lines, 0),
    rows: rows.map((r) => ({
      key: r.key ?? '(none)',
      amount: r.amount,
      share: total ? r.amount / total : 0,
    })),
  };
}

/** Totals of every edition (fiscal year × phase × direction) in the database. */
export async function budgetEditions(store: Store) {
  return store.all<{
    fy: number;
    label: string;
    phase: string;
    direction: string;
    lines: number;
    total: number;
  }>(`SELECT fiscal_year_end AS fy,
      any_value(fiscal_label) AS label, phase, direction, count(*) AS lines, sum(amount)::DOUBLE AS total
    FROM budget_lines GROUP BY 1, 3, 4 ORDER BY 1, 3, 4`);
}

/**
 * Organisation units as the budget shows them: each department under its current name, the names it
 * had (the crosswalk), and the fiscal years it is valid for.
 */
export async function orgUnits(store: Store) {
  return store.all<{
    department: string;
    names: string[];
    validFrom: number;
    validTo: number;
    lines: number;
  }>(`SELECT department,
      list(DISTINCT department_source ORDER BY department_source) AS names, min(fiscal_year_end) AS "validFrom", max(fiscal_year_end) AS "validTo", count(*) AS lines
    FROM budget_lines WHERE department IS NOT NULL GROUP BY department ORDER BY department`);
}

/** The latest fiscal year (its ending year) with an adopted expense budget, or null. */
export async function latestAdoptedYear(store: Store): Promise<number | null> {
  return (
    (
      await store.one<{ fy: number | null }>(
        `SELECT max(fiscal_year_end) AS fy FROM budget_lines WHERE phase = 'adopted' AND direction = 'expense'`,
      )
    )?.fy ?? null
  );
}
