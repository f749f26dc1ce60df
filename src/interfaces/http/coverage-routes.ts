import { z } from 'zod';
import { calibrate, ScenarioQuerySchema } from '../../domains/coverage/index.ts';
import { UserError } from '../../platform/errors.ts';
import { EDITORS, READERS } from './auth.ts';
import { defineRoute, HttpRefusal } from './route.ts';

/**
 * Coverage: stations, drive times and what they reach; the same query layer as `cityops coverage …`.
 * What-ifs are reads, so viewers may run them. Each path is also answered under /api/v1/plan/, its
 * name before "plan" came to mean only the council's strategic plan (deprecated).
 */
export const COVERAGE_ROUTES = [
  defineRoute({
    method: 'GET',
    access: READERS,
    url: '/api/v1/coverage/stations',
    aliases: ['/api/v1/plan/stations'],
    tag: 'coverage',
    query: z.strictObject({}),
    summary:
      'Stations with their units and busy fractions, the road network, its extent and the calibration in use',
    handle: ({ coverage }) => coverage.stations(),
  }),
  defineRoute({
    method: 'GET',
    access: READERS,
    url: '/api/v1/coverage/scenario',
    aliases: ['/api/v1/plan/scenario'],
    tag: 'coverage',
    query: ScenarioQuerySchema.extend({ bands: z.enum(['true', 'false']).default('false') }),
    summary:
      'Coverage today and in a what-if (close, add, move stations; add or remove units): shares, newly covered, lost, predicted p90 travel; union drive-time bands with bands=true',
    handle: ({ coverage }, { query: q }) => coverage.scenario(q, { bands: q.bands === 'true' }),
  }),
  defineRoute({
    method: 'GET',
    access: READERS,
    url: '/api/v1/coverage/bands',
    aliases: ['/api/v1/plan/bands'],
    tag: 'coverage',
    query: ScenarioQuerySchema,
    summary: 'Drive-time bands per station and their union (H3 resolution-9 cells merged), GeoJSON',
    handle: ({ coverage }, { query: q }) => coverage.bands(q),
  }),
  defineRoute({
    method: 'GET',
    access: READERS,
    url: '/api/v1/coverage/place',
    aliases: ['/api/v1/plan/place'],
    tag: 'coverage',
    query: ScenarioQuerySchema.extend({
      k: z.coerce.number().int().min(1).max(10).default(1),
      timeLimit: z.coerce.number().min(1).max(60).default(10),
    }),
    summary: 'Maximal covering location: k new sites by greedy and HiGHS, with the bound and gap',
    handle: ({ coverage }, { query: q }) => coverage.place(q),
  }),
  defineRoute({
    method: 'GET',
    access: READERS,
    url: '/api/v1/coverage/simulate',
    aliases: ['/api/v1/plan/simulate'],
    tag: 'coverage',
    query: ScenarioQuerySchema,
    summary:
      'Replay of the real incidents against a deployment: simulated and observed first-unit travel',
    handle: ({ coverage }, { query: q }) => coverage.simulate(q),
  }),
  defineRoute({
    method: 'POST',
    url: '/api/v1/coverage/calibrate',
    aliases: ['/api/v1/plan/calibrate'],
    tag: 'coverage',
    access: EDITORS,
    summary: 'Fit drive-time speeds to the observed CAD travel times and store them',
    handle: async ({ store, coverage }) => {
      try {
        return await calibrate(store, await coverage.context());
      } catch (e) {
        if (e instanceof UserError) throw e;
        throw new HttpRefusal(400, `Cannot calibrate: ${(e as Error).message}`);
      }
    },
  }),
];
