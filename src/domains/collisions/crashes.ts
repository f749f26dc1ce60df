import { z } from 'zod';
import { queryYear } from '../../platform/params.ts';
import type { Store } from '../../platform/db.ts';
import { parseArea, pointInArea, type AreaGeometry } from '../../platform/geo.ts';
import type { Severity } from './profiles.ts';

/**
 * The one crash filter every streets view shares (so totals reconcile across widgets): mode, severity,
 * years, time of day, jurisdiction and an optional district polygon.
 */
export const SEVERITIES = ['K', 'A', 'B', 'C', 'O', 'I'] as const;
export const MODES = ['pedestrian', 'bicycle', 'motorcycle', 'other'] as const;

const list = <T extends readonly [string, ...string[]]>(values: T) =>
  z
    .preprocess(
      (v) =>
        typeof v === 'string'
          ? v
              .split(',')
              .map((s) => s.trim())
              .filter(Boolean)
          : v,
      z.array(z.enum(values)).min(1),
    )
    .optional();

export const CrashFilterSchema = z.strictObject({
  mode: list(MODES).describe(
    'comma-separated: pedestrian, bicycle, motorcycle, other (crashes with none of the three flags)',
  ),
  severity: list(SEVERITIES).describe(
    'comma-separated KABCO letters (I = injury of unknown level, NYC)',
  ),
  from: queryYear.optional().describe('first year'),
  to: queryYear.optional().describe('last year'),
  hours: z
    .string()
    .regex(/^([01]?\d|2[0-3])-([01]?\d|2[0-3])$/, 'hours are FROM-TO, whole hours 0–23, e.g. 22-5')
    .optional()
    .describe('time of day, e.g. 7-10 or 22-5 (wraps midnight)'),
  city: z.string().max(100).optional().describe('jurisdiction (the CITY column)'),
  district: z
    .string()
    .max(200_000)
    .superRefine((text, ctx) => {
      try {
        parseArea(JSON.parse(text), 'district');
      } catch (e) {
        ctx.addIssue({
          code: 'custom',
          message:
            e instanceof SyntaxError ? `district is not JSON: ${e.message}` : (e as Error).message,
        });
      }
    })
    .optional()
    .describe(
      'GeoJSON Polygon or MultiPolygon (geometry, Feature or FeatureCollection); only crashes inside',
    ),
});
export type CrashFilter = z.output<typeof CrashFilterSchema>;

export interface Crash {
  id: string;
  date: string;
  year: number;
  month: number;
  minute: number | null;
  severity: Severity;
  killed: number;
  injured: number;
  severe: number | null;
  pedestrian: boolean;
  bicycle: boolean;
  motorcycle: boolean;
  lat: number | null;
  lon: number | null;
  primary: string | null;
  secondary: string | null;
  intersection: boolean | null;
  distanceFt: number | null;
  city: string | null;
}

export interface CrashSet {
  crashes: Crash[];
  filter: CrashFilter;
  excluded: { noLocation: number };
}

/** People killed or seriously injured in a crash; where the serious count is unknown, an A crash counts one. */
export const ksiPeople = (c: Crash) => c.killed + (c.severe ?? (c.severity === 'A' ? 1 : 0));
export const isKA = (c: Crash) => c.severity === 'K' || c.severity === 'A';

/**
 * Crashes matching the filter. With `located`, only crashes with coordinates (the rest are counted
 * in `excluded.noLocation`); a district polygon implies `located`.
 */
export async function loadCrashes(
  store: Store,
  filter: CrashFilter,
  opts: { located?: boolean } = {},
): Promise<CrashSet> {
  const where: string[] = [];
  const params: (string | number)[] = [];
  const p = (v: string | number) => {
    params.push(v);
    return `$${params.length}`;
  };
  if (filter.severity) where.push(`severity IN (${filter.severity.map(p).join(', ')})`);
  if (filter.from) where.push(`year(collision_date) >= ${p(filter.from)}`);
  if (filter.to) where.push(`year(collision_date) <= ${p(filter.to)}`);
  if (filter.city) where.push(`upper(city) = upper(${p(filter.city)})`);
  if (filter.mode) {
    const m = filter.mode.map((x) =>
      x === 'other' ? '(NOT pedestrian AND NOT bicycle AND NOT motorcycle)' : x,
    );
    where.push(`(${m.join(' OR ')})`);
  }
  if (filter.hours) {
    // whole hours, both ends included: 7-9 is 07:00–09:59; 22-5 wraps midnight
    const [a, b] = filter.hours.split('-').map(Number) as [number, number];
    const from = p(a * 60),
      to = p((b + 1) * 60);
    where.push(
      a <= b
        ? `collision_minute >= ${from} AND collision_minute < ${to}`
        : `(collision_minute >= ${from} OR collision_minute < ${to})`,
    );
  }
  // named as Crash names them, in its order: a row is a Crash but for year and month
  const rows = await store.all<Omit<Crash, 'year' | 'month'>>(
    `SELECT case_id AS id, strftime(collision_date, '%Y-%m-%d') AS date,
      collision_minute AS minute, severity, killed, injured, severe_injured AS severe, pedestrian, bicycle, motorcycle, lat, lon,
      primary_rd AS "primary", secondary_rd AS secondary, intersection, distance_ft AS "distanceFt", city
    FROM collisions ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY collision_date, case_id`,
    params,
  );
  const area: AreaGeometry | null = filter.district
    ? parseArea(JSON.parse(filter.district), 'district')
    : null;
  let noLocation = 0;
  const crashes: Crash[] = [];
  for (const r of rows) {
    const located = r.lat !== null && r.lon !== null;
    if ((opts.located || area) && !located) {
      noLocation++;
      continue;
    }
    if (area && !pointInArea(r.lon!, r.lat!, area)) continue;
    const { id, date, ...rest } = r;
    crashes.push({
      id,
      date,
      year: Number(date.slice(0, 4)),
      month: Number(date.slice(5, 7)),
      ...rest,
    });
  }
  return { crashes, filter, excluded: { noLocation } };
}
