import type { FireConfig } from './config.ts';
import { filterWindow, incidentWhere, type Filters } from './frame.ts';
import type { Store } from '../../platform/db.ts';
import type { FireQuality } from '../../contracts/fire.ts';

/**
 * Data-quality report (docs/fire-metrics.md §5): missing and out-of-order stamps, implausible intervals, missing
 * coordinates, unknown codes, by source and month, plus what imports quarantined or warned about.
 */
export type QualityReport = Omit<FireQuality, 'filters'>;

const ORDER_CHECKS: [string, string, string][] = [
  ['dispatched before call received', 'i.call_received', 'u.dispatched'],
  ['en route before dispatched', 'u.dispatched', 'u.enroute'],
  ['on scene before en route', 'u.enroute', 'u.on_scene'],
  ['cleared before on scene', 'u.on_scene', 'u.cleared'],
  ['cleared before dispatched', 'u.dispatched', 'u.cleared'],
];

export async function qualityReport(
  store: Store,
  config: FireConfig,
  filters: Filters,
): Promise<QualityReport> {
  const where = incidentWhere(filters, filterWindow(filters, config.timeZone));
  const n = where.params.length;
  /** The filter's WHERE clause with one more condition. */
  const whereAnd = (cond: string) => `${where.sql ? `${where.sql} AND` : 'WHERE'} ${cond}`;
  const joined = `FROM analytic_incidents i JOIN analytic_unit_responses u USING (incident_id)`;
  const stampCols = ['dispatched', 'enroute', 'on_scene', 'cleared'];
  const totals = (await store.one<Record<string, number>>(
    `SELECT
      (SELECT count(*) FROM analytic_incidents i ${where.sql}) AS incidents,
      (SELECT count(*) FROM analytic_incidents i ${whereAnd('i.call_received IS NULL')}) AS missing_received,
      (SELECT count(*) FROM analytic_incidents i ${whereAnd('(i.lat IS NULL OR i.lon IS NULL)')}) AS missing_coordinates,
      (SELECT count(*) FROM analytic_incidents i ${whereAnd('i.station_area IS NULL')}) AS missing_station`,
    where.params,
  ))!;
  const cap = `$${n + 1}`;
  const resp = (await store.one<Record<string, number>>(
    `SELECT count(*) AS unit_responses,
      ${stampCols.map((c) => `count(*) FILTER (WHERE u.${c} IS NULL) AS missing_${c}`).join(', ')},
      ${ORDER_CHECKS.map(([, a, b], k) => `count(*) FILTER (WHERE ${b} < ${a}) AS order_${k}`).join(', ')},
      count(*) FILTER (WHERE epoch(u.enroute) - epoch(u.dispatched) > ${cap}) AS cap_turnout,
      count(*) FILTER (WHERE epoch(coalesce(u.staging, u.on_scene)) - epoch(u.enroute) > ${cap}) AS cap_travel,
      count(*) FILTER (WHERE epoch(u.dispatched) - epoch(i.call_received) > ${cap}) AS cap_dispatch
    ${joined} ${where.sql}`,
    [...where.params, config.caps.default],
  ))!;
  const unknown = await store.all<{ unitType: string; responses: number }>(
    `SELECT u.unit_type_source AS "unitType", count(*) AS responses
    ${joined} ${whereAnd("u.unit_type = 'OTHER' AND u.unit_type_source IS NOT NULL")} GROUP BY 1 ORDER BY 2 DESC, 1`,
    where.params,
  );
  const tz = `$${n + 1}`;
  const bySource = await store.all<{ source: string; incidents: number; unitResponses: number }>(
    `SELECT i.source AS source,
      count(DISTINCT i.incident_id) AS incidents, count(u.response_id) AS "unitResponses"
    FROM analytic_incidents i LEFT JOIN analytic_unit_responses u USING (incident_id) ${where.sql} GROUP BY 1 ORDER BY 1`,
    where.params,
  );
  const byMonth = await store.all<QualityReport['byMonth'][number]>(
    `SELECT
      coalesce(strftime(timezone(${tz}, i.call_received), '%Y-%m'), 'unknown') AS month,
      count(DISTINCT i.incident_id) AS incidents, count(u.response_id) AS "unitResponses",
      count(u.response_id) FILTER (WHERE u.enroute IS NULL) AS "missingEnroute",
      count(u.response_id) FILTER (WHERE u.on_scene IS NULL) AS "missingOnScene",
      count(u.response_id) FILTER (WHERE ${ORDER_CHECKS.map(([, a, b]) => `${b} < ${a}`).join(' OR ')}) AS "outOfOrder"
    FROM analytic_incidents i LEFT JOIN analytic_unit_responses u USING (incident_id) ${where.sql} GROUP BY 1 ORDER BY 1`,
    [...where.params, config.timeZone],
  );
  const batches = await store.all<{ quarantined: number; warnings: string | null }>(
    "SELECT quarantined, warnings FROM analytic_batches WHERE domain = 'fire'",
  );
  const warnings: Record<string, number> = {};
  for (const b of batches)
    for (const [k, v] of Object.entries(JSON.parse(b.warnings ?? '{}') as Record<string, number>))
      warnings[k] = (warnings[k] ?? 0) + v;
  return {
    incidents: totals.incidents!,
    unitResponses: resp.unit_responses!,
    missingStamps: {
      call_received: totals.missing_received!,
      ...Object.fromEntries(stampCols.map((c) => [c, resp[`missing_${c}`]!])),
    },
    outOfOrder: Object.fromEntries(ORDER_CHECKS.map(([label], k) => [label, resp[`order_${k}`]!])),
    overCap: {
      callProcessing: resp.cap_dispatch!,
      turnout: resp.cap_turnout!,
      travel: resp.cap_travel!,
    },
    missingCoordinates: totals.missing_coordinates!,
    missingStationArea: totals.missing_station!,
    unknownUnitTypes: unknown,
    bySource,
    byMonth,
    imports: {
      batches: batches.length,
      quarantined: batches.reduce((a, b) => a + b.quarantined, 0),
      warnings,
    },
  };
}
