import { MAX_YEAR, MIN_YEAR } from '../../platform/params.ts';

/**
 * Budget conventions (docs/strategy-budget.md §2): fiscal years are normalised to the ending calendar
 * year (Oakland "FY22-23" → 2023, "FY 2025-26" → 2026, "2025" → 2025), phases to one vocabulary,
 * and amounts read as exports print them ("1,234", "(1,234)" negative, "-" zero, "$").
 */
export const PHASES = ['requested', 'proposed', 'adopted', 'adjusted', 'actual'] as const;
export type Phase = (typeof PHASES)[number];

const PHASE_ALIASES: Record<string, Phase> = {
  requested: 'requested',
  request: 'requested',
  proposed: 'proposed',
  recommended: 'proposed',
  preliminary: 'proposed',
  adopted: 'adopted',
  approved: 'adopted',
  enacted: 'adopted',
  adjusted: 'adjusted',
  amended: 'adjusted',
  revised: 'adjusted',
  midcycle: 'adjusted',
  'mid-cycle': 'adjusted',
  actual: 'actual',
  actuals: 'actual',
  executed: 'actual',
};

export function phaseOf(text: string): Phase | null {
  return PHASE_ALIASES[text.trim().toLowerCase()] ?? null;
}

/** The calendar year a fiscal year ends in, or null when the label is none (or names a year outside MIN_YEAR..MAX_YEAR). */
export function fiscalYearEnd(label: string): number | null {
  const end = fiscalYearEndOf(label);
  return end !== null && end >= MIN_YEAR && end <= MAX_YEAR ? end : null;
}

function fiscalYearEndOf(label: string): number | null {
  const t = label
    .trim()
    .toUpperCase()
    .replace(/^FY\s*/, '');
  let m = /^(\d{2}|\d{4})\s*[-/–]\s*(\d{2}|\d{4})$/.exec(t);
  if (m) {
    const end = m[2]!.length === 4 ? Number(m[2]) : 2000 + Number(m[2]);
    const start = m[1]!.length === 4 ? Number(m[1]) : 2000 + Number(m[1]);
    return end === start + 1 ? end : null;
  }
  m = /^(\d{4})$/.exec(t);
  if (m) return Number(m[1]);
  m = /^(\d{2})$/.exec(t);
  return m ? 2000 + Number(m[1]) : null;
}

export function fiscalLabel(end: number): string {
  return `FY${String(end - 1).slice(2)}-${String(end).slice(2)}`;
}

/** A money amount as exports print it; null when it is not one. */
export function parseAmount(text: string): number | null {
  let t = text.trim().replace(/[$\s]/g, '').replace(/,/g, '');
  if (t === '-' || t === '') return t === '-' ? 0 : null;
  let sign = 1;
  if (/^\(.*\)$/.test(t)) {
    sign = -1;
    t = t.slice(1, -1);
  }
  if (!/^-?\d+(\.\d+)?$/.test(t)) return null;
  return sign * Number(t);
}
