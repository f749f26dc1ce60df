import { UserError } from '../../platform/errors.ts';
import { isPlausibleDay, MAX_YEAR, MIN_YEAR } from '../../platform/params.ts';
import {
  fieldText,
  FILTERED_OUT,
  lookedFor,
  resolveHeader,
  rowFilter,
  type FieldColumns,
  type SharedKeys,
} from '../../platform/columns.ts';
import type { Store } from '../../platform/db.ts';
import { runImport, type ImportOptions, type ImportSource } from '../../platform/ingest.ts';
import type { BatchSummary } from '../../platform/staging.ts';
import { haversineM } from '../../platform/geo.ts';
import {
  detectProfile,
  loadCollisionMapping,
  parseDate,
  parseDateTime,
  profileFit,
  parseTime,
  PROFILES,
  type CollisionProfile,
  type CrashField,
  type Severity,
} from './profiles.ts';
import { readInjuredPeople, type InjuredSummary } from './ccrs.ts';

/**
 * Road collisions (docs/collisions.md): one crash per row with KABCO severity, people killed and injured,
 * mode flags, local date and time, and a location with its provenance: `geocoded` (TIMS POINT_X/Y)
 * first, the officer's `reported` coordinates otherwise. Reported points far outside the area the
 * file covers are flagged `outside_area` and not mapped (their raw row keeps them). Same guarantees
 * as the other imports: raw rows kept, quarantine by line and field, one transaction, idempotent by
 * source and case id.
 */
export const COLLISION_PROFILES = Object.keys(PROFILES);

const STAGE = [
  'case_id',
  'collision_date',
  'collision_minute',
  'severity',
  'killed',
  'injured',
  'severe_injured',
  'pedestrian',
  'bicycle',
  'motorcycle',
  'lat',
  'lon',
  'location_source',
  'primary_rd',
  'secondary_rd',
  'city',
  'intersection',
  'distance_ft',
  'state_highway',
  'jurisdiction',
];
const TYPES = {
  collision_date: 'DATE',
  collision_minute: 'INTEGER',
  killed: 'INTEGER',
  injured: 'INTEGER',
  severe_injured: 'INTEGER',
  pedestrian: 'BOOLEAN',
  bicycle: 'BOOLEAN',
  motorcycle: 'BOOLEAN',
  lat: 'DOUBLE',
  lon: 'DOUBLE',
  intersection: 'BOOLEAN',
  distance_ft: 'DOUBLE',
  state_highway: 'BOOLEAN',
};

export interface CollisionImportOptions extends ImportOptions {
  profile?: string;
  mapping?: string;
  /** CCRS: the InjuredWitnessPassengers table, which gives each crash its severity. */
  injured?: string;
  /** Reported coordinates outside [west, south, east, north] are flagged rather than mapped. */
  bounds?: [number, number, number, number];
}

/** More people than this killed or injured in one crash is a typing error (NUMBER_INJURED=1e9 made a county's total a billion). */
export const MAX_PEOPLE_PER_CRASH = 1000;

/** Reported points further than this from the median point of a file without geocoded points are outliers. */
const OUTLIER_MIN_M = 50_000;

export async function importCollisionsFile(
  store: Store,
  file: string,
  opts: CollisionImportOptions = {},
): Promise<BatchSummary> {
  if (opts.profile && opts.mapping)
    throw new UserError('Give either --profile or --mapping, not both.');
  // without either, the profile is told from the header (detectProfile)
  const profile: CollisionProfile | null = opts.mapping
    ? loadCollisionMapping(opts.mapping)
    : opts.profile
      ? (PROFILES[opts.profile] ?? null)
      : null;
  if (opts.profile && !profile)
    throw new UserError(
      `Unknown collision profile "${opts.profile}". Known profiles: ${COLLISION_PROFILES.join(', ')}`,
    );
  let injured: Map<string, InjuredSummary> | null = null;
  if (profile?.severityFrom === 'injured-people' && !opts.injured)
    throw new UserError(needsInjured(profile.name));
  if (opts.injured) injured = await readInjuredPeople(opts.injured);
  return runImport(store, file, collisionSource(file, profile, injured, opts.bounds), opts);
}

const needsInjured = (name: string) =>
  `The ${name} profile needs the injured-people table (--injured FILE): CCRS crashes carry no severity column.`;

/** The profile a header fits, or a UserError naming the closest and what it lacks. */
function profileForHeader(file: string, header: string[]): CollisionProfile {
  const d = detectProfile(header);
  if ('fits' in d) return d.fits;
  throw new UserError(
    `${file}: no collision profile fits its columns. The closest is ${d.closest.name}, which needs ${d.missing.join(', ')}: ` +
      `did you mean \`--profile ${d.closest.name}\`? Otherwise describe the export in a mapping file (--mapping FILE).`,
  );
}

/** How a collision file is read: one crash per row, keyed by its case id within the profile's source. */
function collisionSource(
  file: string,
  given: CollisionProfile | null,
  injured: Map<string, InjuredSummary> | null,
  bounds?: [number, number, number, number],
): ImportSource {
  let profile = given ?? PROFILES.tims!; // replaced by the detected one at the header
  let fields = new Map<string, FieldColumns>();
  let kept: (values: string[]) => boolean = () => true;
  const located: { seq: number; lat: number; lon: number; geocoded: boolean }[] = [];
  let yes = new Set<string>();
  const keys = (): SharedKeys => ({
    nullValues: profile.nullValues ?? [],
    codes: profile.codes ?? {},
    filter: profile.filter,
  });
  return {
    domain: 'streets',
    get profile() {
      return profile.name;
    },
    get source() {
      return profile.name;
    },
    stage: { columns: STAGE, types: TYPES, key: 'case_id' },
    table: { name: 'collisions', key: 'case_id' },
    header(h) {
      if (!given) profile = profileForHeader(file, h);
      if (profile.severityFrom === 'injured-people' && !injured)
        throw new UserError(`${file} looks like ${profile.name}. ${needsInjured(profile.name)}`);
      yes = new Set(profile.yes.map((y) => y.toUpperCase()));
      const res = resolveHeader(profile.columns, keys(), h);
      fields = res.fields;
      kept = rowFilter(keys(), res.filterColumn);
      const { missing } = profileFit(profile, h);
      if (profile.filter && res.filterColumn === null)
        missing.push(...lookedFor(profile.filter.column));
      if (missing.length) {
        const other = given ? detectProfile(h) : null;
        throw new UserError(
          `${file}: no column ${missing.join(', ')} (the ${profile.name} profile reads ${profile.description})` +
            (other && 'fits' in other ? `. Did you mean \`--profile ${other.fits.name}\`?` : ''),
        );
      }
    },
    row(v, _line, out) {
      if (!kept(v)) return out.leaveOut(FILTERED_OUT);
      const get = (f: CrashField) => {
        const c = fields.get(f);
        const t = c === undefined ? null : fieldText(c, v);
        return t === '-' ? null : t;
      };
      const col = (f: CrashField) => {
        const ref = profile.columns[f];
        return ref ? lookedFor(ref)[0]! : f;
      };
      const reject = (field: string, reason: string) => out.reject(field, reason);
      const warn = (kind: string) => out.warn(kind);
      const caseId = get('case_id');
      if (caseId === null) return reject(col('case_id'), 'missing case id');
      // date and time: separate columns, or one date-time column (CCRS), read whole when its format can
      const datetime = get('datetime');
      const whole =
        get('date') === null && datetime !== null
          ? parseDateTime(datetime, profile.dateFormats)
          : null;
      const dateText = get('date') ?? datetime?.split(/[ T]/)[0] ?? null;
      const date =
        whole?.date ?? (dateText === null ? null : parseDate(dateText, profile.dateFormats));
      const dateCol = fields.has('date') ? col('date') : col('datetime');
      if (date === null)
        return reject(
          dateCol,
          `"${dateText ?? ''}" is not a date (${profile.dateFormats.join(' or ')})`,
        );
      if (!isPlausibleDay(date))
        return reject(
          dateCol,
          `"${dateText}" is not between ${MIN_YEAR}-01-01 and ${MAX_YEAR}-12-31`,
        );
      const time = get('time');
      // a date-time column's time may be h:mm (08:15:00) even where a time column would be hhmm
      const timeText = time ?? datetime?.replace(/^\S+[ T]/, '').trim() ?? null;
      let minute: number | null = null;
      if (whole) minute = whole.minute;
      else if (timeText === null || timeText === profile.unknownTime || timeText === datetime)
        warn('unknown_time');
      else {
        const m =
          parseTime(timeText, profile.timeFormat) ??
          (time === null ? parseTime(timeText, 'h:mm') : undefined);
        if (m === undefined) warn('bad_time');
        else minute = m;
      }
      const count = (f: CrashField): number | null => {
        const x = get(f);
        if (x === null) return null;
        const n = Number(x);
        return Number.isInteger(n) && n >= 0 ? n : NaN;
      };
      const counts: Partial<Record<CrashField, number | null>> = {};
      for (const f of [
        'killed',
        'injured',
        'severe',
        'ped_killed',
        'ped_injured',
        'bike_killed',
        'bike_injured',
        'mc_killed',
        'mc_injured',
      ] as const) {
        const n = count(f);
        if (Number.isNaN(n)) return reject(col(f), `"${get(f)}" is not a whole number of people`);
        if (n !== null && n > MAX_PEOPLE_PER_CRASH)
          return reject(
            col(f),
            `${n} people is more than ${MAX_PEOPLE_PER_CRASH} in one crash: not a plausible count`,
          );
        counts[f] = n;
      }
      const killed = counts.killed ?? 0,
        injuredPeople = counts.injured ?? 0;
      let severe = counts.severe ?? null;
      let severity: Severity | undefined;
      if (profile.severityCodes) {
        const s = get('severity');
        severity = s === null ? undefined : profile.severityCodes[s];
        if (!severity)
          return reject(
            col('severity'),
            `"${s ?? ''}" is not a severity code (${Object.entries(profile.severityCodes)
              .map(([k, x]) => `${k}=${x}`)
              .join(', ')})`,
          );
      } else if (profile.severityFrom === 'injured-people') {
        const p = injured!.get(caseId);
        severity = p?.severity ?? 'O';
        severe = p?.serious ?? 0;
        if (p && p.killed !== killed) warn('killed_count_disagrees_with_injured_people');
        if (p?.pedestrian) counts.ped_injured = 1;
        if (p?.bicyclist) counts.bike_injured = 1;
      } else {
        severity = killed > 0 ? 'K' : injuredPeople > 0 ? 'I' : 'O';
      }
      if (severity === 'K' && killed === 0) warn('fatal_crash_without_killed_count');
      const flag = (f: CrashField, killedF: CrashField, injuredF: CrashField) => {
        const x = get(f);
        if (x !== null) return yes.has(x.toUpperCase());
        return (counts[killedF] ?? 0) + (counts[injuredF] ?? 0) > 0;
      };
      // location, with its provenance
      let lat: number | null = null,
        lon: number | null = null,
        source: string | null = null;
      const pair = (la: string | null, lo: string | null): [number, number] | null => {
        if (la === null || lo === null) return null;
        const a = Number(la),
          o = Number(lo);
        return Number.isFinite(a) && Number.isFinite(o) && !(a === 0 && o === 0) ? [a, o] : null;
      };
      const geo = pair(get('py'), get('px'));
      const fromLocation = get('location')?.match(/^\(?\s*(-?[\d.]+)\s*,\s*(-?[\d.]+)\s*\)?$/);
      const rep =
        pair(get('lat'), get('lon')) ??
        (fromLocation ? pair(fromLocation[1]!, fromLocation[2]!) : null);
      if (geo) {
        [lat, lon] = geo;
        source = 'geocoded';
      } else if (rep) {
        [lat, lon] = rep;
        source = 'reported';
        if (profile.positiveWestLongitude && lon > 0) {
          lon = -lon;
          warn('longitude_sign_fixed');
        }
      } else warn('no_location');
      if (lat !== null && (Math.abs(lat) > 90 || Math.abs(lon!) > 180)) {
        warn('coordinates_out_of_range');
        lat = lon = null;
        source = null;
      }
      const seq = out.nextSeq;
      if (lat !== null) located.push({ seq, lat, lon: lon!, geocoded: source === 'geocoded' });
      const bool = (f: CrashField) => {
        const x = get(f);
        return x === null ? null : yes.has(x.toUpperCase());
      };
      const distance = get('distance') === null ? null : Number(get('distance'));
      out.accept({
        case_id: caseId,
        collision_date: date,
        collision_minute: minute,
        severity,
        killed,
        injured: injuredPeople,
        severe_injured: severe,
        pedestrian: flag('ped', 'ped_killed', 'ped_injured'),
        bicycle: flag('bike', 'bike_killed', 'bike_injured'),
        motorcycle: flag('mc', 'mc_killed', 'mc_injured'),
        lat,
        lon,
        location_source: source,
        primary_rd: get('primary'),
        secondary_rd: get('secondary'),
        city: get('city'),
        intersection: bool('intersection'),
        distance_ft: distance !== null && Number.isFinite(distance) ? distance : null,
        state_highway: bool('state_hwy'),
        jurisdiction: get('jurisdiction'),
      });
    },
    finish(extra) {
      const outside = extra.table('outside', ['seq'], { seq: 'INTEGER' });
      for (const seq of outliers(located, bounds)) outside.write([seq]);
      extra.warn('outside_area', outside.rows);
    },
    async apply(store, t, batchId) {
      // reported points far outside the file's area are kept in the raw row, not mapped
      await store.run(
        `INSERT INTO collisions (case_id, source, collision_date, collision_minute, severity, killed, injured, severe_injured,
          pedestrian, bicycle, motorcycle, lat, lon, location_source, primary_rd, secondary_rd, city, batch_id,
          intersection, distance_ft, state_highway, jurisdiction, location_note)
        SELECT s.case_id, $1, s.collision_date, s.collision_minute, s.severity, s.killed, s.injured, s.severe_injured,
          s.pedestrian, s.bicycle, s.motorcycle, CASE WHEN o.seq IS NULL THEN s.lat END, CASE WHEN o.seq IS NULL THEN s.lon END,
          s.location_source, s.primary_rd, s.secondary_rd, s.city, $2, s.intersection, s.distance_ft, s.state_highway, s.jurisdiction,
          CASE WHEN o.seq IS NOT NULL THEN 'outside_area' END
        FROM ${t.stage} s SEMI JOIN ${t.changes} c ON c.key = s.case_id LEFT JOIN ${t.extra.outside} o USING (seq)`,
        [profile.name, batchId],
      );
    },
  };
}

/**
 * Reported (officer-entered) points that fall outside the area the file covers. The area is the
 * given bounds; else the box around the file's geocoded points plus 10 km; else, for files with no
 * geocoded points, the circle around the median point of radius max(50 km, 5 × the median distance).
 * Geocoded points are trusted.
 */
function outliers(
  points: { seq: number; lat: number; lon: number; geocoded: boolean }[],
  bounds?: [number, number, number, number],
): number[] {
  const reported = points.filter((p) => !p.geocoded);
  if (!reported.length) return [];
  if (bounds) {
    const [w, s, e, n] = bounds;
    return reported
      .filter((p) => p.lon < w || p.lon > e || p.lat < s || p.lat > n)
      .map((p) => p.seq);
  }
  const geocoded = points.filter((p) => p.geocoded);
  if (geocoded.length) {
    const margin = 0.1; // degrees of latitude ≈ 11 km
    let s = Infinity,
      n = -Infinity,
      w = Infinity,
      e = -Infinity;
    for (const p of geocoded) {
      s = Math.min(s, p.lat);
      n = Math.max(n, p.lat);
      w = Math.min(w, p.lon);
      e = Math.max(e, p.lon);
    }
    s -= margin;
    n += margin;
    w -= margin;
    e += margin;
    return reported
      .filter((p) => p.lon < w || p.lon > e || p.lat < s || p.lat > n)
      .map((p) => p.seq);
  }
  const median = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    return s[Math.floor(s.length / 2)]!;
  };
  const centre = {
    lat: median(reported.map((p) => p.lat)),
    lon: median(reported.map((p) => p.lon)),
  };
  const d = reported.map((p) => haversineM(centre, p));
  const limit = Math.max(OUTLIER_MIN_M, 5 * median(d));
  return reported.filter((_, i) => d[i]! > limit).map((p) => p.seq);
}
