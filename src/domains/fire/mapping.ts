import { describeZodError } from '../../platform/validation.ts';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { UserError } from '../../platform/errors.ts';
import { isValidTimeZone } from '../../platform/time.ts';
import { codesKey, columnRef, filterKey, nullValuesKey } from '../../platform/columns.ts';
import { CATEGORIES, INCIDENT_PLACE_FIELDS, STATUSES, UNIT_STAMPS, UNIT_TYPES } from './model.ts';

/**
 * A mapping tells CityOps how to read one CAD export: which column holds which canonical field,
 * how times are written, and how the agency's codes translate. Built-in profiles are mappings too.
 * Column references, null tokens, code maps and row filters are the keys every domain's mapping
 * shares (platform/columns.ts).
 */

export const WIDE_FIELDS = [
  'row_id',
  'incident_id',
  'unit_id',
  'call_received',
  'call_created',
  'closed_at',
  ...UNIT_STAMPS,
  'incident_type',
  'priority',
  'lat',
  'lon',
  'location',
  ...INCIDENT_PLACE_FIELDS,
  'unit_type',
  'home_station',
  'dispatch_order',
  'staffing',
  'cancelled',
] as const;
export const EVENT_FIELDS = [
  'event_id',
  'incident_id',
  'unit_id',
  'status',
  'at',
  'call_received',
  'incident_type',
  'priority',
  'lat',
  'lon',
  'address',
  'station_area',
  'unit_type',
  'home_station',
  'staffing',
] as const;

const fieldsObject = (fields: readonly string[]) =>
  z.strictObject(
    Object.fromEntries(fields.map((f) => [f, columnRef.optional()])) as Record<
      string,
      z.ZodOptional<typeof columnRef>
    >,
  );

const common = {
  name: z.string().min(1),
  /** Key space for row ids; rows from different sources never collide. Defaults to the name. */
  source: z.string().min(1).optional(),
  timeZone: z
    .string()
    .refine(isValidTimeZone, { message: 'is not an IANA time zone such as America/Los_Angeles' })
    .default('America/Los_Angeles'),
  /** `iso`, `epoch_s`, `epoch_ms`, `excel`, or a pattern such as `MM/DD/YYYY hh:mm:ss A` (platform/time.ts). */
  timeFormat: z.string().min(1).default('iso'),
  nullValues: nullValuesKey,
  codes: codesKey,
  filter: filterKey.optional(),
  delimiter: z.string().length(1).optional(),
  /** Source priority codes that mean lights-and-sirens. */
  emergencyPriorities: z.array(z.string()).default([]),
  unitTypes: z.record(z.string(), z.enum(UNIT_TYPES)).default({}),
  /** Source unit types that belong to other agencies (private ambulance, mutual aid). */
  otherAgencyUnitTypes: z.array(z.string()).default([]),
  /** Source call type → category. */
  categories: z.record(z.string(), z.enum(CATEGORIES)).default({}),
  defaultCategory: z.enum(CATEGORIES).default('OTHER'),
  /** A regular expression with one group that extracts the home station from a unit id (E32 → 32). */
  homeStationFromUnit: z
    .string()
    .refine(
      (s) => {
        try {
          new RegExp(s);
          return true;
        } catch {
          return false;
        }
      },
      { message: 'is not a valid regular expression' },
    )
    .optional(),
};

export const WideMappingSchema = z.strictObject({
  shape: z.literal('wide').default('wide'),
  ...common,
  columns: fieldsObject(WIDE_FIELDS).refine((c) => c.incident_id && c.unit_id, {
    message: 'must name at least incident_id and unit_id',
  }),
});

export const EventMappingSchema = z.strictObject({
  shape: z.literal('events'),
  ...common,
  columns: fieldsObject(EVENT_FIELDS).refine(
    (c) => c.incident_id && c.unit_id && c.status && c.at,
    { message: 'must name at least incident_id, unit_id, status and at' },
  ),
  /** Source status code → canonical status. */
  statusCodes: z.record(z.string(), z.enum(STATUSES as [string, ...string[]])).default({}),
});

export const MappingSchema = z.discriminatedUnion('shape', [WideMappingSchema, EventMappingSchema]);
export type WideMapping = z.output<typeof WideMappingSchema>;
export type EventMapping = z.output<typeof EventMappingSchema>;
export type Mapping = WideMapping | EventMapping;

export function parseMapping(input: unknown, where: string): Mapping {
  const withShape =
    input && typeof input === 'object' && !('shape' in input) ? { shape: 'wide', ...input } : input;
  const r = MappingSchema.safeParse(withShape);
  if (!r.success)
    throw new UserError(`The mapping ${where} is not valid:\n${describeZodError(r.error)}`);
  return r.data;
}

export function loadMappingFile(path: string): Mapping {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UserError(
      `Cannot read the mapping file ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    );
  }
  let data: unknown;
  try {
    data = /\.ya?ml$/i.test(path) ? parseYaml(text) : JSON.parse(text);
  } catch (e) {
    throw new UserError(
      `The mapping file ${path} is not valid ${/\.ya?ml$/i.test(path) ? 'YAML' : 'JSON'}: ${(e as Error).message}`,
    );
  }
  return parseMapping(data, `file ${path}`);
}
