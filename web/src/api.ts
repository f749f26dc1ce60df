import { useEffect, useState } from 'preact/hooks';
import type { Answer, GetPath, SegmentId } from '../../src/contracts/index.ts';

/**
 * Talks to the CityOps API with the session cookie; every figure on screen comes from here. The
 * answer types come from src/contracts, which the server's routes are checked against too.
 */

/** Query parameters; a `:name` in the path takes its value from here, empty values are left out. */
export type Params = object;

/** Parameters as a query string: the same the CLI takes, so a URL reproduces a figure anywhere. */
export function query(params: Params = {}): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(params))
    if (v !== undefined && v !== null && v !== '') p.set(k, String(v));
  return p.toString();
}

function url(path: string, params: Params = {}): string {
  const rest = new Map(Object.entries(params));
  const filled = path.replace(/:(\w+)/g, (_, name: string) => {
    const value = rest.get(name);
    rest.delete(name);
    return encodeURIComponent(String(value));
  });
  const q = query(Object.fromEntries(rest));
  return q ? `${filled}?${q}` : filled;
}

/** The server's `{ error }` for a refused request, else the status line: never a stack. */
async function refusal(res: Response): Promise<string> {
  const body: unknown = await res.json().catch(() => null);
  return typeof body === 'object' && body && 'error' in body && typeof body.error === 'string'
    ? body.error
    : res.statusText || `The server answered ${res.status}.`;
}

async function send(path: string, init: RequestInit): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(path, {
      credentials: 'same-origin',
      ...init,
      headers: { 'content-type': 'application/json' },
    });
  } catch (e) {
    if (e instanceof DOMException && e.name === 'AbortError') throw e;
    throw new Error('The server could not be reached: check the connection and try again.', {
      cause: e,
    });
  }
  if (!res.ok) throw new Error(await refusal(res));
  return res;
}

/** GET a path of the contract; its answer has the contract's type. */
export async function api<P extends GetPath, Q extends Params = object>(
  path: P,
  params?: Q,
  signal?: AbortSignal,
): Promise<Answer<P, Q>> {
  return (await send(url(path, params), { signal })).json();
}

/** POST a JSON body (sign-in, a recorded action or actual); refusals throw with the server's message. */
export async function post(path: string, body: unknown): Promise<void> {
  await send(path, { method: 'POST', body: JSON.stringify(body) });
}

/** `api` bound to one query's abort signal. */
export type Get = <P extends GetPath, Q extends Params = object>(
  path: P,
  params?: Q,
) => Promise<Answer<P, Q>>;

export interface Query<T> {
  /** the latest answer, kept while the next one loads so a page does not blank on every change */
  data: T | undefined;
  /** why the latest load failed, in the server's words; '' when it did not */
  error: string;
  loading: boolean;
  /** loads again with the same parameters (after the page changed something) */
  reload: () => void;
}

/**
 * The one way a page loads data: `load` runs on mount and whenever `deps` change; a change or an
 * unmount aborts the requests it leaves behind, so a slow answer to old parameters never lands.
 */
export function useQuery<T>(load: (get: Get) => Promise<T>, deps: readonly unknown[]): Query<T> {
  const [state, setState] = useState<Omit<Query<T>, 'reload'>>({
    data: undefined,
    error: '',
    loading: true,
  });
  const [round, setRound] = useState(0);
  useEffect(() => {
    const ctrl = new AbortController();
    const get: Get = (path, params) => api(path, params, ctrl.signal);
    setState((s) => ({ ...s, loading: true }));
    load(get).then(
      (data) => {
        if (!ctrl.signal.aborted) setState({ data, error: '', loading: false });
      },
      (e: unknown) => {
        if (!ctrl.signal.aborted)
          setState((s) => ({
            ...s,
            error: e instanceof Error ? e.message : String(e),
            loading: false,
          }));
      },
    );
    return () => ctrl.abort();
  }, [...deps, round]);
  return { ...state, reload: () => setRound((r) => r + 1) };
}

export interface Filters {
  from?: string;
  to?: string;
  priority: 'all' | 'emergency';
  category?: string;
  station?: string;
  unitType?: string;
}

export const SEGMENTS: readonly SegmentId[] = [
  'callProcessing',
  'turnout',
  'travel',
  'totalResponse',
  'firstUnitTravel',
  'alarmAnswering',
  'commitment',
  'erf',
];
export const SEGMENT_LABELS: Record<SegmentId, string> = {
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
