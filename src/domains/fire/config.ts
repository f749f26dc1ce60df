import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { UserError } from '../../platform/errors.ts';
import { isValidTimeZone } from '../../platform/time.ts';
import { describeZodError } from '../../platform/validation.ts';
import { UNIT_TYPES } from './model.ts';
import { DEFAULT_STANDARD, STANDARDS, StandardSchema, type Standard } from './standards.ts';

const Lon = z.number().min(-180).max(180);
const Lat = z.number().min(-90).max(90);

/**
 * The city's configuration, loaded once: who the city is (name, time zone, map extent, credits) and
 * the fire analysis settings. Every field has the product default of docs/fire-metrics.md; a city overrides
 * what differs in a JSON or YAML file (--config FILE). The map extent and default period need not be
 * written: they come from the imported layers and data (see src/interfaces/http/city.ts).
 */
export const FireConfigSchema = z.strictObject({
  /** Shown in page titles and reports. */
  name: z.string().min(1).max(120).default('CityOps'),
  /** [[west, south], [east, north]] in WGS84; default: the extent of the imported boundary, stations or data. */
  bounds: z
    .tuple([z.tuple([Lon, Lat]), z.tuple([Lon, Lat])])
    .refine(([[w, s], [e, n]]) => w < e && s < n, {
      message: 'must be [[west, south], [east, north]] with west < east and south < north',
    })
    .optional(),
  /** Credit for the map layers and data, shown on every map. */
  attribution: z.string().max(300).default(''),
  timeZone: z
    .string()
    .refine(isValidTimeZone, { message: 'is not an IANA time zone' })
    .default('America/Los_Angeles'),
  /** Plausibility caps in seconds: a longer interval is excluded as over_cap. */
  caps: z
    .strictObject({
      default: z.number().positive().default(3600),
      commitment: z.number().positive().default(86400),
    })
    .default({ default: 3600, commitment: 86400 }),
  /** Units of other agencies (private ambulance, mutual aid) count in department metrics only if true. */
  includeOtherAgencies: z.boolean().default(false),
  /** Shift rotation: `pattern` letters repeat one per day from `anchor` (a local date), changing at `changeTime`. */
  shifts: z
    .strictObject({
      pattern: z
        .string()
        .regex(/^[A-Za-z]+$/, 'letters only, one per shift day')
        .default('ABC'),
      anchor: z
        .string()
        .regex(/^\d{4}-\d{2}-\d{2}$/, 'a date YYYY-MM-DD')
        .default('2020-01-01'),
      changeTime: z
        .string()
        .regex(/^\d{2}:\d{2}$/, 'a time HH:MM')
        .default('08:00'),
    })
    .default({ pattern: 'ABC', anchor: '2020-01-01', changeTime: '08:00' }),
  /** Persons on board by unit type, where the source has no staffing. */
  staffing: z.record(z.enum(UNIT_TYPES), z.number().int().min(0)).default({
    ENGINE: 4,
    TRUCK: 4,
    QUINT: 4,
    RESCUE: 4,
    MEDIC_ALS: 2,
    MEDIC_BLS: 2,
    CHIEF: 1,
    SUPPORT: 1,
    OTHER: 0,
  }),
  /** Effective response force: which incidents need one, and how many persons it takes. */
  erf: z
    .strictObject({
      incidentTypePattern: z.string().default('structure fire|building fire|^FIRE\\|\\|STRUCTURE'),
      persons: z.number().int().positive().default(15),
    })
    .default({
      incidentTypePattern: 'structure fire|building fire|^FIRE\\|\\|STRUCTURE',
      persons: 15,
    }),
  /** A preset id or an inline standard. */
  standard: z.union([z.string(), StandardSchema]).default(DEFAULT_STANDARD),
});
export type FireConfig = z.output<typeof FireConfigSchema>;
/** One configuration per city: the fire settings are part of it. */
export type CityConfig = FireConfig;

export function defaultConfig(): FireConfig {
  return FireConfigSchema.parse({});
}

function readStructured(path: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UserError(
      `Cannot read the ${what} ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    );
  }
  try {
    return /\.ya?ml$/i.test(path) ? parseYaml(text) : JSON.parse(text);
  } catch (e) {
    throw new UserError(
      `The ${what} ${path} is not valid ${/\.ya?ml$/i.test(path) ? 'YAML' : 'JSON'}: ${(e as Error).message}`,
    );
  }
}

export function loadConfig(path?: string): FireConfig {
  if (!path) return defaultConfig();
  const r = FireConfigSchema.safeParse(readStructured(path, 'config file'));
  if (!r.success)
    throw new UserError(`The config file ${path} is not valid:\n${describeZodError(r.error)}`);
  return r.data;
}

/** A preset id, or a path to a JSON/YAML standard file. */
export function resolveStandard(ref: string | Standard): Standard {
  if (typeof ref !== 'string') return ref;
  if (Object.hasOwn(STANDARDS, ref)) return STANDARDS[ref]!;
  if (/\.(json|ya?ml)$/i.test(ref)) {
    const r = StandardSchema.safeParse(readStructured(ref, 'standard file'));
    if (!r.success)
      throw new UserError(`The standard file ${ref} is not valid:\n${describeZodError(r.error)}`);
    return r.data;
  }
  throw new UserError(
    `Unknown standard "${ref}". Presets: ${Object.keys(STANDARDS).join(', ')}; or give a JSON/YAML file.`,
  );
}
