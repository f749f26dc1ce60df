/**
 * Time zones and timestamp formats. Instants are epoch seconds (UTC); local wall-clock
 * fields are derived through the IANA zone, so daylight-saving changes are handled by the
 * platform's zone database rather than by fixed offsets.
 */

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(tz, f);
  }
  return f;
}

export function isValidTimeZone(tz: string): boolean {
  try {
    formatter(tz);
    return true;
  } catch {
    return false;
  }
}

/** Offset of the zone from UTC, in seconds, at a UTC instant (local = utc + offset). */
function computeOffset(tz: string, utcSeconds: number): number {
  const parts = formatter(tz).formatToParts(new Date(utcSeconds * 1000));
  const v: Record<string, number> = {};
  for (const p of parts) if (p.type !== 'literal') v[p.type] = Number(p.value);
  const asUtc = Date.UTC(v.year!, v.month! - 1, v.day!, v.hour!, v.minute!, v.second!) / 1000;
  return asUtc - Math.floor(utcSeconds);
}

/**
 * Offsets change only on whole hours in every zone CityOps targets, so one lookup per
 * UTC hour is exact and makes converting millions of stamps cheap.
 */
const offsetCache = new Map<string, Map<number, number>>();
/**
 * Hours remembered per zone: 30 years of data is 263 k hours. A request spanning centuries once
 * filled the map to JavaScript's size limit and broke every later conversion, so a full map starts
 * over instead of growing.
 */
export const OFFSET_CACHE_HOURS = 1 << 18;

export function offsetAt(tz: string, utcSeconds: number): number {
  let byHour = offsetCache.get(tz);
  if (!byHour) offsetCache.set(tz, (byHour = new Map()));
  const hour = Math.floor(utcSeconds / 3600);
  let off = byHour.get(hour);
  if (off === undefined) {
    off = computeOffset(tz, hour * 3600);
    if (byHour.size >= OFFSET_CACHE_HOURS) byHour.clear();
    byHour.set(hour, off);
  }
  return off;
}

/** Hours held in the offset cache, over all zones (for tests of its bound). */
export function offsetCacheSize(): number {
  let n = 0;
  for (const m of offsetCache.values()) n += m.size;
  return n;
}

export interface LocalResolution {
  utc: number;
  /** The wall time occurred twice (autumn change); the earlier instant was taken. */
  ambiguous: boolean;
  /** The wall time never occurred (spring change); it was read with the offset before the change. */
  nonexistent: boolean;
}

/** Converts a wall-clock time in `tz` (given as if it were UTC, in seconds) to a UTC instant. */
export function localToUtc(localAsUtc: number, tz: string): LocalResolution {
  const before = offsetAt(tz, localAsUtc - 43200);
  const after = offsetAt(tz, localAsUtc + 43200);
  const tBefore = localAsUtc - before;
  const tAfter = localAsUtc - after;
  const okBefore = offsetAt(tz, tBefore) === before;
  const okAfter = offsetAt(tz, tAfter) === after;
  if (okBefore && okAfter) {
    return { utc: Math.min(tBefore, tAfter), ambiguous: tBefore !== tAfter, nonexistent: false };
  }
  if (okBefore) return { utc: tBefore, ambiguous: false, nonexistent: false };
  if (okAfter) return { utc: tAfter, ambiguous: false, nonexistent: false };
  return { utc: tBefore, ambiguous: false, nonexistent: true };
}

/** Civil date from days since 1970-01-01 (Howard Hinnant's algorithm). */
export function civilFromDays(days: number): { y: number; m: number; d: number } {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  return { y: era * 400 + yoe + (m <= 2 ? 1 : 0), m, d };
}

/** Local calendar fields of an instant: year, month (1-12), day, hour, ISO weekday index (0 = Monday). */
export interface LocalFields {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  /** 0 = Monday … 6 = Sunday */
  dow: number;
  /** days since 1970-01-01 in local time */
  localDay: number;
  /** seconds since local midnight */
  secondOfDay: number;
}

export function localFields(utcSeconds: number, tz: string): LocalFields {
  const local = utcSeconds + offsetAt(tz, utcSeconds);
  const localDay = Math.floor(local / 86400);
  const secondOfDay = local - localDay * 86400;
  const { y, m, d } = civilFromDays(localDay);
  return {
    year: y,
    month: m,
    day: d,
    hour: Math.floor(secondOfDay / 3600),
    minute: Math.floor((secondOfDay % 3600) / 60),
    dow: (((localDay + 3) % 7) + 7) % 7, // 1970-01-01 was a Thursday (index 3)
    localDay,
    secondOfDay,
  };
}

/** Month key `YYYY-MM` of an instant in a zone. */
export function localMonth(utcSeconds: number, tz: string): string {
  const f = localFields(utcSeconds, tz);
  return `${f.year}-${String(f.month).padStart(2, '0')}`;
}

/** Parses `YYYY-MM-DD` as local midnight in `tz`; returns the UTC instant. */
export function localDateStart(date: string, tz: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (!m) throw new Error(`"${date}" is not a date in the form YYYY-MM-DD`);
  const asUtc = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) / 1000;
  if (new Date(asUtc * 1000).getUTCDate() !== Number(m[3]))
    throw new Error(`"${date}" is not a real calendar date`);
  return localToUtc(asUtc, tz).utc;
}

/** Adds whole local days to a `YYYY-MM-DD` date. */
export function addDays(date: string, days: number): string {
  const [y, m, d] = date.split('-').map(Number);
  return new Date(Date.UTC(y!, m! - 1, d! + days)).toISOString().slice(0, 10);
}

export function isoUtc(utcSeconds: number): string {
  return new Date(utcSeconds * 1000).toISOString().replace('.000Z', 'Z');
}

// ---------------------------------------------------------------------------------------
// Timestamp formats

export type TimestampResult =
  | { ok: true; utc: number; ambiguous: boolean; nonexistent: boolean; localMidnight?: boolean }
  | { ok: false; reason: string };

export type TimestampParser = (text: string) => TimestampResult;

const TOKEN = /YYYY|YY|MMMM|MMM|MM|M|DD|D|HH|H|hh|h|mm|ss|SSS|A/g;

const MONTHS = [
  'january',
  'february',
  'march',
  'april',
  'may',
  'june',
  'july',
  'august',
  'september',
  'october',
  'november',
  'december',
];

/**
 * Two-digit years (`YY`) follow POSIX strptime's `%y`: 69-99 are 1969-1999, 00-68 are 2000-2068
 * (`1/1/10` is 2010).
 */
export const twoDigitYear = (yy: number): number => (yy >= 69 ? 1900 + yy : 2000 + yy);

/**
 * Days from Excel's day 0 to 1970-01-01 in the 1900 date system: serial 25569 is 1970-01-01. Excel
 * counts a 29 February 1900 that never was (serial 60), so from serial 61 on the days run from
 * 1899-12-30; serials 1-59 (January and February 1900) from 1899-12-31.
 */
const EXCEL_EPOCH_DAYS = 25569;

/** The wall time (seconds as if UTC) of an Excel serial day number, rounded to the second (`43549.61319` → 2019-03-26 14:43:00). */
function excelWallTime(text: string): WallTime {
  const t = text.trim();
  const serial = /^\d+(\.\d+)?$/.test(t) ? Number(t) : NaN;
  if (!(serial >= 1))
    return {
      ok: false,
      reason: `"${text}" is not an Excel serial date (days since 1900, such as 43549.61319)`,
    };
  if (serial >= 60 && serial < 61)
    return {
      ok: false,
      reason: `"${text}" is 29 February 1900, a day Excel counts that never was`,
    };
  const days = serial - EXCEL_EPOCH_DAYS + (serial < 60 ? 1 : 0);
  const local = Math.round(days * 86400);
  return { ok: true, local, midnight: local % 86400 === 0 };
}

/** A wall-clock time read from text: seconds since 1970-01-01 as if the wall time were UTC. */
export type WallTime =
  { ok: true; local: number; midnight: boolean } | { ok: false; reason: string };

/**
 * Reads wall-clock times written in a pattern such as `MM/DD/YYYY hh:mm:ss A` (tokens below), or as
 * Excel serial days (`excel`). Tokens: `YYYY`, `YY` (see twoDigitYear), `MM` `M` (month number),
 * `MMM` `MMMM` (English month name, abbreviated or full, any case), `DD` `D`, `HH` `H` (24-hour),
 * `hh` `h` (12-hour, with `A` for AM/PM), `mm`, `ss`, `SSS` (a fraction of a second, 1 to 9 digits,
 * kept to the microsecond as stamps are stored).
 */
export function wallTimeParser(format: string): (text: string) => WallTime {
  if (format === 'excel') return excelWallTime;
  const tokens: string[] = [];
  const source = format.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(TOKEN, (t) => {
    tokens.push(t);
    if (t === 'A') return '([AaPp][Mm])';
    if (t === 'SSS') return '(\\d{1,9})';
    if (t === 'YYYY') return '(\\d{4})';
    if (t === 'MMM') return '([A-Za-z]{3})';
    if (t === 'MMMM') return '([A-Za-z]{3,9})';
    return t.length === 2 ? '(\\d{2})' : '(\\d{1,2})';
  });
  const re = new RegExp(`^\\s*${source}\\s*$`);
  return (text) => {
    const m = re.exec(text);
    if (!m) return { ok: false, reason: `"${text}" does not match the time format "${format}"` };
    let y = 1970,
      mo = 1,
      d = 1,
      h = 0,
      mi = 0,
      s = 0,
      frac = 0,
      ampm = '';
    for (let i = 0; i < tokens.length; i++) {
      const v = m[i + 1]!;
      switch (tokens[i]) {
        case 'YYYY':
          y = Number(v);
          break;
        case 'YY':
          y = twoDigitYear(Number(v));
          break;
        case 'MMM':
        case 'MMMM': {
          const name = v.toLowerCase();
          const k = MONTHS.findIndex((n) => (tokens[i] === 'MMM' ? n.slice(0, 3) : n) === name);
          if (k < 0) return { ok: false, reason: `"${text}": "${v}" is not a month name` };
          mo = k + 1;
          break;
        }
        case 'MM':
        case 'M':
          mo = Number(v);
          break;
        case 'DD':
        case 'D':
          d = Number(v);
          break;
        case 'HH':
        case 'H':
        case 'hh':
        case 'h':
          h = Number(v);
          break;
        case 'mm':
          mi = Number(v);
          break;
        case 'ss':
          s = Number(v);
          break;
        case 'SSS':
          frac = Number(`0.${v.slice(0, 6)}`);
          break;
        case 'A':
          ampm = v.toUpperCase();
          break;
      }
    }
    if (ampm) {
      if (h < 1 || h > 12)
        return { ok: false, reason: `"${text}": hour ${h} is not valid with AM/PM` };
      h = (h % 12) + (ampm === 'PM' ? 12 : 0);
    }
    return wallSeconds(text, y, mo, d, h, mi, s + frac);
  };
}

/**
 * Builds a parser for a format such as `MM/DD/YYYY hh:mm:ss A` (see wallTimeParser), `excel`, or
 * one of `iso` (ISO 8601; read in `tz` when it has no offset), `epoch_s`, `epoch_ms`.
 */
export function timestampParser(format: string, tz: string): TimestampParser {
  const parse = uncachedParser(format, tz);
  // The same stamp text recurs across the units of one incident; remember recent answers.
  let memo = new Map<string, TimestampResult>();
  return (text) => {
    let r = memo.get(text);
    if (r === undefined) {
      if (memo.size >= 4096) memo = new Map(); // repeats are neighbours (the units of one incident): a small memo suffices
      r = parse(text);
      memo.set(text, r);
    }
    return r;
  };
}

function uncachedParser(format: string, tz: string): TimestampParser {
  if (format === 'epoch_s' || format === 'epoch_ms') {
    const scale = format === 'epoch_s' ? 1 : 1000;
    return (text) => {
      const n = Number(text);
      return Number.isFinite(n) && text.trim() !== ''
        ? { ok: true, utc: n / scale, ambiguous: false, nonexistent: false }
        : {
            ok: false,
            reason: `"${text}" is not a number of ${format === 'epoch_s' ? 'seconds' : 'milliseconds'}`,
          };
    };
  }
  if (format === 'iso') return isoParser(tz);
  const wall = wallTimeParser(format);
  return (text) => {
    const w = wall(text);
    return w.ok ? inZone(w, tz) : w;
  };
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const isLeap = (y: number) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;

/**
 * Zone resolution memoised per local hour: offsets change only on whole hours, so every stamp in
 * the same local hour resolves the same way (this keeps imports of millions of stamps fast).
 */
const byLocalHour = new Map<
  string,
  Map<number, { offset: number; ambiguous: boolean; nonexistent: boolean }>
>();

/** Seconds since the epoch of a UTC wall time; years 0-99 stay themselves (Date.UTC reads them as 1900-1999, so 0000 became 1900). */
function utcSeconds(y: number, mo: number, d: number, h: number, mi: number): number {
  const t = new Date(Date.UTC(2000, mo - 1, d, h, mi, 0));
  t.setUTCFullYear(y, mo - 1, d);
  return t.getTime() / 1000;
}

/** A wall time from its fields, checked (a field out of range, a day the month lacks). */
function wallSeconds(
  text: string,
  y: number,
  mo: number,
  d: number,
  h: number,
  mi: number,
  s: number,
): WallTime {
  if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s >= 61) {
    return { ok: false, reason: `"${text}" has a field out of range` };
  }
  if (d > (mo === 2 && isLeap(y) ? 29 : DAYS_IN_MONTH[mo - 1]!))
    return { ok: false, reason: `"${text}" is not a real calendar date` };
  return {
    ok: true,
    local: utcSeconds(y, mo, d, h, mi) + s,
    midnight: h === 0 && mi === 0 && s === 0,
  };
}

/** The instant of a wall time in a zone. */
function inZone(w: { local: number; midnight: boolean }, tz: string): TimestampResult {
  const asUtc = w.local;
  let memo = byLocalHour.get(tz);
  if (!memo) byLocalHour.set(tz, (memo = new Map()));
  const hourKey = Math.floor(asUtc / 3600);
  let r = memo.get(hourKey);
  if (!r) {
    const res = localToUtc(hourKey * 3600, tz);
    r = {
      offset: hourKey * 3600 - res.utc,
      ambiguous: res.ambiguous,
      nonexistent: res.nonexistent,
    };
    memo.set(hourKey, r);
  }
  return {
    ok: true,
    utc: asUtc - r.offset,
    ambiguous: r.ambiguous,
    nonexistent: r.nonexistent,
    localMidnight: w.midnight,
  };
}

const ISO =
  /^\s*(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?\s*(Z|[+-]\d{2}:?\d{2})?\s*$/;

function isoParser(tz: string): TimestampParser {
  return (text) => {
    const m = ISO.exec(text);
    if (!m) return { ok: false, reason: `"${text}" is not an ISO 8601 timestamp` };
    const [y, mo, d, h, mi, s] = [1, 2, 3, 4, 5, 6].map((i) => Number(m[i] ?? 0)) as [
      number,
      number,
      number,
      number,
      number,
      number,
    ];
    const sec = s + (m[7] ? Number(`0.${m[7]}`) : 0);
    const zone = m[8];
    if (!zone) {
      const w = wallSeconds(text, y, mo, d, h, mi, sec);
      return w.ok ? inZone(w, tz) : w;
    }
    const asUtc = utcSeconds(y, mo, d, h, mi) + sec;
    if (Number.isNaN(asUtc) || mo < 1 || mo > 12)
      return { ok: false, reason: `"${text}" has a field out of range` };
    if (zone === 'Z') return { ok: true, utc: asUtc, ambiguous: false, nonexistent: false };
    const sign = zone[0] === '-' ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    const off = sign * (Number(digits.slice(0, 2)) * 3600 + Number(digits.slice(2)) * 60);
    return { ok: true, utc: asUtc - off, ambiguous: false, nonexistent: false };
  };
}
