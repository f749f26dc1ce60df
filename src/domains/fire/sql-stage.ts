import type { FileScan } from '../../platform/file-scan.ts';
import { ReadByRows } from '../../platform/ingest.ts';
import { localToUtc } from '../../platform/time.ts';
import { DEFAULT_MEMORY_LIMIT, type Store } from '../../platform/db.ts';
import { UserError } from '../../platform/errors.ts';
import type { WideMapping } from './mapping.ts';
import { INCIDENT_PLACE_FIELDS, STAMP_ORDER, UNIT_STAMPS } from './model.ts';
import { implausibleTimeReason, MAX_INT, PLAUSIBLE_SECONDS, resolveColumns } from './normalise.ts';

/**
 * The fast import path: for a plain delimited file (one record per line) read through a wide mapping
 * with a pattern time format, DuckDB reads the file itself and the stage table is built in SQL, with
 * the same rules, messages and warnings as the row-by-row normaliser (normalise.ts), which
 * remains the path for every other file. Line numbers stay exact: record k is on line k + 1.
 * Local times are converted through a table of the file's local hours made by the same localToUtc
 * as the row path, so daylight-saving handling is identical.
 */

const TOKENS: Record<string, string> = {
  YYYY: '%Y',
  MM: '%m',
  M: '%-m',
  DD: '%d',
  D: '%-d',
  HH: '%H',
  H: '%-H',
  hh: '%I',
  h: '%-I',
  mm: '%M',
  ss: '%S',
  // a fraction of 1 to 9 digits (%g reads 3 at most); both paths keep it to the microsecond
  SSS: '%n',
  A: '%p',
};

/**
 * strptime format for a mapping's pattern, or null when the fast path cannot read it: the named
 * formats, and the tokens whose strptime reading is not the row path's (`YY`'s pivot, month names).
 */
function strptimeFormat(pattern: string): string | null {
  if (
    ['iso', 'epoch_s', 'epoch_ms', 'excel'].includes(pattern) ||
    /%|(?<!Y)YY(?!Y)|MMM/.test(pattern)
  )
    return null;
  return pattern.replace(/YYYY|MM|M|DD|D|HH|H|hh|h|mm|ss|SSS|A/g, (t) => TOKENS[t]!);
}

/** Why a file must take the row-by-row path, or null when the fast path applies. */
export function fastPathBlocker(mapping: WideMapping, header: string[]): string | null {
  if (process.env.CITYOPS_IMPORT_PATH === 'rows') return 'the row path was asked for';
  if (!strptimeFormat(mapping.timeFormat)) return `time format ${mapping.timeFormat}`;
  const res = resolveColumns(mapping, header);
  if (!res.index.has('row_id')) return 'no row id column';
  if ([...res.fields.values()].some((f) => f.parts.length > 1))
    return 'a field over several columns';
  if (mapping.filter) return 'a row filter';
  if (res.index.has('location') && (res.index.has('lat') || res.index.has('lon')))
    return 'both location and lat/lon columns';
  return null;
}

/**
 * The file turned out not to be plain (one record per line, each with the header's fields): the
 * import is rolled back and read row by row, which reports each bad row with its line.
 */
/** The file is not plain after all (a quirk read_csv reads otherwise than the row reader): read it by rows. */
export class NotPlainFile extends ReadByRows {}

const TIME_FIELDS = ['call_received', 'call_created', 'closed_at', ...UNIT_STAMPS] as const;
const TEXT_FIELDS = [
  'incident_type',
  'priority',
  ...INCIDENT_PLACE_FIELDS,
  'unit_type',
  'home_station',
  'cancelled',
] as const;
const WARNINGS_KEPT_PER_KIND = 1000;
const q = (s: string) => `'${s.replace(/'/g, "''")}'`;
/** JS number text of a double: integers without ".0". */
const num = (x: string) =>
  `CASE WHEN ${x} = floor(${x}) AND abs(${x}) < 1e15 THEN (${x})::BIGINT::VARCHAR ELSE (${x})::VARCHAR END`;

export interface SqlStaged {
  rowsRead: number;
  quarantined: number;
  warningCounts: Record<string, number>;
  /** Writes the quarantined rows and the warnings kept, under the import's batch (inside its transaction). */
  record(batchId: number, label: string): Promise<void>;
}

/**
 * The local hours present, as SQL expressions over a stamp's local seconds: its zone offset (a
 * binary CASE over the runs of equal offset) and whether the hour is ambiguous or nonexistent.
 * Each hour's values come from localToUtc, exactly as the row path converts it; hours not in the
 * data may fall in any run, as no row reads them.
 */
function zoneExpressions(hours: number[], timeZone: string) {
  const sorted = [...new Set(hours)].sort((a, b) => a - b);
  const runs: { start: number; off: number }[] = [];
  const ambiguous: number[] = [];
  const nonexistent: number[] = [];
  for (const h of sorted) {
    const r = localToUtc(h * 3600, timeZone);
    const off = h * 3600 - r.utc;
    if (!Number.isFinite(off)) throw new Error(`no offset for local hour ${h} in ${timeZone}`);
    if (runs.at(-1)?.off !== off) runs.push({ start: h, off });
    if (r.ambiguous) ambiguous.push(h);
    if (r.nonexistent) nonexistent.push(h);
  }
  const tree = (local: string, lo: number, hi: number): string => {
    if (lo === hi) return String(runs[lo]!.off);
    const mid = Math.ceil((lo + hi) / 2);
    return `CASE WHEN ${local} < ${runs[mid]!.start * 3600} THEN ${tree(local, lo, mid - 1)} ELSE ${tree(local, mid, hi)} END`;
  };
  const inHours = (local: string, list: number[]) =>
    list.length
      ? `coalesce(floor(${local} / 3600)::BIGINT IN (${list.join(', ')}), false)`
      : 'false';
  return {
    offset: (local: string) => (runs.length ? tree(local, 0, runs.length - 1) : 'NULL::DOUBLE'),
    ambiguous: (local: string) => inHours(local, ambiguous),
    nonexistent: (local: string) => inHours(local, nonexistent),
  };
}

/**
 * Reads the file into the temp table `checked` (the one wide, materialised pass), defines the view
 * `stage` over it, as the row path stages it, and finds the warnings. Run it before the import's
 * transaction: it writes only temp tables, and DuckDB scans a temp table made inside an open
 * transaction on one thread only (the later inserts would take twice as long).
 */
export async function stageWithSql(
  store: Store,
  file: string,
  mapping: WideMapping,
  header: string[],
  scan: Promise<FileScan>,
  onReadPercent: (percent: number) => void = () => undefined,
): Promise<SqlStaged> {
  const res = resolveColumns(mapping, header);
  const fmt = strptimeFormat(mapping.timeFormat)!;
  // '' reads as null and spaces are trimmed, as in the row path; trim() only where there is a space to trim, as it copies
  const trimmed = (x: string) =>
    `nullif(CASE WHEN prefix(${x}, ' ') OR suffix(${x}, ' ') THEN trim(${x}) ELSE ${x} END, '')`;
  // then, as fieldText (platform/columns.ts): a null token reads as null, a code as its value
  const cell = (f: string, x: string) => {
    const { nulls, codes } = res.fields.get(f)!;
    let t = trimmed(x);
    if (nulls.size)
      t = `CASE WHEN ${t} IN (${[...nulls].map(q).join(', ')}) THEN NULL ELSE ${t} END`;
    if (codes.size)
      t = `CASE ${t} ${[...codes].map(([k, v]) => `WHEN ${q(k)} THEN ${q(v)}`).join(' ')} ELSE ${t} END`;
    return t;
  };
  const col = (f: string) => (res.index.has(f) ? cell(f, `c${res.index.get(f)}`) : 'NULL::VARCHAR');
  // a field's text again from the raw row, for the few messages that quote it (not kept for every row)
  const textOf = (f: string) =>
    res.index.has(f)
      ? cell(f, `json_extract_string(raw, '$[${res.index.get(f)}]')`)
      : 'NULL::VARCHAR';
  const names = header.map((_, k) => `'c${k}'`).join(', ');
  const naive = (f: string) => `epoch(try_strptime(${col(f)}, ${q(fmt)}))`;
  const emergencyList =
    mapping.emergencyPriorities.map((p) => q(p.trim().toUpperCase())).join(', ') || 'NULL';
  const otherList =
    mapping.otherAgencyUnitTypes.map((p) => q(p.trim().toUpperCase())).join(', ') || 'NULL';
  // a code map as the row path reads it: keys trimmed and upper-cased, the last of equal keys winning
  const lookup = (value: string, map: Record<string, string>) => {
    const codes = new Map(Object.entries(map).map(([k, v]) => [k.trim().toUpperCase(), v]));
    return codes.size
      ? `CASE upper(${value}) ${[...codes].map(([k, v]) => `WHEN ${q(k)} THEN ${q(v)}`).join(' ')} END`
      : 'NULL::VARCHAR';
  };
  const pair = `'^\\(?\\s*(-?\\d+(?:\\.\\d+)?)\\s*,\\s*(-?\\d+(?:\\.\\d+)?)\\s*\\)?$'`;
  const wkt = `'^(?i)POINT\\s*\\(\\s*(-?\\d+(?:\\.\\d+)?)\\s+(-?\\d+(?:\\.\\d+)?)\\s*\\)$'`;
  const home = mapping.homeStationFromUnit
    ? `nullif(regexp_extract(unit_id, ${q(`(?i)${mapping.homeStationFromUnit}`)}, 1), '')`
    : 'NULL';
  const numberOf = (t: string) =>
    `CASE WHEN isfinite(try_cast(${t} AS DOUBLE)) THEN try_cast(${t} AS DOUBLE) END`;
  const intOf = (t: string) =>
    `CASE WHEN ${numberOf(t)} = floor(${numberOf(t)}) AND abs(${numberOf(t)}) <= ${MAX_INT} THEN ${numberOf(t)}::INTEGER END`;
  // as the row path: a stamp that does not parse, or parses outside the plausible years (the local
  // wall time is checked here, the instant there: they differ only within hours of 1900 and 2101)
  const unparseable = (f: string) => `WHEN ${f}_given AND ${f}_local IS NULL THEN '${f}'
    WHEN ${f}_local < ${PLAUSIBLE_SECONDS.from} OR ${f}_local >= ${PLAUSIBLE_SECONDS.to} THEN '${f}'`;

  // 1. one read of the file: text fields, each stamp as its local wall time (seconds, as if UTC),
  // the codes mapped, the coordinates found, and the first problem of the row (the row path's order
  // of checks). Record k is line k + 2: a table made from one scan keeps the file's order, so k is
  // the table's rowid (from the first) (read_csv runs in parallel; row_number() over the scan would be single-threaded).
  // Every regex runs only where its answer is needed: the location text only without lat/lon columns.
  // Stamp texts are not kept: messages read them back from the raw row.
  // Fields the file has no column for are not stored (a million NULLs each): `located` puts them back.
  const absent: Record<string, string> = {};
  for (const f of TEXT_FIELDS) if (!res.index.has(f)) absent[f] = 'VARCHAR';
  for (const f of TIME_FIELDS) if (!res.index.has(f)) absent[`${f}_local`] = 'DOUBLE';
  if (!res.index.has('dispatch_order')) absent.order_text = 'VARCHAR';
  if (!res.index.has('staffing')) absent.staffing_text = 'VARCHAR';
  const read = store.tracking(onReadPercent, () =>
    store.run(`CREATE OR REPLACE TEMP TABLE checked AS SELECT * EXCLUDE (pair_match, wkt_match, location_text, lat_text, lon_text,
      ${[...TIME_FIELDS.map((f) => `${f}_given`), ...Object.keys(absent)].join(', ')}),
      CASE WHEN location_only THEN coalesce(nullif(pair_match.a, ''), nullif(wkt_match.b, '')) ELSE lat_text END AS lat_raw,
      CASE WHEN location_only THEN coalesce(nullif(pair_match.b, ''), nullif(wkt_match.a, '')) ELSE lon_text END AS lon_raw,
      location_only AND pair_match.a = '' AND wkt_match.a = '' AS location_bad,
      CASE WHEN incident_id IS NULL THEN 'incident_id' WHEN unit_id IS NULL THEN 'unit_id' ${TIME_FIELDS.map(unparseable).join(' ')} END AS bad_field
    FROM (SELECT *, CASE WHEN pair_match.a = '' THEN regexp_extract(location_text, ${wkt}, ['a', 'b']) END AS wkt_match
      FROM (SELECT *, CASE WHEN location_only THEN regexp_extract(location_text, ${pair}, ['a', 'b']) END AS pair_match
        FROM (SELECT to_json([${header.map((_, k) => `coalesce(c${k}, '')`).join(', ')}])::VARCHAR AS raw,
          ${col('row_id')} AS row_id, ${col('incident_id')} AS incident_id, ${col('unit_id')} AS unit_id,
          ${TEXT_FIELDS.map((f) => `${col(f)} AS ${f}`).join(', ')},
          ${col('lat')} AS lat_text, ${col('lon')} AS lon_text, ${col('location')} AS location_text,
          location_text IS NOT NULL AND lat_text IS NULL AND lon_text IS NULL AS location_only,
          ${col('dispatch_order')} AS order_text, ${col('staffing')} AS staffing_text,
          ${lookup('unit_type', mapping.unitTypes)} AS unit_type_mapped,
          ${lookup('incident_type', mapping.categories)} AS category_mapped,
          ${TIME_FIELDS.map((f) => `${col(f)} IS NOT NULL AS ${f}_given, ${naive(f)} AS ${f}_local`).join(', ')}
          FROM read_csv(${q(file)}, header = true, all_varchar = true, delim = ${q(mapping.delimiter ?? ',')}, quote = '"', escape = '"',
            strict_mode = true, names = [${names}]))))`),
  );
  // strict_mode rejects a record with the wrong number of fields or an unbalanced quote; running
  // out of memory is not the file's fault, and the row path would run out too
  await read.catch((e: Error) => {
    if (/out of memory/i.test(e.message)) {
      throw new UserError(
        `Reading ${file} ran out of memory under DuckDB's limit (CITYOPS_MEMORY_LIMIT, ${DEFAULT_MEMORY_LIMIT} unless set): raise it. (${e.message.split('\n')[0]})`,
      );
    }
    throw new NotPlainFile(e.message);
  });
  // plain means one record per line: as many records as lines after the header
  const lines = await scan;
  const records = (await store.one<{ n: number }>('SELECT count(*) AS n FROM checked'))!.n;
  if (lines.bareCarriageReturn)
    throw new NotPlainFile('a carriage return ends a line without a newline');
  if (records + 1 !== lines.lines)
    throw new NotPlainFile(
      `${records} records on ${lines.lines - 1} lines after the header (blank lines or values spanning lines)`,
    );

  // rowids may start at an internal offset (as in a table made in an open transaction): lines count from the first
  const ids = (await store.one<{ base: string | null; contiguous: boolean | null }>(
    'SELECT min(rowid)::VARCHAR AS base, count(*) = max(rowid) - min(rowid) + 1 AS contiguous FROM checked',
  ))!;
  if (ids.contiguous === false)
    throw new Error(`internal: the rows read from ${file} are not numbered contiguously`);
  const ord = `(rowid - ${ids.base ?? '0'})`;

  // 2. zone offsets for the local hours present, from the same function as the row path
  const stamped = TIME_FIELDS.filter((f) => res.index.has(f));
  const hours =
    stamped.length === 0
      ? []
      : await store.all<{ h: number }>(`SELECT DISTINCT floor(v / 3600)::BIGINT AS h FROM (
    ${stamped.map((f) => `SELECT ${f}_local AS v FROM checked WHERE ${f}_local IS NOT NULL AND bad_field IS NULL`).join(' UNION ALL ')})`);
  const zone = zoneExpressions(
    hours.map((r) => Number(r.h)),
    mapping.timeZone,
  );

  // 3. the good rows with their instants, numbers and canonical values: views, so that each later
  // step computes only the columns it reads
  await store.run(`CREATE OR REPLACE TEMP VIEW located AS SELECT *,
      ${TIME_FIELDS.map((f) => `${f}_local - (${zone.offset(`${f}_local`)}) AS ${f}_utc, ${zone.ambiguous(`${f}_local`)} AS ${f}_amb, ${zone.nonexistent(`${f}_local`)} AS ${f}_gap`).join(',\n      ')}
    FROM (SELECT (${ord} + 2)::INTEGER AS line, ${ord}::INTEGER AS seq, * EXCLUDE (bad_field),
      ${Object.entries(absent)
        .map(([c, type]) => `NULL::${type} AS ${c}, `)
        .join('')}
      ${numberOf('lat_raw')} AS lat_n, ${numberOf('lon_raw')} AS lon_n, ${home} AS home_from_unit,
      CASE WHEN location_only THEN NULL ELSE lat_raw END AS lat_text, CASE WHEN location_only THEN NULL ELSE lon_raw END AS lon_text
      FROM checked WHERE bad_field IS NULL)`);
  const plausible = `lat_n IS NOT NULL AND lon_n IS NOT NULL AND (abs(lat_n) > 90 OR abs(lon_n) > 180 OR (lat_n = 0 AND lon_n = 0))`;
  await store.run(`CREATE OR REPLACE TEMP VIEW stage AS SELECT
      rid AS source_row_id, line, seq, incident_id || '|' || unit_id || '|' || rid AS response_id,
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
      raw
    FROM (SELECT *,
      -- as the row path: the source's row id, else incident-unit-dispatch time (or dispatch order)
      coalesce(row_id, incident_id || '-' || unit_id || '-' || coalesce(${num('dispatched_utc')}, ${intOf('order_text')}::VARCHAR, '')) AS rid
      FROM located)`);

  // 4. warnings, with the row path's kinds and messages: every check in one pass over the rows
  const checks: string[] = [];
  const conditions: string[] = [];
  const add = (kind: string, field: string | null, where: string, message: string) => {
    conditions.push(`(${where})`);
    checks.push(
      `CASE WHEN ${where} THEN {'field': ${field === null ? 'NULL::VARCHAR' : q(field)}, 'kind': ${q(kind)}, 'message': ${message}} END`,
    );
  };
  for (const f of TIME_FIELDS) {
    add(
      'dst_ambiguous',
      f,
      `${f}_amb`,
      `${textOf(f)} || ' occurs twice at the daylight-saving change; the earlier instant was used'`,
    );
    add(
      'dst_nonexistent',
      f,
      `${f}_gap`,
      `${textOf(f)} || ' does not exist at the daylight-saving change; read with the standard-time offset'`,
    );
    add(
      'midnight_stamp',
      f,
      `${f}_local IS NOT NULL AND ${f}_local % 86400 = 0`,
      `${textOf(f)} || ' is exactly midnight, often a placeholder for a missing time'`,
    );
  }
  for (const [a, b] of STAMP_ORDER) {
    add(
      'out_of_order',
      b,
      `${b}_utc < ${a}_utc`,
      `'${b} is ' || ${num(`${a}_utc - ${b}_utc`)} || ' s before ${a}'`,
    );
  }
  add(
    'unknown_unit_type',
    'unit_type',
    'unit_type IS NOT NULL AND unit_type_mapped IS NULL',
    `'unit type "' || unit_type || '" is not in the mapping; counted as OTHER'`,
  );
  if (Object.keys(mapping.categories).length) {
    add(
      'unmapped_incident_type',
      'incident_type',
      'incident_type IS NOT NULL AND category_mapped IS NULL',
      `'call type "' || incident_type || '" has no category in the mapping; counted as ${mapping.defaultCategory}'`,
    );
  }
  add(
    'bad_coordinates',
    'location',
    'location_bad',
    `'"' || ${textOf('location')} || '" is not a (lat, lon) pair or a WKT point'`,
  );
  add(
    'bad_coordinates',
    'location',
    'lat_n IS NOT NULL AND lon_n IS NOT NULL AND (abs(lat_n) > 90 OR abs(lon_n) > 180 OR (lat_n = 0 AND lon_n = 0))',
    `'(' || ${num('lat_n')} || ', ' || ${num('lon_n')} || ') is not a plausible location'`,
  );
  for (const [f, t, integer] of [
    ['lat', 'lat_text', false],
    ['lon', 'lon_text', false],
    ['dispatch_order', 'order_text', true],
    ['staffing', 'staffing_text', true],
  ] as const) {
    const ok = integer ? `${intOf(t)} IS NOT NULL` : `${numberOf(t)} IS NOT NULL`;
    add(
      'bad_number',
      f,
      `${t} IS NOT NULL AND NOT (${ok})`,
      `'"' || ${t} || '" is not ${integer ? 'an integer' : 'a number'}; left empty'`,
    );
  }
  await store.run(`CREATE OR REPLACE TEMP TABLE found_warnings AS SELECT line, w.field, w.kind, w.message FROM (SELECT line, unnest([${checks.join(',\n    ')}]) AS w FROM located
    -- most rows have no warning: the cheap conditions pick the few that do before any message is built
    WHERE ${conditions.join(' OR ')}) WHERE w IS NOT NULL`);
  // the header's warnings on their own: a UNION with the scan would make DuckDB write the table on one thread
  const headerWarnings = [
    ...res.missing.map((x) => [
      x.field,
      'missing_column',
      `no column for ${x.field} (looked for: ${x.looked.join(', ')})`,
    ]),
    ...res.unmapped.map((u) => [
      u,
      'unmapped_column',
      `column "${u}" is not mapped to a field; kept in the raw row only`,
    ]),
  ];
  for (const [field, kind, message] of headerWarnings)
    await store.run('INSERT INTO found_warnings VALUES (1, $1, $2, $3)', [field!, kind!, message!]);
  const counts = await store.all<{ kind: string; n: number }>(
    'SELECT kind, count(*) AS n FROM found_warnings GROUP BY kind',
  );
  const totals = (await store.one<{ rows: number; bad: number }>(
    'SELECT count(*) AS rows, count(bad_field) AS bad FROM checked',
  ))!;

  const badText = TIME_FIELDS.map((f) => `WHEN '${f}' THEN ${textOf(f)}`).join(' ');
  const badParsed = stamped.length
    ? `CASE bad_field ${stamped.map((f) => `WHEN '${f}' THEN ${f}_local`).join(' ')} END IS NOT NULL`
    : 'false';
  // the row path's message around the stamp's text
  const [before, after] = implausibleTimeReason('\u0000').split('\u0000').map(q);
  const record = async (batchId: number, label: string) => {
    // rows with a problem go to quarantine
    await store.run(
      `INSERT INTO quarantine SELECT (SELECT coalesce(max(quarantine_id), 0) FROM quarantine) + row_number() OVER (ORDER BY rowid),
        $1, $2, (${ord} + 2)::INTEGER, bad_field,
        CASE WHEN bad_field = 'incident_id' THEN 'missing incident id' WHEN bad_field = 'unit_id' THEN 'missing unit id'
          WHEN ${badParsed} THEN ${before} || (CASE bad_field ${badText} END) || ${after}
          ELSE 'unparseable time: "' || (CASE bad_field ${badText} END) || '" does not match the time format "' || $3 || '"' END,
        raw
      FROM checked WHERE bad_field IS NOT NULL`,
      [batchId, label, mapping.timeFormat],
    );
    await store.run(
      `INSERT INTO import_warnings SELECT $1, $2, line, field, kind, message FROM found_warnings
      QUALIFY row_number() OVER (PARTITION BY kind ORDER BY line) <= ${WARNINGS_KEPT_PER_KIND}`,
      [batchId, label],
    );
  };
  return {
    rowsRead: totals.rows,
    quarantined: totals.bad,
    warningCounts: Object.fromEntries(counts.map((c) => [c.kind, c.n])),
    record,
  };
}
