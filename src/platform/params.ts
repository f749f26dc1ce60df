import { z } from 'zod';

/**
 * Shared query and body parameters. Stored dates are read only inside a plausible window:
 * operational data older than 1900 or past 2100 is a typing error, and such years made the
 * time-zone code walk millions of hours (issue 13, item 3).
 */
export const MIN_YEAR = 1900;
export const MAX_YEAR = 2100;

/** True when y-m-d names a real calendar day inside MIN_YEAR..MAX_YEAR. */
export function isPlausibleDay(text: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (y < MIN_YEAR || y > MAX_YEAR || mo < 1 || mo > 12 || d < 1) return false;
  return d <= new Date(Date.UTC(y, mo, 0)).getUTCDate();
}

/**
 * A date a query may name runs from MIN_YEAR-01-01 to a year from today: nothing is recorded later,
 * and a range typed half-way (`from=0202-04-07` on the way to 2024) is refused rather than computed
 * (issue 16, item 1). Read at each request, so a server up for months keeps it current.
 */
export const FIRST_QUERY_DAY = `${MIN_YEAR}-01-01`;
export function lastQueryDay(now = new Date()): string {
  const d = new Date(Date.UTC(now.getUTCFullYear() + 1, now.getUTCMonth(), now.getUTCDate()));
  return d.toISOString().slice(0, 10);
}

/** True when y-m-d names a real calendar day from FIRST_QUERY_DAY to lastQueryDay(). */
export function isQueryDay(text: string): boolean {
  return isPlausibleDay(text) && text <= lastQueryDay();
}

/** A local calendar day, YYYY-MM-DD, real and within FIRST_QUERY_DAY..lastQueryDay(). */
export const isoDay = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date YYYY-MM-DD')
  .superRefine((s, ctx) => {
    if (!isQueryDay(s))
      ctx.addIssue({
        code: 'custom',
        message: `must be a real date between ${FIRST_QUERY_DAY} and ${lastQueryDay()}`,
      });
  });

/** A calendar year a query may name: MIN_YEAR to next year. */
export const queryYear = z.coerce
  .number()
  .int()
  .superRefine((y, ctx) => {
    const last = Number(lastQueryDay().slice(0, 4));
    if (y < MIN_YEAR || y > last)
      ctx.addIssue({ code: 'custom', message: `must be a year between ${MIN_YEAR} and ${last}` });
  });

/** An instant with its offset (ISO 8601), its calendar day inside MIN_YEAR..MAX_YEAR. */
export const isoInstant = z.iso
  .datetime({ offset: true })
  .refine(
    (s) => isPlausibleDay(s.slice(0, 10)),
    `must be a time between ${MIN_YEAR}-01-01 and ${MAX_YEAR}-12-31`,
  );
