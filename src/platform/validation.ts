import type { z } from 'zod';

/** Checking what users give us: messages that name the field, headers matched loosely. */

/** Lists every problem of a zod error as `path: message` lines. */
export function describeZodError(err: z.ZodError): string {
  return err.issues
    .map((i) => `  - ${i.path.length ? i.path.join('.') : '(top level)'}: ${i.message}`)
    .join('\n');
}

/** Header normalisation for alias matching: `Received DtTm` = `received_dttm` = `RECEIVED-DTTM`. */
export function normaliseHeader(h: string): string {
  return h.toLowerCase().replace(/[^a-z0-9]/g, '');
}
