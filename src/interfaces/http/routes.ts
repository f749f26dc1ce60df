import { z } from 'zod';
import {
  FireQuerySchema,
  MetricsApiQuerySchema,
  publicNeighborhoods,
  publicPerformance,
  PublicQuerySchema,
  QuarantineQuerySchema,
} from '../../domains/fire/index.ts';
import {
  budgetSummary,
  BudgetSummaryQuerySchema,
  latestAdoptedYear,
  listRequests,
  orgUnits,
} from '../../domains/budget/index.ts';
import { UserError } from '../../platform/errors.ts';
import { MAX_YEAR, MIN_YEAR } from '../../platform/params.ts';
import {
  alignmentReport,
  budgetByGoal,
  capitalByGoal,
  currentPlan,
  measureStatuses,
  pbbReport,
  planActions,
  publicPlan,
  recordActuals,
  wwcEvidence,
} from '../../domains/strategy/index.ts';
import { AUTH_ROUTES, EDITORS, READERS } from './auth.ts';
import { cityFacts } from './city.ts';
import { COLLISION_ROUTES } from './collisions-routes.ts';
import { COVERAGE_ROUTES } from './coverage-routes.ts';
import { LIVE_ROUTES } from './live.ts';
import { openApiDocument } from './openapi.ts';
import { type AnyRoute, defineRoute } from './route.ts';
import { PAGE_ROUTES, SYSTEM_ROUTES } from './site-routes.ts';

/** A reported actual from the staff form (analysts and admins). */
const Actual = z.strictObject({
  measure: z.string().min(1),
  period: z.string().min(1),
  value: z.number().finite(),
});
const ActualsBody = z.union([Actual, z.array(Actual).min(1).max(1000)]);

/** Fire, imports, budget and strategy: the same query layer as the CLI. */
export const API_ROUTES = [
  defineRoute({
    method: 'GET',
    url: '/api/public/city',
    tag: 'public',
    access: 'public',
    shared: true,
    query: z.strictObject({}),
    summary:
      'The city this server shows: name, time zone, map extent, imported map layers, months with data',
    handle: ({ store, fire }) => cityFacts(store, fire),
  }),
  defineRoute({
    method: 'GET',
    access: READERS,
    url: '/api/v1/fire/metrics',
    tag: 'fire',
    query: MetricsApiQuerySchema,
    summary:
      'Response-time segments: n, nearest-rank p50/p90, exclusions by reason, compliance; optionally grouped',
    handle: ({ fire }, { query }) => fire.metrics(query),
  }),
  defineRoute({
    method: 'GET',
    access: READERS,
    url: '/api/v1/fire/quality',
    tag: 'fire',
    query: FireQuerySchema,
    summary: 'Data-quality report',
    handle: ({ fire }, { query }) => fire.quality(query),
  }),
  defineRoute({
    method: 'GET',
    access: READERS,
    url: '/api/v1/fire/utilization',
    tag: 'fire',
    query: FireQuerySchema,
    summary: 'Unit hour utilization by unit, unit type and hour',
    handle: ({ fire }, { query }) => fire.utilization(query),
  }),
  defineRoute({
    method: 'GET',
    access: READERS,
    url: '/api/v1/fire/concurrency',
    tag: 'fire',
    query: FireQuerySchema,
    summary: 'Concurrent incidents',
    handle: ({ fire }, { query }) => fire.concurrency(query),
  }),
  defineRoute({
    method: 'GET',
    access: READERS,
    url: '/api/v1/fire/reliability',
    tag: 'fire',
    query: FireQuerySchema,
    summary: 'First-due reliability by station',
    handle: ({ fire }, { query }) => fire.reliability(query),
  }),
  defineRoute({
    method: 'GET',
    access: READERS,
    url: '/api/v1/fire/erf',
    tag: 'fire',
    query: FireQuerySchema,
    summary: 'ERF curve: share of incidents with the full force assembled by minute',
    handle: ({ fire }, { query }) => fire.erf(query),
  }),
  defineRoute({
    method: 'GET',
    access: READERS,
    url: '/api/v1/fire/volume',
    tag: 'fire',
    query: FireQuerySchema,
    summary: 'Call volume: hour-of-week grid, by day and category',
    handle: ({ fire }, { query }) => fire.volume(query),
  }),
  defineRoute({
    method: 'GET',
    access: READERS,
    url: '/api/v1/quarantine',
    tag: 'imports',
    query: QuarantineQuerySchema,
    summary: 'Quarantined rows with file, line, field and reason',
    handle: ({ fire }, { query }) => fire.quarantine(query),
  }),
  defineRoute({
    method: 'GET',
    access: READERS,
    url: '/api/v1/imports',
    tag: 'imports',
    query: z.strictObject({}),
    summary: 'Import batches with their counts',
    handle: ({ fire }) => fire.imports(),
  }),
  defineRoute({
    method: 'GET',
    url: '/api/public/fire/performance',
    tag: 'public',
    access: 'public',
    shared: true,
    query: PublicQuerySchema,
    summary:
      'City-wide response performance (p50, p90, n, share meeting the standard): aggregates only',
    handle: ({ fire }, { query }) => publicPerformance(fire, query),
  }),
  defineRoute({
    method: 'GET',
    url: '/api/public/fire/neighborhoods',
    tag: 'public',
    access: 'public',
    shared: true,
    query: PublicQuerySchema,
    summary:
      'Calls and response times by neighbourhood (groups under 10 incidents are withheld): aggregates only',
    handle: ({ fire }, { query }) => publicNeighborhoods(fire, query),
  }),
  defineRoute({
    method: 'GET',
    access: READERS,
    url: '/api/v1/budget/summary',
    tag: 'budget',
    query: BudgetSummaryQuerySchema,
    summary:
      'Budget totals for a fiscal year, phase and direction, by fund, department, division, account or goal',
    handle: async ({ store }, { query: q }) => {
      const { by, ...rest } = q;
      return by === 'goal'
        ? budgetByGoal(store, await currentPlan(store), rest)
        : budgetSummary(store, { ...rest, by });
    },
  }),
  defineRoute({
    method: 'GET',
    access: READERS,
    url: '/api/v1/budget/org-units',
    tag: 'budget',
    query: z.strictObject({}),
    summary:
      'Departments under their current names, the names they had, and the fiscal years they are valid for',
    handle: ({ store }) => orgUnits(store),
  }),
  defineRoute({
    method: 'GET',
    access: READERS,
    url: '/api/v1/budget/requests',
    tag: 'budget',
    query: z.strictObject({ fy: z.coerce.number().int().min(MIN_YEAR).max(MAX_YEAR).optional() }),
    summary:
      'Budget requests with goals, score, decision and the full history of scores and decisions',
    handle: ({ store }, { query: q }) => listRequests(store, q.fy),
  }),
  defineRoute({
    method: 'GET',
    access: READERS,
    url: '/api/v1/strategy/status',
    tag: 'strategy',
    query: z.strictObject({}),
    summary: 'Every measure of the strategic plan: latest actual, target, status and trend',
    handle: async ({ store, fire }) => {
      const plan = await currentPlan(store);
      return { city: plan.city, measures: await measureStatuses(store, fire, plan) };
    },
  }),
  defineRoute({
    method: 'GET',
    access: READERS,
    url: '/api/v1/strategy/alignment',
    tag: 'strategy',
    query: z.strictObject({
      fy: z.coerce
        .number()
        .int()
        .min(MIN_YEAR)
        .max(MAX_YEAR)
        .optional()
        .describe('default: the latest adopted budget'),
    }),
    summary:
      'Adopted expense budget by goal: amount, share, change on the year before, per resident',
    handle: async ({ store }, { query: q }) => {
      const fy = q.fy ?? (await latestAdoptedYear(store));
      if (!fy) throw new UserError('No adopted budget is loaded.');
      return alignmentReport(store, await currentPlan(store), {
        fy,
        phase: 'adopted',
        direction: 'expense',
      });
    },
  }),
  defineRoute({
    method: 'GET',
    access: READERS,
    url: '/api/v1/strategy/pbb',
    tag: 'strategy',
    query: z.strictObject({
      fy: z.coerce.number().int().min(MIN_YEAR).max(MAX_YEAR).default(2023),
    }),
    summary: 'Priority-based budgeting: program scores, quartiles and dollars by quartile',
    handle: async ({ store }, { query: q }) =>
      (await pbbReport(store, await currentPlan(store), q.fy)) ?? { programs: [], quartiles: [] },
  }),
  defineRoute({
    method: 'GET',
    access: READERS,
    url: '/api/v1/strategy/capital',
    tag: 'strategy',
    query: z.strictObject({
      fy: z.coerce.number().int().min(MIN_YEAR).max(MAX_YEAR).default(2024),
    }),
    summary:
      'Capital projects: appropriations of a fiscal year by goal, funding to date, operating impact',
    handle: async ({ store }, { query: q }) => capitalByGoal(await currentPlan(store), q.fy),
  }),
  defineRoute({
    method: 'GET',
    access: READERS,
    url: '/api/v1/strategy/actions',
    tag: 'strategy',
    query: z.strictObject({}),
    summary:
      'Actions and initiatives of the plan: owner, due date, status, percent complete, overdue',
    handle: async ({ store }) =>
      planActions(await currentPlan(store), new Date().toISOString().slice(0, 10)),
  }),
  defineRoute({
    method: 'GET',
    access: READERS,
    url: '/api/v1/strategy/wwc',
    tag: 'strategy',
    query: z.strictObject({}),
    summary:
      'What Works Cities criteria the city’s use of CityOps evidences, with links to the evidence',
    handle: async ({ store }) => wwcEvidence(store, await currentPlan(store).catch(() => null)),
  }),
  defineRoute({
    method: 'POST',
    url: '/api/v1/strategy/actuals',
    tag: 'strategy',
    access: EDITORS,
    body: ActualsBody,
    invalidBody: 'Send {measure, period, value} or a list of them',
    summary: 'Record reported actuals of plan measures, all or nothing',
    // validated as a CSV load is, all or nothing
    handle: async ({ store }, { body, req }) =>
      recordActuals(
        store,
        await currentPlan(store),
        Array.isArray(body) ? body : [body],
        `form:${req.principal!.name}`,
      ),
  }),
  defineRoute({
    method: 'GET',
    url: '/api/public/strategy',
    tag: 'public',
    access: 'public',
    shared: true,
    query: z.strictObject({ fy: z.coerce.number().int().min(MIN_YEAR).max(MAX_YEAR).optional() }),
    summary:
      "The city's goals, their measures and progress, and where the money goes (aggregates only)",
    handle: ({ store, fire }, { query: q }) => publicPlan(store, fire, q.fy),
  }),
];

const API_DOCUMENT = defineRoute({
  method: 'GET',
  url: '/api/docs/openapi.json',
  tag: 'system',
  access: 'public',
  summary: 'This document',
  // typed, because the document is built from the list that holds this route
  handle: async ({ version }): Promise<Record<string, unknown>> => openApiDocument(version, ROUTES),
});

/** Every route the server answers: the one list the registrar, the API document and the tests walk. */
export const ROUTES = [
  ...SYSTEM_ROUTES,
  API_DOCUMENT,
  ...AUTH_ROUTES,
  ...API_ROUTES,
  ...COLLISION_ROUTES,
  ...COVERAGE_ROUTES,
  ...LIVE_ROUTES,
  ...PAGE_ROUTES,
] satisfies readonly AnyRoute[];
