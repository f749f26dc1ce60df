import type { DuckDBValue } from '@duckdb/node-api';
import { csvShape } from '../core/csv-shape.ts';
import { localToUtc } from '../core/time.ts';
import type { Store } from '../store/db.ts';
import type { WideMapping } from './mapping.ts';
import { UNIT_STAMPS } from './model.ts';
import { resolveColumns } from './normalise.ts';

/**
 * The fast import path: for a plain delimited file (one record per line) read through a wide mapping
 * with a pattern time format, DuckDB reads the file itself and the stage table is built in SQL, with
 * the same rules, messages and warnings as the row-by-row normaliser (src/fire/normalise.ts), which
 * remains the path for every other file. Line numbers stay exact: record k is on line k + 1.
 * Local times are converted through a table of the file's local hours made by the same localToUtc
 * as the row path, so daylight-saving handling is identical.
 */

const TOKENS: Record<string, string> = { YYYY: '%Y', MM: '%m', M: '%-m', DD: '%d', D: '%-d', HH: '%H', H: '%-H', hh: '%I', h: '%-I', mm: '%M', ss: '%S', SSS: '%g', A: '%p' };

/** strptime format for a mapping's pattern, or null when the fast path cannot read it. */
function strptimeFormat(pattern: string): string | null {
  if (pattern === 'iso' || pattern === 'epoch_s' || pattern === 'epoch_ms' || /%/.test(pattern)) return null;
  return pattern.replace(/YYYY|MM|M|DD|D|HH|H|hh|h|mm|ss|SSS|A/g, (t) => TOKENS[t]!);
}

/** Why a file must take the row-by-row path, or null when the fast path applies. */
export function fastPathBlocker(file: string, mapping: WideMapping, header: string[]): string | null {
  if (process.env.CITYOPS_IMPORT_PATH === 'rows') return 'the row path was asked for';
  if (!strptimeFormat(mapping.timeFormat)) return `time format ${mapping.timeFormat}`;
  const res = resolveColumns(mapping, header);
  if (!res.index.has('row_id')) return 'no row id column';
  if (res.index.has('location') && (res.index.has('lat') || res.index.has('lon'))) return 'both location and lat/lon columns';
  const shape = csvShape(file, mapping.delimiter ?? ',');
  return shape.plain ? null : `not a plain file (${shape.reason})`;
}

const TIME_FIELDS = ['call_received', 'call_created', 'closed_at', ...UNIT_STAMPS] as const;
const TEXT_FIELDS = ['incident_type', 'priority', 'address', 'station_area', 'battalion', 'zone', 'risk_class', 'neighborhood', 'unit_type', 'home_station', 'cancelled'] as const;
/** The row path's order checks (normalise.ts ORDER): stamp b must not be before stamp a. */
const ORDER: [string, string][] = [
  ['call_received', 'dispatched'], ['dispatched', 'enroute'], ['enroute', 'on_scene'],
  ['on_scene', 'transport_started'], ['transport_started', 'at_hospital'], ['dispatched', 'cleared'], ['on_scene', 'cleared'],
];
const WARNINGS_KEPT_PER_KIND = 1000;
const q = (s: string) => `'${s.replace(/'/g, "''")}'`;
/** JS number text of a double: integers without ".0". */
const num = (x: string) => `CASE WHEN ${x} = floor(${x}) THEN (${x})::BIGINT::VARCHAR ELSE (${x})::VARCHAR END`;

export interface SqlStaged {
  rowsRead: number;
  quarantined: number;
  warningCounts: Record<string, number>;
}

/** Builds the temp table `stage` (as the row path stages it) and writes quarantine and warnings. */
export async function stageWithSql(store: Store, file: string, label: string, mapping: WideMapping, header: string[], batchId: number): Promise<SqlStaged> {
  const res = resolveColumns(mapping, header);
  const fmt = strptimeFormat(mapping.timeFormat)!;
  const col = (f: string) => (res.index.has(f) ? `nullif(trim(c${res.index.get(f)}), '')` : 'NULL::VARCHAR');
  const names = header.map((_, k) => `'c${k}'`).join(', ');
  // row_number() over the scan follows the file's order (insertion order is preserved), so record k is line k + 1
  await store.run(`CREATE OR REPLACE TEMP VIEW src AS SELECT row_number() OVER () - 1 AS ord, * FROM read_csv(${q(file)}, header = true, all_varchar = true,
    delim = ${q(mapping.delimiter ?? ',')}, quote = '"', escape = '"', strict_mode = true, max_line_size = 134217728, names = [${names}])`);

  // 1. parse: text fields, and each stamp as its local wall time (seconds, as if UTC)
  const naive = (f: string) => `epoch(try_strptime(${col(f)}, ${q(fmt)}))`;
  // only `checked` (one read of the file) and `stage` are materialised; the steps between are views
  await store.run(`CREATE OR REPLACE TEMP VIEW parsed AS SELECT (ord + 2)::INTEGER AS line, ord AS seq,
      to_json([${header.map((_, k) => `coalesce(c${k}, '')`).join(', ')}])::VARCHAR AS raw,
      ${col('row_id')} AS row_id, ${col('incident_id')} AS incident_id, ${col('unit_id')} AS unit_id,
      ${TEXT_FIELDS.map((f) => `${col(f)} AS ${f}`).join(', ')},
      ${col('lat')} AS lat_text, ${col('lon')} AS lon_text, ${col('location')} AS location_text,
      ${col('dispatch_order')} AS order_text, ${col('staffing')} AS staffing_text,
      ${TIME_FIELDS.map((f) => `${col(f)} AS ${f}_text, ${naive(f)} AS ${f}_local`).join(', ')}
    FROM src`);

  // 2. zone offsets for the local hours present, from the same function as the row path
  const unparseable = (f: string) => `WHEN ${f}_text IS NOT NULL AND ${f}_local IS NULL THEN '${f}'`;
  await store.run(`CREATE OR REPLACE TEMP TABLE checked AS SELECT *,
      CASE WHEN incident_id IS NULL THEN 'incident_id' WHEN unit_id IS NULL THEN 'unit_id' ${TIME_FIELDS.map(unparseable).join(' ')} END AS bad_field
    FROM parsed`);
  const hours = await store.all<{ h: number }>(`SELECT DISTINCT floor(v / 3600)::BIGINT AS h FROM (
    ${TIME_FIELDS.map((f) => `SELECT ${f}_local AS v FROM checked WHERE ${f}_local IS NOT NULL`).join(' UNION ALL ')})`);
  await store.run('CREATE OR REPLACE TEMP TABLE tz_hours (h BIGINT, off DOUBLE, ambiguous BOOLEAN, nonexistent BOOLEAN)');
  for (let k = 0; k < hours.length; k += 500) {
    const chunk = hours.slice(k, k + 500);
    const params: DuckDBValue[] = [];
    const rows = chunk.map(({ h }) => {
      const r = localToUtc(h * 3600, mapping.timeZone);
      params.push(h, h * 3600 - r.utc, r.ambiguous, r.nonexistent);
      const b = params.length - 3;
      return `($${b}, $${b + 1}, $${b + 2}, $${b + 3})`;
    });
    await store.run(`INSERT INTO tz_hours VALUES ${rows.join(', ')}`, params);
  }

  // 3. rows with a problem (the first, in the row path's order of checks; see `checked`) go to quarantine
  const badText = TIME_FIELDS.map((f) => `WHEN '${f}' THEN ${f}_text`).join(' ');
  await store.run(`INSERT INTO quarantine SELECT (SELECT coalesce(max(quarantine_id), 0) FROM quarantine) + row_number() OVER (ORDER BY line),
      $1, $2, line, bad_field,
      CASE bad_field WHEN 'incident_id' THEN 'missing incident id' WHEN 'unit_id' THEN 'missing unit id'
        ELSE 'unparseable time: "' || (CASE bad_field ${badText} END) || '" does not match the time format "' || $3 || '"' END,
      raw
    FROM checked WHERE bad_field IS NOT NULL`, [batchId, label, mapping.timeFormat]);

  // 4. codes → canonical values, through small lookup tables of the mapping
  await store.run('CREATE OR REPLACE TEMP TABLE map_unit (code VARCHAR, unit_type VARCHAR)');
  await store.run('CREATE OR REPLACE TEMP TABLE map_category (code VARCHAR, category VARCHAR)');
  for (const [table, entries] of [['map_unit', Object.entries(mapping.unitTypes)], ['map_category', Object.entries(mapping.categories)]] as const) {
    if (entries.length) await store.run(`INSERT INTO ${table} VALUES ${entries.map((_, k) => `($${2 * k + 1}, $${2 * k + 2})`).join(', ')}`,
      entries.flatMap(([k, v]) => [k.trim().toUpperCase(), v]));
  }
  const utc = (f: string) => `(${f}_local - tz_${f}.off)`;
  const emergencyList = mapping.emergencyPriorities.map((p) => q(p.trim().toUpperCase())).join(', ') || 'NULL';
  const otherList = mapping.otherAgencyUnitTypes.map((p) => q(p.trim().toUpperCase())).join(', ') || 'NULL';
  const pair = `'^\\(?\\s*(-?\\d+(?:\\.\\d+)?)\\s*,\\s*(-?\\d+(?:\\.\\d+)?)\\s*\\)?$'`;
  const wkt = `'^(?i)POINT\\s*\\(\\s*(-?\\d+(?:\\.\\d+)?)\\s+(-?\\d+(?:\\.\\d+)?)\\s*\\)$'`;
  const home = mapping.homeStationFromUnit ? `nullif(regexp_extract(c.unit_id, ${q(`(?i)${mapping.homeStationFromUnit}`)}, 1), '')` : 'NULL';
  await store.run(`CREATE OR REPLACE TEMP VIEW norm AS SELECT c.*,
      ${TIME_FIELDS.map((f) => `${utc(f)} AS ${f}_utc, tz_${f}.ambiguous AS ${f}_amb, tz_${f}.nonexistent AS ${f}_gap`).join(', ')},
      mu.unit_type AS unit_type_mapped, mc.category AS category_mapped,
      CASE WHEN c.location_text IS NOT NULL AND c.lat_text IS NULL AND c.lon_text IS NULL THEN
        coalesce(nullif(regexp_extract(c.location_text, ${pair}, 1), ''), nullif(regexp_extract(c.location_text, ${wkt}, 2), '')) ELSE c.lat_text END AS lat_raw,
      CASE WHEN c.location_text IS NOT NULL AND c.lat_text IS NULL AND c.lon_text IS NULL THEN
        coalesce(nullif(regexp_extract(c.location_text, ${pair}, 2), ''), nullif(regexp_extract(c.location_text, ${wkt}, 1), '')) ELSE c.lon_text END AS lon_raw,
      c.location_text IS NOT NULL AND c.lat_text IS NULL AND c.lon_text IS NULL
        AND NOT regexp_matches(c.location_text, ${pair}) AND NOT regexp_matches(c.location_text, ${wkt}) AS location_bad,
      ${home} AS home_from_unit
    FROM checked c
    ${TIME_FIELDS.map((f) => `LEFT JOIN tz_hours tz_${f} ON tz_${f}.h = floor(c.${f}_local / 3600)::BIGINT`).join('\n    ')}
    LEFT JOIN map_unit mu ON mu.code = upper(c.unit_type)
    LEFT JOIN map_category mc ON mc.code = upper(c.incident_type)
    WHERE c.bad_field IS NULL`);

  // 5. the stage, column for column as the row path writes it
  const numberOf = (t: string) => `CASE WHEN isfinite(try_cast(${t} AS DOUBLE)) THEN try_cast(${t} AS DOUBLE) END`;
  const intOf = (t: string) => `CASE WHEN ${numberOf(t)} = floor(${numberOf(t)}) THEN ${numberOf(t)}::INTEGER END`;
  // materialised once: the stage and the warnings both read it
  // the raw text is the widest column: it is copied once, from `checked` into the stage, not through `located`
  await store.run(`CREATE OR REPLACE TEMP TABLE located AS SELECT * EXCLUDE (bad_field, raw), ${numberOf('lat_raw')} AS lat_n, ${numberOf('lon_raw')} AS lon_n FROM norm`);
  const plausible = `lat_n IS NOT NULL AND lon_n IS NOT NULL AND (abs(lat_n) > 90 OR abs(lon_n) > 180 OR (lat_n = 0 AND lon_n = 0))`;
  await store.run(`CREATE OR REPLACE TEMP TABLE stage AS SELECT
      rid AS source_row_id, line, seq::INTEGER AS seq, incident_id || '|' || unit_id || '|' || rid AS response_id,
      incident_id, call_received_utc AS call_received, call_created_utc AS call_created, closed_at_utc AS closed_at,
      incident_type, coalesce(category_mapped, ${q(mapping.defaultCategory)}) AS category, priority,
      CASE WHEN priority IS NULL THEN NULL ELSE upper(priority) IN (${emergencyList}) END AS emergency,
      CASE WHEN ${plausible} THEN NULL ELSE lat_n END AS lat, CASE WHEN ${plausible} THEN NULL ELSE lon_n END AS lon,
      address, station_area, battalion, zone, risk_class, neighborhood,
      unit_id, coalesce(unit_type_mapped, 'OTHER') AS unit_type, unit_type AS unit_type_source,
      coalesce(home_station, home_from_unit) AS home_station,
      unit_type IS NULL OR upper(unit_type) NOT IN (${otherList}) AS own_agency,
      ${intOf('order_text')} AS dispatch_order,
      CASE WHEN cancelled IS NULL THEN NULL ELSE regexp_matches(cancelled, '^(1|true|yes|y|t)$', 'i') END AS cancelled,
      ${intOf('staffing_text')} AS staffing,
      ${UNIT_STAMPS.map((f) => `${f}_utc AS ${f}`).join(', ')},
      (SELECT raw FROM checked c WHERE c.seq = l.seq) AS raw
    FROM (SELECT *,
      -- as the row path: the source's row id, else incident-unit-dispatch time (or dispatch order)
      coalesce(row_id, incident_id || '-' || unit_id || '-' || coalesce(${num('dispatched_utc')}, ${intOf('order_text')}::VARCHAR, '')) AS rid
      FROM located) l`);

  // 6. warnings, with the row path's kinds and messages: every check in one pass over the rows
  const checks: string[] = [];
  const add = (kind: string, field: string | null, where: string, message: string) =>
    checks.push(`CASE WHEN ${where} THEN {'field': ${field === null ? 'NULL::VARCHAR' : q(field)}, 'kind': ${q(kind)}, 'message': ${message}} END`);
  for (const f of TIME_FIELDS) {
    add('dst_ambiguous', f, `${f}_amb`, `${f}_text || ' occurs twice at the daylight-saving change; the earlier instant was used'`);
    add('dst_nonexistent', f, `${f}_gap`, `${f}_text || ' does not exist at the daylight-saving change; read with the standard-time offset'`);
    add('midnight_stamp', f, `${f}_local IS NOT NULL AND ${f}_local % 86400 = 0`, `${f}_text || ' is exactly midnight, often a placeholder for a missing time'`);
  }
  for (const [a, b] of ORDER) {
    add('out_of_order', b, `${b}_utc < ${a}_utc`, `'${b} is ' || ${num(`${a}_utc - ${b}_utc`)} || ' s before ${a}'`);
  }
  add('unknown_unit_type', 'unit_type', 'unit_type IS NOT NULL AND unit_type_mapped IS NULL', `'unit type "' || unit_type || '" is not in the mapping; counted as OTHER'`);
  if (Object.keys(mapping.categories).length) {
    add('unmapped_incident_type', 'incident_type', 'incident_type IS NOT NULL AND category_mapped IS NULL',
      `'call type "' || incident_type || '" has no category in the mapping; counted as ${mapping.defaultCategory}'`);
  }
  add('bad_coordinates', 'location', 'location_bad', `'"' || location_text || '" is not a (lat, lon) pair or a WKT point'`);
  add('bad_coordinates', 'location', 'lat_n IS NOT NULL AND lon_n IS NOT NULL AND (abs(lat_n) > 90 OR abs(lon_n) > 180 OR (lat_n = 0 AND lon_n = 0))',
    `'(' || ${num('lat_n')} || ', ' || ${num('lon_n')} || ') is not a plausible location'`);
  for (const [f, t, integer] of [['lat', 'lat_text', false], ['lon', 'lon_text', false], ['dispatch_order', 'order_text', true], ['staffing', 'staffing_text', true]] as const) {
    const ok = integer ? `${intOf(t)} IS NOT NULL` : `${numberOf(t)} IS NOT NULL`;
    add('bad_number', f, `${t} IS NOT NULL AND NOT (${ok})`, `'"' || ${t} || '" is not ${integer ? 'an integer' : 'a number'}; left empty'`);
  }
  const w: string[] = [`SELECT line, w.field, w.kind, w.message FROM (SELECT line, unnest([${checks.join(',\n    ')}]) AS w FROM located) WHERE w IS NOT NULL`];
  for (const x of res.missing) w.push(`SELECT 1, ${q(x.field)}, 'missing_column', ${q(`no column for ${x.field} (looked for: ${x.looked.join(', ')})`)}`);
  for (const u of res.unmapped) w.push(`SELECT 1, ${q(u)}, 'unmapped_column', ${q(`column "${u}" is not mapped to a field; kept in the raw row only`)}`);
  await store.run(`CREATE OR REPLACE TEMP TABLE found_warnings AS ${w.join('\nUNION ALL\n')}`);
  await store.run(`INSERT INTO import_warnings SELECT $1, $2, line, field, kind, message FROM found_warnings
    QUALIFY row_number() OVER (PARTITION BY kind ORDER BY line) <= ${WARNINGS_KEPT_PER_KIND}`, [batchId, label]);
  const counts = await store.all<{ kind: string; n: number }>('SELECT kind, count(*) AS n FROM found_warnings GROUP BY kind');
  const totals = (await store.one<{ rows: number; bad: number }>('SELECT count(*) AS rows, count(bad_field) AS bad FROM checked'))!;
  for (const v of ['norm', 'parsed', 'src']) await store.run(`DROP VIEW IF EXISTS ${v}`);
  for (const t of ['located', 'checked', 'found_warnings', 'tz_hours', 'map_unit', 'map_category']) await store.run(`DROP TABLE IF EXISTS ${t}`);
  return { rowsRead: totals.rows, quarantined: totals.bad, warningCounts: Object.fromEntries(counts.map((c) => [c.kind, c.n])) };
}
