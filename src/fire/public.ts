import { isoDay } from '../core/params.ts';
import { z } from 'zod';
import type { FireService } from './service.ts';

/**
 * What residents may see: city-wide and neighbourhood aggregates of response performance and call
 * volume. No addresses, coordinates, unit-level rows or incident ids; a neighbourhood with fewer
 * than MIN_GROUP incidents is withheld, so a single call cannot be singled out.
 */
export const MIN_GROUP = 10;

export const PublicQuerySchema = z.strictObject({ from: isoDay.optional(), to: isoDay.optional() });
export type PublicQuery = z.output<typeof PublicQuerySchema>;

const PUBLIC_SEGMENTS = ['callProcessing', 'turnout', 'travel', 'totalResponse'] as const;
type Seg = { n: number; p50: number | null; p90: number | null; compliance: number | null; objective: unknown; pass: boolean | null };

const pick = (s: Seg) => ({ n: s.n, p50: s.p50, p90: s.p90, objectiveSeconds: typeof s.objective === 'number' ? s.objective : null,
  shareMeetingObjective: s.compliance, meetsStandard: s.pass });

export async function publicPerformance(fire: FireService, q: PublicQuery) {
  const out: Record<string, unknown> = { from: q.from ?? null, to: q.to ?? null, unit: 'seconds' };
  for (const priority of ['emergency', 'all'] as const) {
    const m = (await fire.metrics({ ...q, priority })) as unknown as Record<string, Seg> & { incidents: number; standard: { name: string } };
    out.standard = m.standard.name;
    out[priority] = { incidents: m.incidents, ...Object.fromEntries(PUBLIC_SEGMENTS.map((s) => [s, pick(m[s])])) };
  }
  return out;
}

export async function publicNeighborhoods(fire: FireService, q: PublicQuery) {
  const m = (await fire.metrics({ ...q, priority: 'emergency', by: ['neighborhood'] })) as unknown as { groups: (Record<string, Seg> & { key: string; incidents: number })[] };
  const all = (await fire.metrics({ ...q, priority: 'all', by: ['neighborhood'] })) as unknown as { groups: { key: string; incidents: number }[] };
  const calls = new Map(all.groups.map((g) => [g.key, g.incidents]));
  const rows = m.groups.filter((g) => g.key !== 'unknown').map((g) => {
    const withheld = (calls.get(g.key) ?? 0) < MIN_GROUP || g.incidents < MIN_GROUP;
    return withheld
      ? { neighborhood: g.key, withheld: true }
      : { neighborhood: g.key, incidents: calls.get(g.key) ?? 0, emergencyIncidents: g.incidents, totalResponse: pick(g.totalResponse) };
  });
  return { from: q.from ?? null, to: q.to ?? null, minimumGroup: MIN_GROUP, neighborhoods: rows };
}
