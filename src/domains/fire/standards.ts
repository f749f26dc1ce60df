import { z } from 'zod';
import { CATEGORIES, UNIT_TYPES } from './model.ts';

/**
 * Standards presets (docs/fire-metrics.md §4). An objective grades one segment: `fraction` of values must be at or
 * under `seconds`. Optional matchers narrow it to a category, unit types, risk class or zone; the
 * first matching objective of a segment grades a value. Figures marked (verify) in docs/fire-metrics.md are
 * shipped as editable presets: copy one into a file and pass it with --standard FILE.
 */
export const SEGMENTS = [
  'alarmAnswering',
  'callProcessing',
  'turnout',
  'travel',
  'totalResponse',
  'firstUnitTurnout',
  'firstUnitTravel',
  'commitment',
  'erf',
] as const;
export type Segment = (typeof SEGMENTS)[number];

export const ObjectiveSchema = z.strictObject({
  segment: z.enum(SEGMENTS),
  seconds: z.number().positive(),
  fraction: z.number().gt(0).lte(1).default(0.9),
  category: z.array(z.enum(CATEGORIES)).optional(),
  unitTypes: z.array(z.enum(UNIT_TYPES)).optional(),
  riskClass: z.array(z.string()).optional(),
  zone: z.array(z.string()).optional(),
  note: z.string().optional(),
});
export type Objective = z.output<typeof ObjectiveSchema>;

export const StandardSchema = z.strictObject({
  id: z.string().min(1),
  name: z.string().min(1),
  objectives: z.array(ObjectiveSchema),
});
export type Standard = z.output<typeof StandardSchema>;

const NON_EMS = ['FIRE', 'RESCUE', 'HAZMAT', 'SERVICE', 'OTHER'] as const;

const callHandling1221: Objective[] = [
  {
    segment: 'alarmAnswering',
    seconds: 15,
    fraction: 0.95,
    note: 'NFPA 1221-2016: answer 95% within 15 s',
  },
  {
    segment: 'callProcessing',
    seconds: 64,
    fraction: 0.9,
    note: 'NFPA 1221-2016: process 90% within 64 s',
  },
];
const callHandling1225: Objective[] = [
  {
    segment: 'alarmAnswering',
    seconds: 10,
    fraction: 0.9,
    note: 'NFPA 1225-2022: answer 90% within 10 s (verify)',
  },
  {
    segment: 'callProcessing',
    seconds: 60,
    fraction: 0.9,
    note: 'NFPA 1225-2022: process 90% within 60 s (verify)',
  },
];
const response1710: Objective[] = [
  {
    segment: 'turnout',
    seconds: 60,
    fraction: 0.9,
    category: ['EMS'],
    note: 'NFPA 1710: EMS turnout 60 s',
  },
  {
    segment: 'turnout',
    seconds: 80,
    fraction: 0.9,
    category: [...NON_EMS],
    note: 'NFPA 1710: fire and special operations turnout 80 s',
  },
  { segment: 'firstUnitTurnout', seconds: 60, fraction: 0.9, category: ['EMS'] },
  { segment: 'firstUnitTurnout', seconds: 80, fraction: 0.9, category: [...NON_EMS] },
  {
    segment: 'firstUnitTravel',
    seconds: 240,
    fraction: 0.9,
    note: 'NFPA 1710: 240 s travel, first arriving unit',
  },
  {
    segment: 'travel',
    seconds: 240,
    fraction: 0.9,
    unitTypes: ['ENGINE', 'TRUCK', 'QUINT', 'RESCUE'],
    note: 'graded against the first-engine 240 s objective',
  },
  {
    segment: 'travel',
    seconds: 480,
    fraction: 0.9,
    unitTypes: ['MEDIC_ALS'],
    note: 'NFPA 1710: ALS unit 480 s travel',
  },
  {
    segment: 'totalResponse',
    seconds: 364,
    fraction: 0.9,
    category: ['EMS'],
    note: 'sum of 64 s processing + 60 s turnout + 240 s travel',
  },
  {
    segment: 'totalResponse',
    seconds: 384,
    fraction: 0.9,
    category: [...NON_EMS],
    note: 'sum of 64 s processing + 80 s turnout + 240 s travel',
  },
  {
    segment: 'erf',
    seconds: 624,
    fraction: 0.9,
    note: '64 s processing + 80 s turnout + 480 s full first-alarm travel',
  },
];

export const STANDARDS: Record<string, Standard> = {
  'nfpa1710-2020': {
    id: 'nfpa1710-2020',
    name: 'NFPA 1710 (2020) with NFPA 1221-2016 call handling',
    objectives: [...callHandling1221, ...response1710],
  },
  'nfpa1710-2020+1225': {
    id: 'nfpa1710-2020+1225',
    name: 'NFPA 1710 (2020) with NFPA 1225-2022 call handling',
    objectives: [...callHandling1225, ...response1710],
  },
  'nfpa1221-2016': {
    id: 'nfpa1221-2016',
    name: 'NFPA 1221-2016 call handling',
    objectives: callHandling1221,
  },
  'nfpa1225-2022': {
    id: 'nfpa1225-2022',
    name: 'NFPA 1225-2022 call handling',
    objectives: callHandling1225,
  },
};

export const DEFAULT_STANDARD = 'nfpa1710-2020';

/** What a value needs to find its objective. */
export interface GradingContext {
  category: string;
  unitType?: string;
  riskClass: string | null;
  zone: string | null;
}

export function objectiveFor(
  standard: Standard,
  segment: Segment,
  ctx: GradingContext,
): Objective | undefined {
  return standard.objectives.find(
    (o) =>
      o.segment === segment &&
      (!o.category || o.category.includes(ctx.category as never)) &&
      (!o.unitTypes ||
        (ctx.unitType !== undefined && o.unitTypes.includes(ctx.unitType as never))) &&
      (!o.riskClass || (ctx.riskClass !== null && o.riskClass.includes(ctx.riskClass))) &&
      (!o.zone || (ctx.zone !== null && o.zone.includes(ctx.zone))),
  );
}
