import type { Store } from '../../platform/db.ts';
import { ATTRIBUTES, type Plan } from './plan.ts';
import type { ProgramScore } from '../../contracts/strategy.ts';

/**
 * Priority-based budgeting: each program's cost is its share of its department's adopted expense;
 * its score is the weighted sum of its 0–4 scores against the goals and the basic attributes.
 * Programs are ranked and cut into quartiles by count (Q1 = most relevant to the results), and the
 * resource-alignment view shows the dollars in each quartile.
 */
export interface PbbReport {
  fy: number;
  maxScore: number;
  programs: ProgramScore[];
  quartiles: { quartile: 1 | 2 | 3 | 4; programs: number; cost: number; share: number }[];
}

export async function pbbReport(store: Store, plan: Plan, fy: number): Promise<PbbReport | null> {
  if (!plan.pbb) return null;
  const { weights, programs } = plan.pbb;
  const depts = await store.all<{ department: string; amount: number }>(
    `SELECT department, sum(amount)::DOUBLE AS amount FROM budget_lines
    WHERE fiscal_year_end = $1 AND phase = 'adopted' AND direction = 'expense' AND department IS NOT NULL GROUP BY 1`,
    [fy],
  );
  const budget = new Map(depts.map((d) => [d.department, d.amount]));
  const wg = (g: string) => weights.goals[g] ?? 1;
  const wa = (a: (typeof ATTRIBUTES)[number]) => weights.attributes[a] ?? 1;
  const maxScore =
    4 * (plan.goals.reduce((s, g) => s + wg(g.id), 0) + ATTRIBUTES.reduce((s, a) => s + wa(a), 0));
  const scored = programs
    .map((p) => ({
      id: p.id,
      name: p.name,
      department: p.department,
      cost: (budget.get(p.department) ?? 0) * p.share,
      score:
        Object.entries(p.scores).reduce((s, [g, v]) => s + wg(g) * v, 0) +
        ATTRIBUTES.reduce((s, a) => s + wa(a) * p.attributes[a], 0),
    }))
    .sort((a, b) => b.score - a.score || a.name.localeCompare(b.name));
  const n = scored.length;
  const ranked: ProgramScore[] = scored.map((p, k) => ({
    ...p,
    rank: k + 1,
    quartile: Math.min(4, Math.floor((4 * k) / n) + 1) as 1 | 2 | 3 | 4,
  }));
  const total = ranked.reduce((s, p) => s + p.cost, 0);
  const quartiles = ([1, 2, 3, 4] as const).map((q) => {
    const inQ = ranked.filter((p) => p.quartile === q);
    const cost = inQ.reduce((s, p) => s + p.cost, 0);
    return { quartile: q, programs: inQ.length, cost, share: total ? cost / total : 0 };
  });
  return { fy, maxScore, programs: ranked, quartiles };
}
