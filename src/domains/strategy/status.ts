import { fiscalYearEnd } from '../budget/index.ts';
import { addDays } from '../../platform/time.ts';
import type { FireService } from '../fire/index.ts';
import type { Store } from '../../platform/db.ts';
import { injuryCrashWindows } from '../collisions/index.ts';
import { recordedActuals } from './actuals.ts';
import type { Plan, PlanMeasure } from './plan.ts';
import type { MeasureState, MeasureStatus } from '../../contracts/strategy.ts';

/**
 * Measure status (docs/strategy-budget.md §1): the latest actual against the target of its fiscal
 * year: on track, near (within the measure's tolerance), off track, no data, no target; and the
 * trend against the prior period, flat within a dead-band.
 */
export type Status = MeasureState;
export type Trend = MeasureStatus['trend'];

export function statusOf(
  m: Pick<PlanMeasure, 'direction' | 'nearTolerance'>,
  actual: number | null,
  target: number | null,
): Status {
  if (actual === null) return 'no_data';
  if (target === null) return 'no_target';
  const better = m.direction === 'lower' ? actual <= target : actual >= target;
  if (better) return 'on_track';
  const miss = Math.abs(actual - target) / Math.abs(target || 1);
  return miss <= m.nearTolerance ? 'near' : 'off_track';
}

export function trendOf(
  m: Pick<PlanMeasure, 'direction' | 'trendDeadBand'>,
  actual: number | null,
  prior: number | null,
): Trend {
  if (actual === null || prior === null) return null;
  const change = (actual - prior) / Math.abs(prior || 1);
  if (Math.abs(change) <= m.trendDeadBand) return 'flat';
  return change < 0 === (m.direction === 'lower') ? 'improving' : 'worsening';
}

/** Fiscal year (July–June) of a date, by ending year. */
const fiscalYearOf = (date: string) =>
  Number(date.slice(0, 4)) + (Number(date.slice(5, 7)) >= 7 ? 1 : 0);

/** The rolling 12 months ending with the latest call on record, and the 12 months before. */
async function fireWindows(store: Store, timeZone: string) {
  const last = await store.one<{ d: string | null }>(
    `SELECT strftime(timezone($1, max(call_received)), '%Y-%m-%d') AS d FROM analytic_incidents`,
    [timeZone],
  );
  if (!last?.d) return null;
  const to = last.d,
    from = addDays(to, -364);
  return { current: { from, to }, prior: { from: addDays(from, -365), to: addDays(from, -1) } };
}

export async function measureStatuses(
  store: Store,
  fire: FireService,
  plan: Plan,
): Promise<MeasureStatus[]> {
  const windows = await fireWindows(store, fire.config.timeZone);
  const recorded = await recordedActuals(store);
  const out: MeasureStatus[] = [];
  for (const g of plan.goals)
    for (const o of g.objectives)
      for (const m of o.measures) {
        let actual: number | null = null,
          prior: number | null = null,
          n: number | null = null,
          period: string | null = null,
          fy: number | null = null;
        let streetsTarget: number | null = null;
        const src = m.source;
        if (src.kind === 'fire' && windows) {
          const read = async (w: { from: string; to: string }) => {
            const r = (await fire.metrics({ ...w, priority: src.priority })) as unknown as Record<
              string,
              { n: number; p50: number | null; p90: number | null; compliance: number | null }
            >;
            const s = r[src.segment]!;
            return { value: s.n === 0 ? null : s[src.stat], n: s.n };
          };
          const cur = await read(windows.current);
          actual = cur.value;
          n = cur.n;
          prior = (await read(windows.prior)).value;
          period = `${windows.current.from}…${windows.current.to}`;
          fy = fiscalYearOf(windows.current.to);
        } else if (src.kind === 'streets') {
          const w = await injuryCrashWindows(store, src.baselineYears);
          if (w) {
            actual = w.current;
            prior = w.prior;
            period = w.period;
            fy = fiscalYearOf(w.to);
            streetsTarget = Math.round(w.baseline * (1 - src.reduction) * 10) / 10;
          }
        } else if (src.kind === 'manual' && (src.actuals.length || recorded.has(m.id))) {
          // recorded actuals (from CSV) replace the file's for the same fiscal year
          const byYear = new Map(
            [...src.actuals, ...(recorded.get(m.id) ?? [])].map((a) => [
              fiscalYearEnd(a.period),
              a,
            ]),
          );
          const sorted = [...byYear.values()].sort(
            (a, b) => (fiscalYearEnd(a.period) ?? 0) - (fiscalYearEnd(b.period) ?? 0),
          );
          const latest = sorted[sorted.length - 1]!;
          actual = latest.value;
          period = latest.period;
          fy = fiscalYearEnd(latest.period);
          prior = sorted.length > 1 ? sorted[sorted.length - 2]!.value : null;
        }
        const target = fy !== null ? (m.targets[String(fy)] ?? streetsTarget) : null;
        out.push({
          goal: g.id,
          objective: o.id,
          measure: m.id,
          name: m.name,
          unit: m.unit,
          direction: m.direction,
          source:
            src.kind === 'fire'
              ? `fire ${src.segment} ${src.stat} (${src.priority})`
              : src.kind === 'pending'
                ? `pending: ${src.note}`
                : src.kind === 'streets'
                  ? `collisions, rolling 12 months vs ${src.baselineYears}-year baseline −${Math.round(src.reduction * 100)}%`
                  : 'manual',
          period,
          fiscalYear: fy,
          actual,
          n,
          target,
          status: statusOf(m, actual, target),
          prior,
          trend: trendOf(m, actual, prior),
        });
      }
  return out;
}
