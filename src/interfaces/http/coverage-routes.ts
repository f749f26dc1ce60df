import { z } from 'zod';
import { ScenarioQuerySchema } from '../../domains/coverage/index.ts';
import type { ApiRoute, RouteContext } from './routes.ts';

const route = <S extends z.ZodType>(r: {
  url: string;
  summary: string;
  tag: string;
  query: S;
  handle(ctx: RouteContext, q: z.output<S>): Promise<unknown>;
}): ApiRoute => r as ApiRoute;

/** Strategic planning: the same query layer as `cityops plan …`. What-ifs are reads, so viewers may run them. */
export const PLAN_ROUTES: ApiRoute[] = [
  route({
    url: '/api/v1/plan/stations',
    tag: 'plan',
    query: z.strictObject({}),
    summary:
      'Stations with their units and busy fractions, the road network, its extent and the calibration in use',
    handle: ({ plan }) => plan.stations(),
  }),
  route({
    url: '/api/v1/plan/scenario',
    tag: 'plan',
    query: ScenarioQuerySchema.extend({ bands: z.enum(['true', 'false']).default('false') }),
    summary:
      'Coverage today and in a what-if (close, add, move stations; add or remove units): shares, newly covered, lost, predicted p90 travel; union drive-time bands with bands=true',
    handle: ({ plan }, q) => plan.scenario(q, { bands: q.bands === 'true' }),
  }),
  route({
    url: '/api/v1/plan/bands',
    tag: 'plan',
    query: ScenarioQuerySchema,
    summary: 'Drive-time bands per station and their union (H3 resolution-9 cells merged), GeoJSON',
    handle: ({ plan }, q) => plan.bands(q),
  }),
  route({
    url: '/api/v1/plan/place',
    tag: 'plan',
    query: ScenarioQuerySchema.extend({
      k: z.coerce.number().int().min(1).max(10).default(1),
      timeLimit: z.coerce.number().min(1).max(60).default(10),
    }),
    summary: 'Maximal covering location: k new sites by greedy and HiGHS, with the bound and gap',
    handle: ({ plan }, q) => plan.place(q),
  }),
  route({
    url: '/api/v1/plan/simulate',
    tag: 'plan',
    query: ScenarioQuerySchema,
    summary:
      'Replay of the real incidents against a deployment: simulated and observed first-unit travel',
    handle: ({ plan }, q) => plan.simulate(q),
  }),
];
