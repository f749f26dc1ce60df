/** The council's strategic plan and the budget aligned to it (GET /api/v1/strategy/*), docs/strategy-budget.md. */

export type MeasureState = 'on_track' | 'near' | 'off_track' | 'no_data' | 'no_target';

export interface MeasureStatus {
  goal: string;
  objective: string;
  measure: string;
  name: string;
  unit: string;
  direction: 'lower' | 'higher';
  /** where the actuals come from: a CityOps figure, or `manual` (reported by staff) */
  source: string;
  period: string | null;
  fiscalYear: number | null;
  actual: number | null;
  n: number | null;
  target: number | null;
  status: MeasureState;
  prior: number | null;
  trend: 'improving' | 'worsening' | 'flat' | null;
}

export interface PlanStatus {
  city: string;
  measures: MeasureStatus[];
}

export interface GoalAlignment {
  goal: string;
  name: string;
  amount: number;
  share: number;
  /** the same for the general fund alone, when the plan names it */
  generalFund: number | null;
  generalFundShare: number | null;
  prior: number | null;
  change: number | null;
  perResident: number | null;
}

/** The adopted expense budget by goal. */
export interface Alignment {
  fy: number;
  phase: string;
  direction: string;
  total: number;
  generalFundTotal: number | null;
  priorTotal: number | null;
  population: number | null;
  goals: GoalAlignment[];
}

export interface ProgramScore {
  id: string;
  name: string;
  department: string;
  cost: number;
  score: number;
  rank: number;
  quartile: 1 | 2 | 3 | 4;
}

/** Priority-based budgeting: empty lists when the plan scores no programs. */
export interface Pbb {
  fy?: number;
  maxScore?: number;
  programs: ProgramScore[];
  quartiles: { quartile: 1 | 2 | 3 | 4; programs: number; cost: number; share: number }[];
}

export interface CapitalProject {
  id: string;
  name: string;
  department: string;
  goals: string[];
  thisYear: number;
  fundedToDate: number;
  totalCost: number;
  operatingImpact: number;
}

export interface Capital {
  fy: number;
  total: number;
  goals: { goal: string; amount: number }[];
  projects: CapitalProject[];
}

export interface PlanAction {
  id: string;
  goal: string;
  objective: string;
  name: string;
  owner: string;
  due: string;
  status: 'not_started' | 'in_progress' | 'done' | 'delayed';
  percentComplete: number;
  overdue: boolean;
}

/** A What Works Cities criterion and the evidence CityOps holds for it. */
export interface WwcCriterion {
  id: string;
  name: string;
  state: 'evidenced' | 'partial' | 'not_yet';
  evidence: string;
  links: string[];
}
