import { z } from 'zod';
import { boundsOf, MIDDLE_EXTENT_SQL, type Bounds } from '../../platform/geo.ts';
import { isoDay } from '../../platform/params.ts';
import type { Store } from '../../platform/db.ts';
import { resolveStandard, type FireConfig } from './config.ts';
import { loadFrame, type Filters, type Frame } from './frame.ts';
import { computeMetrics, erfCurve, GROUP_KEYS, SEGMENT_DEFINITIONS } from './metrics.ts';
import {
  callVolume,
  concurrency,
  firstDueReliability,
  unitHourUtilization,
  type DataExtent,
} from './operations.ts';
import { qualityReport } from './quality.ts';
import { STANDARDS } from './standards.ts';

/**
 * The fire query layer: the one entry point through which the CLI, the HTTP API and reports get
 * every figure, from the same filters, so a number never differs between them.
 */

/** A list given as repeated values or comma-separated text. */
const list = z
  .union([z.string(), z.array(z.string())])
  .transform((v) => (Array.isArray(v) ? v : v.split(',')).map((s) => s.trim()).filter(Boolean))
  .optional();

export const FireQuerySchema = z.strictObject({
  from: isoDay.optional().describe('first local date included (by call received)'),
  to: isoDay.optional().describe('last local date included'),
  priority: z
    .enum(['all', 'emergency'])
    .default('all')
    .describe('emergency = lights-and-sirens incidents'),
  category: list.describe(
    'incident categories, comma-separated (EMS, FIRE, RESCUE, HAZMAT, SERVICE, OTHER)',
  ),
  station: list.describe('first-due station areas, comma-separated'),
  unitType: list.describe('unit types, comma-separated (ENGINE, TRUCK, MEDIC_ALS, …)'),
});
export type FireQuery = z.output<typeof FireQuerySchema>;

export const MetricsQuerySchema = FireQuerySchema.extend({
  by: z
    .union([z.string(), z.array(z.string())])
    .transform((v) => (Array.isArray(v) ? v : v.split(',')).map((s) => s.trim()).filter(Boolean))
    .pipe(z.array(z.enum(GROUP_KEYS)).max(3))
    .optional()
    .describe(`group by one to three keys, comma-separated: ${GROUP_KEYS.join(', ')}`),
  standard: z.string().optional().describe('standards preset id (default nfpa1710-2020)'),
});
export type MetricsQuery = z.output<typeof MetricsQuerySchema>;

/** Over HTTP a standard is a preset id: a file path would let a request make the server read files. */
export const MetricsApiQuerySchema = MetricsQuerySchema.extend({
  standard: z
    .string()
    .superRefine((id, ctx) => {
      if (!Object.hasOwn(STANDARDS, id))
        ctx.addIssue({
          code: 'custom',
          message: `Unknown standard "${id.slice(0, 40)}". Presets: ${Object.keys(STANDARDS).join(', ')}`,
        });
    })
    .optional()
    .describe(`standards preset id: ${Object.keys(STANDARDS).join(', ')} (default nfpa1710-2020)`),
});

export const QuarantineQuerySchema = z.strictObject({
  batch: z.coerce.number().int().positive().optional(),
  limit: z.coerce.number().int().min(1).max(10000).default(100),
  offset: z.coerce.number().int().min(0).default(0),
});
export type QuarantineQuery = z.output<typeof QuarantineQuerySchema>;

function filtersOf(q: FireQuery): Filters {
  return {
    from: q.from,
    to: q.to,
    priority: q.priority,
    category: q.category,
    station: q.station,
    unitType: q.unitType,
  };
}

export interface ImportBatchRow {
  batch: number;
  domain: string;
  file: string;
  profile: string;
  source: string;
  startedAt: string;
  rowsRead: number;
  inserted: number;
  updated: number;
  unchanged: number;
  quarantined: number;
  warnings: Record<string, number>;
}

/** Frames kept per filter set and data version: a dashboard's many figures share one frame. */
const FRAME_CACHE_SIZE = 4; // a frame of 5 M unit responses takes about 1 GB, so few are kept

export class FireService {
  private frames = new Map<string, Promise<Frame>>();

  constructor(
    private readonly store: Store,
    readonly config: FireConfig,
  ) {}

  private async frame(q: FireQuery): Promise<Frame> {
    const version = await analyticVersion(this.store);
    const filters = filtersOf(q);
    const key = JSON.stringify([version, filters]);
    let f = this.frames.get(key);
    if (!f) {
      f = loadFrame(this.store, filters, this.config.timeZone);
      f.catch(() => this.frames.delete(key));
      this.frames.set(key, f);
      if (this.frames.size > FRAME_CACHE_SIZE) this.frames.delete(this.frames.keys().next().value!);
    }
    return f;
  }

  /** First and last month (YYYY-MM, local) with incidents, the demo replay left out; null when none are loaded. */
  async dataMonths(): Promise<{ from: string; to: string } | null> {
    const r = await this.store.one<{ a: string | null; b: string | null }>(
      `SELECT strftime(timezone($1, min(call_received)), '%Y-%m') AS a, strftime(timezone($1, max(call_received)), '%Y-%m') AS b
         FROM analytic_incidents`,
      [this.config.timeZone],
    );
    return r?.a && r.b ? { from: r.a, to: r.b } : null;
  }

  /** The box around the middle 98% of incident positions (the demo replay left out), or null. */
  async positionExtent(): Promise<Bounds | null> {
    return boundsOf(
      await this.store.one(
        `SELECT ${MIDDLE_EXTENT_SQL} FROM analytic_incidents WHERE lat IS NOT NULL`,
      ),
    );
  }

  /** The latest month (YYYY-MM, local) with at least `min` incidents, the demo replay left out. */
  async latestMonthWith(min: number): Promise<string | null> {
    const r = await this.store.one<{ m: string }>(
      `SELECT strftime(timezone($1, call_received), '%Y-%m') AS m FROM analytic_incidents WHERE call_received IS NOT NULL
         GROUP BY m HAVING count(*) >= $2 ORDER BY m DESC LIMIT 1`,
      [this.config.timeZone, min],
    );
    return r?.m ?? null;
  }

  private describe(q: FireQuery) {
    return { filters: { ...filtersOf(q), timeZone: this.config.timeZone } };
  }

  /** Response-time segments with n, nearest-rank p50/p90, exclusions by reason and compliance. */
  async metrics(q: MetricsQuery) {
    const standard = resolveStandard(q.standard ?? this.config.standard);
    const frame = await this.frame(q);
    const method = {
      percentiles: 'nearest-rank (the ceil(q·n)-th smallest value)',
      capSeconds: this.config.caps.default,
      definitions: SEGMENT_DEFINITIONS,
    };
    if (q.by?.length) {
      const g = computeMetrics(frame, this.config, standard, q.by);
      return { ...this.describe(q), standard: g.standard, by: g.by, groups: g.groups, method };
    }
    const m = computeMetrics(frame, this.config, standard);
    return {
      ...this.describe(q),
      standard: m.standard,
      incidents: m.incidents,
      unitResponses: m.unitResponses,
      ...m.segments,
      method,
    };
  }

  async quality(q: FireQuery) {
    return { ...this.describe(q), ...(await qualityReport(this.store, this.config, filtersOf(q))) };
  }

  /** The first and last call received on record (UTC seconds), the demo replay left out. */
  private async dataExtent(): Promise<DataExtent | null> {
    const r = await this.store.one<{ first: number | null; last: number | null }>(
      `SELECT epoch(min(call_received)) AS first, epoch(max(call_received)) AS last FROM analytic_incidents`,
    );
    return r?.first != null && r.last != null ? { first: r.first, last: r.last } : null;
  }

  async utilization(q: FireQuery) {
    const [frame, data] = [await this.frame(q), await this.dataExtent()];
    return { ...this.describe(q), ...unitHourUtilization(frame, this.config, data) };
  }

  async concurrency(q: FireQuery) {
    const [frame, data] = [await this.frame(q), await this.dataExtent()];
    return { ...this.describe(q), ...concurrency(frame, this.config, data) };
  }

  async reliability(q: FireQuery) {
    return { ...this.describe(q), ...firstDueReliability(await this.frame(q), this.config) };
  }

  async erf(q: FireQuery) {
    return {
      ...this.describe(q),
      definition: SEGMENT_DEFINITIONS.erf,
      ...erfCurve(await this.frame(q), this.config),
    };
  }

  async volume(q: FireQuery) {
    return { ...this.describe(q), ...callVolume(await this.frame(q)) };
  }

  async quarantine(q: QuarantineQuery) {
    const where = q.batch ? 'WHERE q.batch_id = $1' : '';
    const params = q.batch ? [q.batch] : [];
    const total = (await this.store.one<{ n: number }>(
      `SELECT count(*) AS n FROM quarantine q ${where}`,
      params,
    ))!.n;
    const rows = await this.store.all(
      `SELECT q.quarantine_id AS id, q.batch_id AS batch, q.file, q.line, q.field, q.reason, q.raw
      FROM quarantine q ${where} ORDER BY q.quarantine_id LIMIT ${q.limit} OFFSET ${q.offset}`,
      params,
    );
    return { total, limit: q.limit, offset: q.offset, rows };
  }

  async imports() {
    const rows = await this.store.all<
      Record<string, unknown>
    >(`SELECT batch_id AS batch, domain, file, profile, source,
        strftime(started_at, '%Y-%m-%dT%H:%M:%SZ') AS "startedAt", rows_read AS "rowsRead", inserted, updated, unchanged, quarantined, warnings
      FROM import_batches ORDER BY batch_id`);
    return rows.map((r) => ({
      ...r,
      warnings: JSON.parse((r.warnings as string | null) ?? '{}') as Record<string, number>,
    })) as ImportBatchRow[];
  }
}

/** Incidents stored, the demo replay included. */
export async function incidentCount(store: Store): Promise<number> {
  return (await store.one<{ n: number }>('SELECT count(*)::INTEGER AS n FROM incidents'))!.n;
}

/**
 * The version of the data analyses read: the latest batch that is not the demo replay. Any import
 * or live CAD batch bumps it, so an answer cached on it is never stale, and the replay's steady
 * stream of batches leaves such caches alone.
 */
export async function analyticVersion(store: Store): Promise<number> {
  return (await store.one<{ v: number }>(
    'SELECT coalesce(max(batch_id), 0)::INTEGER AS v FROM analytic_batches',
  ))!.v;
}
