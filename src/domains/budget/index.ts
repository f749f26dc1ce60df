/** The budget domain: what other folders may use of it (the only way in). */
export { fiscalYearEnd } from './fiscal.ts';
export { importBudgetFile } from './import.ts';
export { BUDGET_PROFILES } from './mapping.ts';
export { addRequest, decideRequest, listRequests, scoreRequest } from './requests.ts';
export {
  BUDGET_DIMENSIONS,
  BudgetSummaryQuerySchema,
  budgetEditions,
  budgetSummary,
  orgUnits,
} from './summary.ts';
export type { BudgetSummary } from './summary.ts';
export { latestAdoptedYear } from './summary.ts';
