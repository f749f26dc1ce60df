import { z } from 'zod';
import { UserError } from '../../platform/errors.ts';
import { describeZodError } from '../../platform/validation.ts';
import { codesKey, columnRef, filterKey, nullValuesKey } from '../../platform/columns.ts';
import { PHASES } from './fiscal.ts';

/**
 * How to read one budget export: which column holds which field, and the publisher's conventions.
 * Built-in profiles are mappings too; a user's own is a JSON or YAML file (--mapping).
 */
export const BUDGET_FIELDS = [
  'fiscal_year',
  'phase',
  'direction',
  'fund',
  'department',
  'division',
  'account_category',
  'account',
  'amount',
  'project_id',
  'budget_type',
] as const;

export const BudgetMappingSchema = z.strictObject({
  name: z.string().min(1),
  source: z.string().min(1).optional(),
  delimiter: z.string().length(1).optional(),
  nullValues: nullValuesKey,
  codes: codesKey,
  filter: filterKey.optional(),
  columns: z
    .strictObject(
      Object.fromEntries(BUDGET_FIELDS.map((f) => [f, columnRef.optional()])) as Record<
        (typeof BUDGET_FIELDS)[number],
        z.ZodOptional<typeof columnRef>
      >,
    )
    .refine((c) => c.fiscal_year && c.fund && c.amount, {
      message: 'must name at least fiscal_year, fund and amount',
    }),
  /** the phase of every line, when the file has no phase column */
  phase: z.enum(PHASES).optional(),
  /** the direction of every line, when the file has no direction column */
  direction: z.enum(['expense', 'revenue']).optional(),
  /** the date the figures were published or extracted */
  asOf: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/)
    .optional(),
  /** revenue printed as negative numbers (flipped to positive on import) */
  revenueNegative: z.boolean().default(false),
  /** old department name → current name, so years line up */
  departmentCrosswalk: z.record(z.string(), z.string()).default({}),
  /** strip code prefixes such as "12 - " from account categories */
  stripCodePrefixes: z.boolean().default(false),
});
export type BudgetMapping = z.output<typeof BudgetMappingSchema>;

export function parseBudgetMapping(data: unknown, where: string): BudgetMapping {
  const r = BudgetMappingSchema.safeParse(data);
  if (!r.success)
    throw new UserError(`The budget mapping ${where} is not valid:\n${describeZodError(r.error)}`);
  return r.data;
}

/** City of Oakland budget line items (Open Budget: Oakland), one row per leaf of the budget tree. */
export const oakland: BudgetMapping = BudgetMappingSchema.parse({
  name: 'oakland',
  source: 'oakland',
  columns: {
    fiscal_year: ['fiscal_year', 'Fiscal Year'],
    phase: ['budget_phase', 'phase'],
    direction: ['direction'],
    fund: ['fund', 'Fund Description'],
    department: ['department', 'Department'],
    division: ['division', 'Org Description'],
    account_category: ['account_category', 'Account Category'],
    account: ['account', 'Account Description'],
    amount: ['amount', 'Amount'],
  },
  departmentCrosswalk: {
    'Fire Department': 'Fire',
    'Police Department': 'Police',
    'Parks & Recreation': 'Oakland Parks and Recreation',
    'Oakland Parks & Recreation': 'Oakland Parks and Recreation',
    'Oakland Parks and Recreation Department': 'Oakland Parks and Recreation',
    'Oakland Parks, Recreation & Youth Development': 'Oakland Parks and Recreation',
  },
  stripCodePrefixes: true,
});

export const BUDGET_PROFILES: Record<string, BudgetMapping> = { oakland };
