import { z } from 'zod';

/**
 * Shared query and body parameters. Dates are read only inside a plausible window: operational
 * data older than 1900 or past 2100 is a typing error, and such years made the time-zone code walk
 * millions of hours (issue 13, item 3).
 */
export const MIN_YEAR = 1900;
export const MAX_YEAR = 2100;

/** True when y-m-d names a real calendar day inside the window. */
export function isPlausibleDay(text: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (y < MIN_YEAR || y > MAX_YEAR || mo < 1 || mo > 12 || d < 1) return false;
  return d <= new Date(Date.UTC(y, mo, 0)).getUTCDate();
}

/** A local calendar day, YYYY-MM-DD, real and within MIN_YEAR..MAX_YEAR. */
export const isoDay = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date YYYY-MM-DD')
  .refine(isPlausibleDay, `must be a real date between ${MIN_YEAR}-01-01 and ${MAX_YEAR}-12-31`);

/** A calendar month, YYYY-MM, within MIN_YEAR..MAX_YEAR. */
export const isoMonth = z
  .string()
  .regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'must be a month YYYY-MM')
  .refine(
    (s) => isPlausibleDay(`${s}-01`),
    `must be a month between ${MIN_YEAR}-01 and ${MAX_YEAR}-12`,
  );

/** An instant with its offset (ISO 8601), its calendar day inside MIN_YEAR..MAX_YEAR. */
export const isoInstant = z.iso
  .datetime({ offset: true })
  .refine(
    (s) => isPlausibleDay(s.slice(0, 10)),
    `must be a time between ${MIN_YEAR}-01-01 and ${MAX_YEAR}-12-31`,
  );
