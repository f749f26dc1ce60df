import type { FireService } from '../fire/index.ts';
import type { Store } from '../../platform/db.ts';
import { budgetByGoal, currentPlan } from './alignment.ts';
import { measureStatuses } from './status.ts';

/**
 * What residents see of the plan: each goal in plain words, its measures with progress, and the
 * share of the adopted budget behind it. Only aggregates: no line items below department totals.
 */
export async function publicPlan(store: Store, fire: FireService, fy?: number) {
  const plan = await currentPlan(store);
  const measures = await measureStatuses(store, fire, plan);
  const latest = await store.one<{ fy: number | null }>(
    `SELECT max(fiscal_year_end) AS fy FROM budget_lines WHERE phase = 'adopted' AND direction = 'expense'`,
  );
  const year = fy ?? latest?.fy ?? null;
  const money = year
    ? await budgetByGoal(store, plan, { fy: year, phase: 'adopted', direction: 'expense' })
    : null;
  return {
    city: plan.city,
    period: plan.period,
    budget: money
      ? {
          fiscalYear: year,
          phase: 'adopted',
          total: money.total,
          perResident: plan.population ? money.total / plan.population : null,
        }
      : null,
    goals: plan.goals.map((g) => {
      const dollars = money?.rows.find((r) => r.key === g.id);
      return {
        id: g.id,
        name: g.name,
        description: g.description,
        budget: dollars
          ? {
              amount: dollars.amount,
              share: dollars.share,
              perResident: plan.population ? dollars.amount / plan.population : null,
            }
          : null,
        measures: measures
          .filter((m) => m.goal === g.id)
          .map(({ name, unit, direction, period, actual, target, status, trend }) => ({
            name,
            unit,
            direction,
            period,
            actual,
            target,
            status,
            trend,
          })),
      };
    }),
    notAligned: money?.rows.find((r) => r.key === '(not aligned)') ?? null,
  };
}
