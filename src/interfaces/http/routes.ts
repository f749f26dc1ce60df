import type { RouteOptions } from 'fastify';
import { z } from 'zod';
import {
  FireQuerySchema,
  type FireService,
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
import type { Store } from '../../platform/db.ts';
import {
  alignmentReport,
  budgetByGoal,
  capitalByGoal,
  currentPlan,
  measureStatuses,
  pbbReport,
  planActions,
  publicPlan,
  wwcEvidence,
} from '../../domains/strategy/index.ts';
import { STREETS_ROUTES } from './collisions-routes.ts';
import { PLAN_ROUTES } from './coverage-routes.ts';
import type { CoverageService } from '../../domains/coverage/index.ts';
import { cityFacts } from './city.ts';

/** One API route: its query schema drives validation and the OpenAPI document alike. */
/** What a route handler can use: the fire query layer and the store (for budget and strategy). */
export interface RouteContext {
  fire: FireService;
  store: Store;
  plan: CoverageService;
}

export interface ApiRoute {
  url: string;
  /** readable signed out: aggregates only */
  public?: boolean;
  summary: string;
  tag: string;
  query: z.ZodType;
  handle(ctx: RouteContext, query: never): Promise<unknown>;
}

const route = <S extends z.ZodType>(r: {
  url: string;
  public?: boolean;
  summary: string;
  tag: string;
  query: S;
  handle(ctx: RouteContext, q: z.output<S>): Promise<unknown>;
}): ApiRoute => r as ApiRoute;

export const API_ROUTES: ApiRoute[] = [
  route({
    url: '/api/public/city',
    tag: 'public',
    public: true,
    query: z.strictObject({}),
    summary:
      'The city this server shows: name, time zone, map extent, imported map layers, months with data',
    handle: ({ store, fire }) => cityFacts(store, fire),
  }),
  route({
    url: '/api/v1/fire/metrics',
    tag: 'fire',
    query: MetricsApiQuerySchema,
    summary:
      'Response-time segments: n, nearest-rank p50/p90, exclusions by reason, compliance; optionally grouped',
    handle: ({ fire: f }, q) => f.metrics(q),
  }),
  route({
    url: '/api/v1/fire/quality',
    tag: 'fire',
    query: FireQuerySchema,
    summary: 'Data-quality report',
    handle: ({ fire: f }, q) => f.quality(q),
  }),
  route({
    url: '/api/v1/fire/utilization',
    tag: 'fire',
    query: FireQuerySchema,
    summary: 'Unit hour utilization by unit, unit type and hour',
    handle: ({ fire: f }, q) => f.utilization(q),
  }),
  route({
    url: '/api/v1/fire/concurrency',
    tag: 'fire',
    query: FireQuerySchema,
    summary: 'Concurrent incidents',
    handle: ({ fire: f }, q) => f.concurrency(q),
  }),
  route({
    url: '/api/v1/fire/reliability',
    tag: 'fire',
    query: FireQuerySchema,
    summary: 'First-due reliability by station',
    handle: ({ fire: f }, q) => f.reliability(q),
  }),
  route({
    url: '/api/v1/fire/erf',
    tag: 'fire',
    query: FireQuerySchema,
    summary: 'ERF curve: share of incidents with the full force assembled by minute',
    handle: ({ fire: f }, q) => f.erf(q),
  }),
  route({
    url: '/api/v1/fire/volume',
    tag: 'fire',
    query: FireQuerySchema,
    summary: 'Call volume: hour-of-week grid, by day and category',
    handle: ({ fire: f }, q) => f.volume(q),
  }),
  route({
    url: '/api/v1/quarantine',
    tag: 'imports',
    query: QuarantineQuerySchema,
    summary: 'Quarantined rows with file, line, field and reason',
    handle: ({ fire: f }, q) => f.quarantine(q),
  }),
  route({
    url: '/api/v1/imports',
    tag: 'imports',
    query: z.strictObject({}),
    summary: 'Import batches with their counts',
    handle: ({ fire: f }) => f.imports(),
  }),
  route({
    url: '/api/public/fire/performance',
    tag: 'public',
    public: true,
    query: PublicQuerySchema,
    summary:
      'City-wide response performance (p50, p90, n, share meeting the standard): aggregates only',
    handle: ({ fire: f }, q) => publicPerformance(f, q),
  }),
  route({
    url: '/api/public/fire/neighborhoods',
    tag: 'public',
    public: true,
    query: PublicQuerySchema,
    summary:
      'Calls and response times by neighbourhood (groups under 10 incidents are withheld): aggregates only',
    handle: ({ fire: f }, q) => publicNeighborhoods(f, q),
  }),
  route({
    url: '/api/v1/budget/summary',
    tag: 'budget',
    query: BudgetSummaryQuerySchema,
    summary:
      'Budget totals for a fiscal year, phase and direction, by fund, department, division, account or goal',
    handle: async ({ store }, q) => {
      const { by, ...rest } = q;
      return by === 'goal'
        ? budgetByGoal(store, await currentPlan(store), rest)
        : budgetSummary(store, { ...rest, by });
    },
  }),
  route({
    url: '/api/v1/budget/org-units',
    tag: 'budget',
    query: z.strictObject({}),
    summary:
      'Departments under their current names, the names they had, and the fiscal years they are valid for',
    handle: ({ store }) => orgUnits(store),
  }),
  route({
    url: '/api/v1/budget/requests',
    tag: 'budget',
    query: z.strictObject({ fy: z.coerce.number().int().min(MIN_YEAR).max(MAX_YEAR).optional() }),
    summary:
      'Budget requests with goals, score, decision and the full history of scores and decisions',
    handle: ({ store }, q) => listRequests(store, q.fy),
  }),
  route({
    url: '/api/v1/strategy/status',
    tag: 'strategy',
    query: z.strictObject({}),
    summary: 'Every measure of the strategic plan: latest actual, target, status and trend',
    handle: async ({ store, fire }) => {
      const plan = await currentPlan(store);
      return { city: plan.city, measures: await measureStatuses(store, fire, plan) };
    },
  }),
  route({
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
    handle: async ({ store }, q) => {
      const fy = q.fy ?? (await latestAdoptedYear(store));
      if (!fy) throw new UserError('No adopted budget is loaded.');
      return alignmentReport(store, await currentPlan(store), {
        fy,
        phase: 'adopted',
        direction: 'expense',
      });
    },
  }),
  route({
    url: '/api/v1/strategy/pbb',
    tag: 'strategy',
    query: z.strictObject({
      fy: z.coerce.number().int().min(MIN_YEAR).max(MAX_YEAR).default(2023),
    }),
    summary: 'Priority-based budgeting: program scores, quartiles and dollars by quartile',
    handle: async ({ store }, q) =>
      (await pbbReport(store, await currentPlan(store), q.fy)) ?? { programs: [], quartiles: [] },
  }),
  route({
    url: '/api/v1/strategy/capital',
    tag: 'strategy',
    query: z.strictObject({
      fy: z.coerce.number().int().min(MIN_YEAR).max(MAX_YEAR).default(2024),
    }),
    summary:
      'Capital projects: appropriations of a fiscal year by goal, funding to date, operating impact',
    handle: async ({ store }, q) => capitalByGoal(await currentPlan(store), q.fy),
  }),
  route({
    url: '/api/v1/strategy/actions',
    tag: 'strategy',
    query: z.strictObject({}),
    summary:
      'Actions and initiatives of the plan: owner, due date, status, percent complete, overdue',
    handle: async ({ store }) =>
      planActions(await currentPlan(store), new Date().toISOString().slice(0, 10)),
  }),
  route({
    url: '/api/v1/strategy/wwc',
    tag: 'strategy',
    query: z.strictObject({}),
    summary:
      'What Works Cities criteria the city’s use of CityOps evidences, with links to the evidence',
    handle: async ({ store }) => wwcEvidence(store, await currentPlan(store).catch(() => null)),
  }),
  route({
    url: '/api/public/strategy',
    tag: 'public',
    public: true,
    query: z.strictObject({ fy: z.coerce.number().int().min(MIN_YEAR).max(MAX_YEAR).optional() }),
    summary:
      "The city's goals, their measures and progress, and where the money goes (aggregates only)",
    handle: ({ store, fire }, q) => publicPlan(store, fire, q.fy),
  }),
  ...STREETS_ROUTES,
  ...PLAN_ROUTES,
];

const asJsonSchema = (schema: z.ZodType) =>
  z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as {
    properties?: Record<string, { description?: string }>;
    required?: string[];
  };

/** One operation of the document, from what the route declared. */
function operation(route: RouteOptions): Record<string, unknown> {
  const config = route.config ?? {};
  const query = config.query ? asJsonSchema(config.query) : {};
  const pathParams = [...route.url!.matchAll(/:(\w+)/g)].map((m) => ({
    name: m[1],
    in: 'path',
    required: true,
    schema: { type: 'string' },
  }));
  const refusals =
    config.access === 'public'
      ? {}
      : {
          401: { description: 'Not signed in' },
          403: { description: 'Signed in with a role that may not' },
        };
  return {
    summary: config.summary,
    tags: config.tag ? [config.tag] : [],
    security: config.access === 'public' ? [] : [{ bearer: [] }, { session: [] }],
    'x-roles': config.access === 'public' ? 'public' : config.access,
    parameters: [
      ...pathParams,
      ...Object.entries(query.properties ?? {}).map(([name, s]) => ({
        name,
        in: 'query',
        required: (query.required ?? []).includes(name),
        description: s.description,
        schema: s,
      })),
    ],
    ...(config.body
      ? {
          requestBody: {
            required: true,
            content: { 'application/json': { schema: asJsonSchema(config.body) } },
          },
        }
      : {}),
    responses: {
      200: { description: 'Result' },
      400: { description: 'Invalid input: the answer lists each problem' },
      ...refusals,
    },
  };
}

/** OpenAPI 3.1 document of every API route the server registered, from the routes' own declarations. */
export function openApiDocument(
  version: string,
  routes: readonly RouteOptions[],
): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    if (!route.url!.startsWith('/api/')) continue;
    const path = route.url!.replace(/:(\w+)/g, '{$1}');
    for (const method of [route.method].flat()) {
      if (method === 'HEAD') continue;
      (paths[path] ??= {})[method.toLowerCase()] = operation(route);
    }
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'CityOps API',
      version,
      description:
        'Operations intelligence for city governments. Times in seconds; percentiles exact (nearest rank).',
    },
    paths,
    components: {
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description: 'a token from `cityops token create`',
        },
        session: {
          type: 'apiKey',
          in: 'cookie',
          name: 'cityops_session',
          description: 'set by POST /api/auth/login',
        },
      },
    },
  };
}
