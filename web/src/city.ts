import type { CityFacts } from '../../src/contracts/index.ts';
import { api } from './api';

/** The city this server shows (GET /api/public/city), fetched once per page load. */
let pending: Promise<CityFacts> | null = null;

export function city(): Promise<CityFacts> {
  pending ??= api('/api/public/city');
  return pending;
}

/** The latest month with fire data (pages open on it), or the current month when none is loaded. */
export async function latestFireMonth(): Promise<string> {
  return (await city()).periods.fire?.to ?? new Date().toISOString().slice(0, 7);
}
