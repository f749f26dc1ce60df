import { z } from 'zod';
import type { Store } from '../../platform/db.ts';

const REFRESH_MS = 60_000;
import {
  applyScenario,
  bandsGeoJson,
  compare,
  coverage,
  COVERAGE_DEFAULTS,
  type Scenario,
} from './coverage.ts';
import { loadCoverageContext, type CoverageContext } from './context.ts';
import { placeStations } from './place.ts';
import { simulate } from './simulate.ts';

/**
 * The planning query layer for the API and the planning page. The context (graph, stations, snapped
 * demand) is built once and kept until an import or a calibration changes what it was built from, so a
 * dragged station costs only the searches (milliseconds).
 */
const latLon = z.string().regex(/^-?\d+(\.\d+)?,-?\d+(\.\d+)?$/, 'LAT,LON');
const list = (item: z.ZodString) =>
  z
    .string()
    .max(2000)
    .transform((s, ctx) => {
      const parts = s
        .split(';')
        .map((x) => x.trim())
        .filter(Boolean);
      for (const p of parts) {
        const r = item.safeParse(p);
        if (!r.success) {
          ctx.addIssue({ code: 'custom', message: `"${p}": ${r.error.issues[0]!.message}` });
          return z.NEVER;
        }
      }
      return parts;
    });

export const ScenarioQuerySchema = z.strictObject({
  minutes: z.coerce.number().min(0.5).max(60).default(COVERAGE_DEFAULTS.minutes),
  priority: z.enum(['emergency', 'all']).default('emergency'),
  close: z
    .string()
    .max(500)
    .regex(/^[\w-]+(,[\w-]+)*$/, 'station ids, comma-separated')
    .optional()
    .describe('stations to close'),
  add: list(latLon).optional().describe('new stations: LAT,LON;LAT,LON'),
  move: list(z.string().regex(/^[\w-]+:-?\d+(\.\d+)?,-?\d+(\.\d+)?$/, 'ID:LAT,LON'))
    .optional()
    .describe('moved stations: ID:LAT,LON;…'),
  addUnit: list(z.string().regex(/^[\w-]+:[A-Za-z_]+$/, 'STATION:TYPE'))
    .optional()
    .describe('added units: STATION:TYPE;…'),
  removeUnit: z.string().max(500).optional().describe('removed units, comma-separated'),
});
export type ScenarioQuery = z.output<typeof ScenarioQuerySchema>;

export function scenarioFromQuery(q: ScenarioQuery): Scenario {
  const ll = (s: string) => {
    const [lat, lon] = s.split(',').map(Number);
    return { lat: lat!, lon: lon! };
  };
  return {
    close: q.close ? q.close.split(',') : [],
    add: (q.add ?? []).map(ll),
    move: (q.move ?? []).map((m) => {
      const [id, p] = m.split(':');
      return { id: id!, ...ll(p!) };
    }),
    addUnits: (q.addUnit ?? []).map((u) => {
      const [station, type] = u.split(':');
      return { station: station!, type: type! };
    }),
    removeUnits: q.removeUnit ? q.removeUnit.split(',') : [],
  };
}

export class CoverageService {
  private cache = new Map<string, { key: string; ctx: CoverageContext; at: number }>();
  constructor(private store: Store) {}

  async context(priority: 'emergency' | 'all' = 'emergency'): Promise<CoverageContext> {
    const key = (await this.store.one<{
      k: string;
    }>(`SELECT concat_ws('/', (SELECT max(batch_id) FROM analytic_batches),
      (SELECT max(updated_at)::VARCHAR FROM plan_settings)) AS k`))!.k;
    const hit = this.cache.get(priority);
    // a live CAD feed adds batches all the time: the demand is refreshed at most once a minute
    if (hit && (hit.key === key || Date.now() - hit.at < REFRESH_MS)) return hit.ctx;
    const ctx = await loadCoverageContext(this.store, { priority });
    this.cache.set(priority, { key, ctx, at: Date.now() });
    return ctx;
  }

  /** Today and the what-if side by side, with the union bands for the map. */
  async scenario(q: ScenarioQuery, opts: { bands?: boolean } = {}) {
    const t0 = performance.now();
    const ctx = await this.context(q.priority);
    const o = { ...COVERAGE_DEFAULTS, minutes: q.minutes };
    const sc = scenarioFromQuery(q);
    const todayStations = applyScenario(ctx, {}),
      stations = applyScenario(ctx, sc);
    const today = coverage(ctx, todayStations, o),
      what = coverage(ctx, stations, o);
    const strip = ({ coveredFlags: _f, ...r }: typeof today) => r;
    const uncovered = ctx.demand
      .filter((_, i) => !what.coveredFlags[i])
      .map((d) => [Number(d.lon.toFixed(5)), Number(d.lat.toFixed(5))]);
    return {
      today: strip(today),
      scenario: strip(what),
      comparison: compare(today, what),
      uncovered: { type: 'MultiPoint' as const, coordinates: uncovered },
      bands: opts.bands
        ? bandsGeoJson(ctx, stations, [q.minutes, q.minutes + 2, q.minutes + 4], {
            perStation: false,
            erf: { minutes: o.erfMinutes, staff: o.erfStaff },
          })
        : undefined,
      ms: performance.now() - t0,
    };
  }

  async bands(q: ScenarioQuery) {
    const ctx = await this.context(q.priority);
    return bandsGeoJson(
      ctx,
      applyScenario(ctx, scenarioFromQuery(q)),
      [q.minutes, q.minutes + 2, q.minutes + 4],
      { erf: { minutes: COVERAGE_DEFAULTS.erfMinutes, staff: COVERAGE_DEFAULTS.erfStaff } },
    );
  }

  async place(q: ScenarioQuery & { k: number; timeLimit: number }) {
    const ctx = await this.context(q.priority);
    return placeStations(ctx, applyScenario(ctx, scenarioFromQuery(q)), {
      k: q.k,
      minutes: q.minutes,
      candidateResolution: 9,
      timeLimitS: q.timeLimit,
    });
  }

  async simulate(q: ScenarioQuery) {
    const ctx = await this.context(q.priority);
    return simulate(ctx, applyScenario(ctx, scenarioFromQuery(q)));
  }

  async stations() {
    const ctx = await this.context();
    return {
      network: ctx.network,
      bbox: ctx.graph.bbox,
      calibration: ctx.calibration,
      clip: ctx.clip,
      stations: ctx.stations.map((s) => ({
        id: s.id,
        name: s.name,
        lat: s.lat,
        lon: s.lon,
        onNetwork: s.node !== null,
        units: s.units,
      })),
    };
  }
}
