import type { Store } from '../../platform/db.ts';
import { budgetByGoal } from './alignment.ts';
import type { Plan } from './plan.ts';

/**
 * Which What Works Cities criteria (Standard v3) the city's use of CityOps evidences, from what is
 * actually in the database, with links to the evidence. Criteria that need a process CityOps does not
 * record yet (decision meetings, budget decisions) are listed as not yet evidenced, with what would.
 */
export interface Criterion {
  id: string;
  name: string;
  state: 'evidenced' | 'partial' | 'not_yet';
  evidence: string;
  links: string[];
}

export async function wwcEvidence(store: Store, plan: Plan | null): Promise<Criterion[]> {
  const counts = (await store.one<{ incidents: number; lines: number; fy: number | null }>(`SELECT
    (SELECT count(*) FROM analytic_incidents) AS incidents, (SELECT count(*) FROM budget_lines) AS lines,
    (SELECT max(fiscal_year_end) FROM budget_lines WHERE phase = 'adopted' AND direction = 'expense') AS fy`))!;
  const decided = (await store.one<{
    n: number;
    scored: number;
    years: number;
  }>(`SELECT count(DISTINCT d.request_id) AS n,
      count(DISTINCT d.request_id) FILTER (WHERE d.request_id IN (SELECT request_id FROM request_scores)) AS scored,
      count(DISTINCT r.fiscal_year_end) AS years
    FROM request_decisions d JOIN budget_requests r USING (request_id)`))!;
  const measures = plan ? plan.goals.flatMap((g) => g.objectives.flatMap((o) => o.measures)) : [];
  const types = new Set(measures.map((m) => m.type));
  const live = measures.filter((m) => m.source.kind === 'fire').length;
  const targeted = measures.filter((m) => Object.keys(m.targets).length > 0).length;
  let alignedShare: number | null = null;
  if (plan && counts.fy) {
    const s = await budgetByGoal(store, plan, {
      fy: counts.fy,
      phase: 'adopted',
      direction: 'expense',
    });
    alignedShare = s.total
      ? 1 - (s.rows.find((r) => r.key === '(not aligned)')?.amount ?? 0) / s.total
      : null;
  }
  const pct = (x: number) => `${Math.round(x * 100)}%`;
  return [
    {
      id: 'PA1',
      name: 'Selecting and using performance metrics for strategic goals',
      state:
        plan && measures.length >= plan.goals.length && types.size >= 3
          ? 'evidenced'
          : plan
            ? 'partial'
            : 'not_yet',
      evidence: plan
        ? `${plan.goals.length} goals with ${measures.length} measures of ${types.size} types (${[...types].join(', ')}); ${targeted} with targets; ${live} fed live from dispatch data.`
        : 'No strategic plan loaded.',
      links: ['/api/v1/strategy/status', '#/strategy'],
    },
    {
      id: 'PA3',
      name: 'Sharing goals and progress with the public',
      state: plan ? 'evidenced' : 'not_yet',
      evidence: plan
        ? 'The public plan page shows every goal, its measures, progress against targets and the money behind it.'
        : 'Load a plan to publish it.',
      links: ['/public/plan', '/api/public/strategy'],
    },
    {
      id: 'BF1',
      name: 'Data-driven budget: aligning the budget with strategic priorities',
      state: alignedShare === null ? 'not_yet' : alignedShare >= 0.5 ? 'evidenced' : 'partial',
      evidence:
        alignedShare === null
          ? 'Needs budget lines and a plan with departments per goal.'
          : `${pct(alignedShare)} of the FY${counts.fy} adopted expense budget is aligned to strategic goals.`,
      links: counts.fy
        ? [`/api/v1/budget/summary?fy=${counts.fy}&phase=adopted&direction=expense&by=goal`]
        : [],
    },
    {
      id: 'PA5',
      name: 'Using analysis in decisions (resource allocation, service delivery)',
      state: counts.incidents > 0 ? 'partial' : 'not_yet',
      evidence:
        counts.incidents > 0
          ? `Response performance by station, unit and hour, unit utilization and first-due reliability over ${counts.incidents.toLocaleString('en-US')} incidents inform deployment; recording the decisions taken would complete it.`
          : 'Load dispatch data.',
      links: ['#/performance', '/api/v1/fire/utilization'],
    },
    {
      id: 'LC2',
      name: 'Leaders use data in public communications',
      state: counts.incidents > 0 || plan ? 'partial' : 'not_yet',
      evidence:
        'Public pages explain emergency response by neighbourhood and progress on the plan; the monthly report serves council briefings.',
      links: ['/public', '/public/plan', '#/report'],
    },
    {
      id: 'OD3',
      name: 'Open data portal',
      state: 'partial',
      evidence:
        'Aggregate open data as JSON (response performance by neighbourhood, the plan and its progress), documented in OpenAPI; a portal listing is the city’s to add.',
      links: ['/api/public/fire/neighborhoods', '/api/public/strategy', '/api/docs/openapi.json'],
    },
    {
      id: 'BF2',
      name: 'Data-driven budget decisions, sustained',
      state:
        decided.n >= 1 && decided.scored >= 1
          ? decided.years >= 2
            ? 'evidenced'
            : 'partial'
          : 'not_yet',
      evidence: decided.n
        ? `${decided.n} budget requests decided with a recorded rationale, ${decided.scored} of them scored against the goals, over ${decided.years} fiscal year(s); sustained means every cycle.`
        : 'Record budget requests, score them against the goals and decide them with a rationale (cityops budget request).',
      links: ['/api/v1/budget/requests'],
    },
    {
      id: 'BF3',
      name: 'Leveraging funds for outcomes (last 24 months)',
      state: 'not_yet',
      evidence: 'Needs records of funds moved toward evidence-based programs (not in CityOps yet).',
      links: [],
    },
    {
      id: 'PA2',
      name: 'Performance management: regular data-review meetings',
      state: 'not_yet',
      evidence: 'Needs a record of review meetings and their decisions (not in CityOps yet).',
      links: [],
    },
  ];
}
