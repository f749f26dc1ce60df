import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { UserError } from '../../platform/errors.ts';
import { describeZodError } from '../../platform/validation.ts';
import {
  codesKey,
  columnRef,
  filterKey,
  lookedFor,
  nullValuesKey,
  resolveHeader,
  type ColumnRef,
  type SharedKeys,
} from '../../platform/columns.ts';
import { civilFromDays, wallTimeParser } from '../../platform/time.ts';

/**
 * How each collision source is read into the canonical crash (docs/collisions.md §10). A profile names the
 * columns (with aliases, matched case- and punctuation-blind) and how dates, times, severities and
 * flags are written; `readCrash` then applies one set of rules to every source.
 */
export type Severity = 'K' | 'A' | 'B' | 'C' | 'O' | 'I';

export const CRASH_FIELDS = [
  'case_id',
  'date',
  'time',
  'datetime',
  'severity',
  'killed',
  'injured',
  'severe',
  'ped',
  'bike',
  'mc',
  'px',
  'py',
  'lat',
  'lon',
  'location',
  'primary',
  'secondary',
  'city',
  'intersection',
  'distance',
  'state_hwy',
  'jurisdiction',
  'ped_killed',
  'ped_injured',
  'bike_killed',
  'bike_injured',
  'mc_killed',
  'mc_injured',
] as const;
export type CrashField = (typeof CRASH_FIELDS)[number];

/** A named date format, `excel` (serial days, 1900 system) or a pattern such as `DD MMM YYYY` (platform/time.ts). */
export type DateFormat = 'iso' | 'yyyymmdd' | 'mdy' | 'excel' | (string & {});
export const TIME_FORMATS = ['hhmm', 'h:mm', 'excel'] as const;
export type TimeFormat = (typeof TIME_FORMATS)[number];

export interface CollisionProfile extends Partial<SharedKeys> {
  name: string;
  description: string;
  /** who publishes such files, for the source line of public pages */
  publisher?: string;
  columns: Partial<Record<CrashField, ColumnRef>>;
  required: CrashField[];
  dateFormats: DateFormat[];
  timeFormat: TimeFormat;
  /** Source severity code → KABCO. Absent: severity comes from counts (NYC) or from injured people (CCRS). */
  severityCodes?: Record<string, Severity>;
  severityFrom?: 'counts' | 'injured-people';
  yes: string[];
  /** The source stores west longitudes without their sign (SWITRS): a positive longitude is negated. */
  positiveWestLongitude?: boolean;
  /** A value that means the time is unknown. */
  unknownTime?: string;
}

const SWITRS_SEVERITY: Record<string, Severity> = {
  '1': 'K',
  '2': 'A',
  '3': 'B',
  '4': 'C',
  '0': 'O',
};

const SWITRS_COLUMNS: CollisionProfile['columns'] = {
  case_id: ['CASE_ID', 'CASEID'],
  date: ['COLLISION_DATE', 'DATE_'],
  time: ['COLLISION_TIME', 'TIME_'],
  severity: ['COLLISION_SEVERITY', 'CRASHSEV'],
  killed: ['NUMBER_KILLED', 'KILLED', 'killed_victims'],
  injured: ['NUMBER_INJURED', 'INJURED', 'injured_victims'],
  severe: ['COUNT_SEVERE_INJ', 'SEVINJ', 'severe_injury_count'],
  ped: ['PEDESTRIAN_ACCIDENT', 'PEDCOL', 'pedestrian_collision'],
  bike: ['BICYCLE_ACCIDENT', 'BICCOL', 'bicycle_collision'],
  mc: ['MOTORCYCLE_ACCIDENT', 'MCCOL', 'motorcycle_collision'],
  lat: ['LATITUDE'],
  lon: ['LONGITUDE'],
  primary: ['PRIMARY_RD', 'PRIMARYRD'],
  secondary: ['SECONDARY_RD', 'SECONDRD'],
  intersection: ['INTERSECTION'],
  distance: ['DISTANCE'],
  state_hwy: ['STATE_HWY_IND', 'STATEHW'],
  jurisdiction: ['JURIS'],
  city: ['CITY'],
};

export const PROFILES: Record<string, CollisionProfile> = {
  tims: {
    name: 'tims',
    publisher: 'SWITRS (California Highway Patrol), geocoded by UC Berkeley SafeTREC TIMS',
    description:
      'TIMS (UC Berkeley SafeTREC) Crashes.csv: SWITRS plus geocoded POINT_X/POINT_Y; older short names too',
    columns: { ...SWITRS_COLUMNS, px: ['POINT_X'], py: ['POINT_Y'] },
    required: ['case_id', 'date', 'severity'],
    dateFormats: ['iso', 'yyyymmdd'],
    timeFormat: 'hhmm',
    unknownTime: '2500',
    severityCodes: SWITRS_SEVERITY,
    yes: ['Y'],
    positiveWestLongitude: true,
  },
  switrs: {
    name: 'switrs',
    publisher: 'SWITRS (California Highway Patrol)',
    description: 'raw CHP SWITRS collision table (CollisionRecords.txt; tab or comma separated)',
    columns: SWITRS_COLUMNS,
    required: ['case_id', 'date', 'severity'],
    dateFormats: ['yyyymmdd', 'iso'],
    timeFormat: 'hhmm',
    unknownTime: '2500',
    severityCodes: SWITRS_SEVERITY,
    yes: ['Y'],
    positiveWestLongitude: true,
  },
  ccrs: {
    name: 'ccrs',
    publisher: 'CCRS (California Highway Patrol)',
    description:
      'California CCRS Crashes table, with the InjuredWitnessPassengers table for severity (--injured FILE)',
    columns: {
      case_id: ['CollisionId'],
      datetime: ['Crash Date Time', 'CrashDateTime'],
      killed: ['NumberKilled'],
      injured: ['NumberInjured'],
      lat: ['Latitude'],
      lon: ['Longitude'],
      primary: ['PrimaryRoad'],
      secondary: ['SecondaryRoad'],
      distance: ['SecondaryDistance'],
      city: ['CityName'],
      jurisdiction: ['NCICCode'],
      state_hwy: ['IsHighwayRelated'],
    },
    required: ['case_id', 'datetime'],
    dateFormats: ['iso', 'mdy'],
    timeFormat: 'h:mm',
    severityFrom: 'injured-people',
    yes: ['Y', 'TRUE', 'True', 'true', '1'],
    positiveWestLongitude: true,
  },
  nyc: {
    name: 'nyc',
    publisher: 'NYPD Motor Vehicle Collisions (NYC Open Data)',
    description:
      'NYC Open Data Motor Vehicle Collisions – Crashes (h9gi-nx95); no KABCO: K if killed, I (injury, level unknown) if injured',
    columns: {
      case_id: ['COLLISION_ID'],
      date: ['CRASH DATE', 'CRASH_DATE'],
      time: ['CRASH TIME', 'CRASH_TIME'],
      killed: ['NUMBER OF PERSONS KILLED', 'KILLED_PERSONS', 'PERSONS_KILLED'],
      injured: ['NUMBER OF PERSONS INJURED', 'INJURED_PERSONS', 'PERSONS_INJURED'],
      ped_killed: ['NUMBER OF PEDESTRIANS KILLED', 'KILLED_PEDESTRIANS'],
      ped_injured: ['NUMBER OF PEDESTRIANS INJURED', 'INJURED_PEDESTRIANS'],
      bike_killed: ['NUMBER OF CYCLIST KILLED', 'KILLED_CYCLISTS'],
      bike_injured: ['NUMBER OF CYCLIST INJURED', 'INJURED_CYCLISTS'],
      lat: ['LATITUDE'],
      lon: ['LONGITUDE'],
      primary: ['ON STREET NAME', 'ON_STREET_NAME'],
      secondary: ['CROSS STREET NAME', 'CROSS_STREET_NAME'],
      city: ['BOROUGH'],
    },
    required: ['case_id', 'date', 'killed', 'injured'],
    dateFormats: ['mdy', 'iso'],
    timeFormat: 'h:mm',
    severityFrom: 'counts',
    yes: ['Y'],
  },
};

const NAMED_DATE_FORMATS = ['iso', 'yyyymmdd', 'mdy', 'excel'];

const MappingSchema = z
  .strictObject({
    description: z.string().optional(),
    columns: z.partialRecord(z.enum(CRASH_FIELDS), columnRef),
    dateFormat: z
      .string()
      .refine((f) => NAMED_DATE_FORMATS.includes(f) || /YY|M|D/.test(f), {
        message: `is not ${NAMED_DATE_FORMATS.join(', ')} or a pattern such as DD MMM YYYY`,
      })
      .default('iso'),
    timeFormat: z.enum(TIME_FORMATS).default('hhmm'),
    nullValues: nullValuesKey,
    codes: codesKey,
    filter: filterKey.optional(),
    unknownTime: z.string().optional(),
    severityCodes: z.record(z.string(), z.enum(['K', 'A', 'B', 'C', 'O'])).optional(),
    yes: z.array(z.string()).default(['Y', 'YES', 'TRUE', '1']),
    positiveWestLongitude: z.boolean().default(false),
  })
  .refine((m) => m.columns.case_id && (m.columns.date || m.columns.datetime), {
    message: 'columns.case_id and columns.date (or columns.datetime) are required',
  })
  .refine(
    (m) => (m.severityCodes ? !!m.columns.severity : !!(m.columns.killed && m.columns.injured)),
    {
      message:
        'give columns.severity with severityCodes, or columns.killed and columns.injured (severity then comes from the counts)',
    },
  );

/** A mapping file (JSON or YAML) describing any other collision export. */
export function loadCollisionMapping(path: string): CollisionProfile {
  let data: unknown;
  try {
    const text = readFileSync(path, 'utf8');
    data = /\.ya?ml$/i.test(path) ? parseYaml(text) : JSON.parse(text);
  } catch (e) {
    throw new UserError(`Cannot read the mapping file ${path}: ${(e as Error).message}`);
  }
  const r = MappingSchema.safeParse(data);
  if (!r.success)
    throw new UserError(`The mapping file ${path} is not valid:\n${describeZodError(r.error)}`);
  const m = r.data;
  return {
    name: 'mapping',
    description: m.description ?? path,
    columns: m.columns,
    nullValues: m.nullValues,
    codes: m.codes,
    filter: m.filter,
    required: ['case_id', m.columns.date ? 'date' : 'datetime'],
    dateFormats: [m.dateFormat],
    timeFormat: m.timeFormat,
    unknownTime: m.unknownTime,
    severityCodes: m.severityCodes,
    severityFrom: m.severityCodes ? undefined : 'counts',
    yes: m.yes,
    positiveWestLongitude: m.positiveWestLongitude,
  };
}

/** Whether a date format reads the cell whole (Excel serial days, a pattern) rather than by name. */
const isWhole = (f: DateFormat) => f === 'excel' || !NAMED_DATE_FORMATS.includes(f);
const dayOf = (local: number) => {
  const { y, m, d } = civilFromDays(Math.floor(local / 86400));
  return `${y}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
};
const minuteOf = (local: number) => Math.floor((((local % 86400) + 86400) % 86400) / 60);

/**
 * A date-time cell read whole by a format that can (Excel serial days; a pattern with hours): its
 * date and minute, or null.
 */
export function parseDateTime(
  text: string,
  formats: DateFormat[],
): { date: string; minute: number } | null {
  for (const f of formats) {
    if (!isWhole(f) || !(f === 'excel' || /[Hh]/.test(f))) continue;
    const w = wallTimeParser(f)(text);
    if (w.ok) return { date: dayOf(w.local), minute: minuteOf(w.local) };
  }
  return null;
}

/** YYYY-MM-DD from one of the allowed formats, or null. */
export function parseDate(text: string, formats: DateFormat[]): string | null {
  for (const f of formats) {
    let m: RegExpMatchArray | null,
      iso: string | null = null;
    if (f === 'iso' && (m = text.match(/^(\d{4})-(\d{2})-(\d{2})(?:[T ].*)?$/)))
      iso = `${m[1]}-${m[2]}-${m[3]}`;
    if (f === 'yyyymmdd' && (m = text.match(/^(\d{4})(\d{2})(\d{2})$/)))
      iso = `${m[1]}-${m[2]}-${m[3]}`;
    if (f === 'mdy' && (m = text.match(/^(\d{1,2})\/(\d{1,2})\/(\d{4})(?:\s.*)?$/)))
      iso = `${m[3]}-${m[1]!.padStart(2, '0')}-${m[2]!.padStart(2, '0')}`;
    if (isWhole(f)) {
      const w = wallTimeParser(f)(text);
      if (w.ok) iso = dayOf(w.local);
    }
    if (iso) {
      const d = new Date(`${iso}T00:00:00Z`);
      if (!Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === iso) return iso;
    }
  }
  return null;
}

/** Minutes after midnight; `undefined` when the text is not a time of the format. */
export function parseTime(text: string, format: TimeFormat): number | undefined {
  if (format === 'excel') {
    // a fraction of a day (0.6131944 is 14:43), or a whole serial date-time whose fraction is the time
    if (!/^\d*\.?\d+$/.test(text)) return undefined;
    const n = Number(text);
    return minuteOf(Math.round((n - Math.floor(n)) * 86400));
  }
  if (format === 'hhmm') {
    if (!/^\d{1,4}$/.test(text)) return undefined;
    const n = Number(text);
    return n < 2400 && n % 100 < 60 ? Math.floor(n / 100) * 60 + (n % 100) : undefined;
  }
  const m = text.match(/^(\d{1,2}):(\d{2})(?::\d{2}(?:\.\d+)?)?\s*(AM|PM)?$/i);
  if (!m) return undefined;
  let h = Number(m[1]);
  const min = Number(m[2]);
  if (m[3]) {
    if (h < 1 || h > 12) return undefined;
    h = (h % 12) + (m[3].toUpperCase() === 'PM' ? 12 : 0);
  }
  return h < 24 && min < 60 ? h * 60 + min : undefined;
}

/** How well a profile fits a header: the columns it finds, and the required ones it lacks (each once). */
export function profileFit(
  profile: CollisionProfile,
  header: string[],
): { found: number; missing: string[] } {
  const res = resolveHeader(profile.columns, { nullValues: [], codes: {} }, header);
  const required = new Set<CrashField>([
    ...profile.required,
    ...(profile.severityCodes ? ['severity' as const] : []),
  ]);
  const missing = [...required]
    .filter((f) => !res.fields.has(f))
    .map((f) => lookedFor(profile.columns[f]!)[0]!);
  return { found: res.fields.size, missing };
}

/**
 * The built-in profile a header fits (every required column found; the most columns found, then
 * the profile with fewer columns, so a SWITRS table without TIMS's POINT_X/POINT_Y is `switrs`), or
 * the closest one with what it lacks.
 */
export function detectProfile(
  header: string[],
): { fits: CollisionProfile } | { closest: CollisionProfile; missing: string[] } {
  const fits = Object.values(PROFILES).map((p) => ({ p, ...profileFit(p, header) }));
  const size = (p: CollisionProfile) => Object.keys(p.columns).length;
  const fitting = fits
    .filter((f) => f.missing.length === 0)
    .sort((a, b) => b.found - a.found || size(a.p) - size(b.p));
  if (fitting.length) return { fits: fitting[0]!.p };
  const near = fits.sort((a, b) => a.missing.length - b.missing.length || b.found - a.found)[0]!;
  return { closest: near.p, missing: near.missing };
}
