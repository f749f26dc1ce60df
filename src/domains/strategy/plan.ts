import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { UserError } from '../../platform/errors.ts';
import { describeZodError } from '../../platform/validation.ts';
import { SEGMENTS } from '../fire/index.ts';

/**
 * The council's strategic plan as a file: goals → objectives → measures with targets
 * (docs/strategy-budget.md §1). A measure can be bound to a query of the platform, so its actuals are live.
 */
const id = z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'lower-case letters, digits and dashes');

const Source = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('fire'),
    /** a response-time segment; `p90` or `p50` in seconds, or `compliance`, the share meeting the standard */
    segment: z.enum(SEGMENTS),
    stat: z.enum(['p90', 'p50', 'compliance']),
    priority: z.enum(['all', 'emergency']).default('emergency'),
  }),
  /** actuals reported by people: in the file, and/or loaded from CSV (cityops strategy actuals) */
  z.strictObject({
    kind: z.literal('manual'),
    actuals: z.array(z.strictObject({ period: z.string(), value: z.number() })).default([]),
  }),
  /** injury crashes in the rolling 12 months; target = the mean of `baselineYears` earlier calendar years less `reduction` */
  z.strictObject({
    kind: z.literal('streets'),
    metric: z.literal('injury_crashes_12m'),
    baselineYears: z.number().int().min(1).max(10).default(3),
    reduction: z.number().min(0).max(1).default(0.19),
  }),
  /** a module whose data is not loaded yet: shown as "no data" */
  z.strictObject({ kind: z.literal('pending'), note: z.string() }),
]);

const Measure = z.strictObject({
  id,
  name: z.string().min(1),
  type: z.enum(['input', 'output', 'efficiency', 'quality', 'outcome']),
  unit: z.string().min(1),
  direction: z.enum(['lower', 'higher']).describe('which way is better'),
  definition: z.string().min(1),
  owner: z.string().min(1),
  baseline: z.strictObject({ value: z.number(), period: z.string() }).optional(),
  /** target per fiscal year (ending calendar year) */
  targets: z.record(z.string().regex(/^\d{4}$/), z.number()).default({}),
  /** "near" when the actual misses the target by at most this share of it */
  nearTolerance: z.number().min(0).max(1).default(0.05),
  /** changes smaller than this share of the prior value count as "flat" */
  trendDeadBand: z.number().min(0).max(1).default(0.02),
  source: Source,
});

/** An action or initiative that moves an objective: who owns it, when it is due, how far along it is. */
const Action = z.strictObject({
  id,
  name: z.string().min(1),
  owner: z.string().min(1),
  due: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a date YYYY-MM-DD'),
  status: z.enum(['not_started', 'in_progress', 'done', 'delayed']),
  percentComplete: z.number().min(0).max(100).default(0),
});

const Objective = z.strictObject({
  id,
  name: z.string().min(1),
  measures: z.array(Measure).default([]),
  actions: z.array(Action).default([]),
});

/** A capital project: multi-year, funded by year, tagged to goals, with its cost once built. */
const CapitalProject = z.strictObject({
  id,
  name: z.string().min(1),
  department: z.string().min(1),
  goals: z.array(z.string()).min(1),
  /** appropriations by fiscal year (ending year) */
  funding: z.record(z.string().regex(/^\d{4}$/), z.number().min(0)),
  totalCost: z.number().positive(),
  /** yearly operating cost once in service (GFOA: show the operating impact) */
  operatingImpact: z.number().default(0),
});

const Goal = z.strictObject({
  id,
  name: z.string().min(1),
  description: z.string().default(''),
  /** budget alignment: the departments (crosswalked names) whose lines serve this goal, with their share */
  departments: z.record(z.string(), z.number().gt(0).lte(1)).default({}),
  objectives: z.array(Objective).min(1),
});

const score = z.number().int().min(0).max(4);
export const ATTRIBUTES = ['mandate', 'reliance', 'cost_recovery', 'demand', 'population'] as const;

/** Priority-based budgeting (docs/strategy-budget.md §3): programs costed from department budgets and scored 0–4. */
const Pbb = z.strictObject({
  /** council weights of each goal's score and of each basic attribute (default 1) */
  weights: z
    .strictObject({
      goals: z.record(z.string(), z.number().min(0)).default({}),
      attributes: z.partialRecord(z.enum(ATTRIBUTES), z.number().min(0)).default({}),
    })
    .default({ goals: {}, attributes: {} }),
  programs: z
    .array(
      z.strictObject({
        id,
        name: z.string().min(1),
        department: z.string().min(1),
        /** the share of the department's budget this program uses (its allocation) */
        share: z.number().gt(0).lte(1),
        scores: z
          .record(z.string(), score)
          .describe('0–4 against each goal: no influence … essential'),
        attributes: z.strictObject(
          Object.fromEntries(ATTRIBUTES.map((a) => [a, score])) as Record<
            (typeof ATTRIBUTES)[number],
            typeof score
          >,
        ),
      }),
    )
    .min(1),
});

export const PlanSchema = z
  .strictObject({
    city: z.string().min(1),
    period: z
      .strictObject({ from: z.number().int(), to: z.number().int() })
      .describe('fiscal years (ending year) the plan covers'),
    population: z.number().int().positive().optional(),
    /** the general fund's name in the budget data, for general-fund alignment */
    generalFund: z.string().min(1).optional(),
    goals: z.array(Goal).min(1),
    pbb: Pbb.optional(),
    capitalProjects: z.array(CapitalProject).default([]),
  })
  .superRefine((p, ctx) => {
    const ids = new Set<string>();
    for (const g of p.goals)
      for (const o of g.objectives)
        for (const m of o.measures) {
          if (ids.has(m.id))
            ctx.addIssue({
              code: 'custom',
              message: `measure id "${m.id}" is used twice`,
              path: ['goals'],
            });
          ids.add(m.id);
        }
    const shares: Record<string, number> = {};
    for (const g of p.goals)
      for (const [d, s] of Object.entries(g.departments)) shares[d] = (shares[d] ?? 0) + s;
    for (const [d, s] of Object.entries(shares))
      if (s > 1 + 1e-9)
        ctx.addIssue({
          code: 'custom',
          message: `department "${d}" is given ${Math.round(s * 100)}% across goals (at most 100%)`,
          path: ['goals'],
        });
    const known = new Set(p.goals.map((g) => g.id));
    p.capitalProjects.forEach((c, k) => {
      for (const g of c.goals)
        if (!known.has(g))
          ctx.addIssue({
            code: 'custom',
            message: `is tagged to an unknown goal "${g}"`,
            path: ['capitalProjects', k, 'goals'],
          });
      const funded = Object.values(c.funding).reduce((a, b) => a + b, 0);
      if (funded > c.totalCost * (1 + 1e-9))
        ctx.addIssue({
          code: 'custom',
          message: `is funded ${funded} over its total cost ${c.totalCost}`,
          path: ['capitalProjects', k, 'funding'],
        });
    });
    if (p.pbb) {
      const goalIds = new Set(p.goals.map((g) => g.id));
      const alloc: Record<string, number> = {};
      p.pbb.programs.forEach((prog, k) => {
        for (const g of Object.keys(prog.scores))
          if (!goalIds.has(g))
            ctx.addIssue({
              code: 'custom',
              message: `scores an unknown goal "${g}"`,
              path: ['pbb', 'programs', k, 'scores'],
            });
        alloc[prog.department] = (alloc[prog.department] ?? 0) + prog.share;
      });
      for (const [d, s] of Object.entries(alloc))
        if (s > 1 + 1e-9)
          ctx.addIssue({
            code: 'custom',
            message: `programs of "${d}" are allocated ${Math.round(s * 100)}% of its budget (at most 100%)`,
            path: ['pbb'],
          });
    }
  });
export type Plan = z.output<typeof PlanSchema>;
export type PlanMeasure = z.output<typeof Measure>;

export function parsePlan(text: string, where: string): Plan {
  let data: unknown;
  try {
    data = parseYaml(text);
  } catch (e) {
    throw new UserError(`The plan ${where} is not valid YAML: ${(e as Error).message}`);
  }
  const r = PlanSchema.safeParse(data);
  if (!r.success)
    throw new UserError(`The plan ${where} is not valid:\n${describeZodError(r.error)}`);
  return r.data;
}

export function loadPlanFile(path: string): Plan {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UserError(`Cannot read the plan ${path}: ${(e as NodeJS.ErrnoException).code}`);
  }
  return parsePlan(text, path);
}
