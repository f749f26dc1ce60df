/** Talks to the CityOps API with the session cookie; every figure on screen comes from here. */
export class Unauthorized extends Error {}

export async function api<T>(path: string, init?: RequestInit): Promise<T> {
  const res = await fetch(path, {
    credentials: 'same-origin',
    ...init,
    headers: { 'content-type': 'application/json', ...(init?.headers ?? {}) },
  });
  if (res.status === 401) throw new Unauthorized('Sign in');
  if (!res.ok)
    throw new Error(
      (await res.json().catch(() => ({ error: res.statusText }))).error ?? res.statusText,
    );
  return res.json() as Promise<T>;
}

export interface Filters {
  from?: string;
  to?: string;
  priority: 'all' | 'emergency';
  category?: string;
  station?: string;
  unitType?: string;
}

/** Filters as a query string: the same parameters the CLI takes, so a URL reproduces a figure anywhere. */
export function query(f: Filters, extra: Record<string, string> = {}): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries({ ...f, ...extra })) if (v) p.set(k, String(v));
  return p.toString();
}

export interface Segment {
  n: number;
  p50: number | null;
  p90: number | null;
  excluded: Record<string, number>;
  compliance: number | null;
  requiredFraction: number | null;
  pass: boolean | null;
  objective: number | string | null;
}

export const SEGMENTS = [
  'callProcessing',
  'turnout',
  'travel',
  'totalResponse',
  'firstUnitTravel',
  'alarmAnswering',
  'commitment',
  'erf',
] as const;
export const SEGMENT_LABELS: Record<string, string> = {
  alarmAnswering: 'Alarm answering',
  callProcessing: 'Call processing',
  turnout: 'Turnout',
  travel: 'Travel',
  totalResponse: 'Total response',
  firstUnitTurnout: 'First-unit turnout',
  firstUnitTravel: 'First-unit travel',
  commitment: 'Unit commitment',
  erf: 'Effective response force',
};

export const fmtS = (s: number | null | undefined) =>
  s === null || s === undefined
    ? '–'
    : s >= 600
      ? `${Math.floor(s / 60)}:${String(Math.round(s % 60)).padStart(2, '0')}`
      : `${Math.round(s)} s`;
export const fmtPct = (x: number | null | undefined) =>
  x === null || x === undefined ? '–' : `${(x * 100).toFixed(1)}%`;
