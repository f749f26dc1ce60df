/** The strategy domain: what other folders may use of it (the only way in). */
export { loadActuals, recordActuals } from './actuals.ts';
export {
  alignmentReport,
  budgetByGoal,
  capitalByGoal,
  currentPlan,
  loadPlanIntoStore,
  planActions,
} from './alignment.ts';
export { pbbReport } from './pbb.ts';
export { publicPlan } from './public.ts';
export { measureStatuses } from './status.ts';
export { wwcEvidence } from './wwc.ts';
export { hasPlan } from './alignment.ts';
