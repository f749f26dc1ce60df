import { basename } from 'node:path';
import { fiscalYearEnd } from '../budget/index.ts';
import { UserError } from '../../platform/errors.ts';
import { readCsv } from '../../platform/sources.ts';
import { normaliseHeader } from '../../platform/validation.ts';
import type { Store } from '../../platform/db.ts';
import type { Plan } from './plan.ts';

/**
 * Actuals of manually reported measures from a CSV (measure, period, value). All or nothing: any
 * bad row stops the load, and every problem is listed by line. A period already recorded for a
 * measure is replaced, so re-loading a file changes nothing.
 */
export interface ActualInput {
  measure: string;
  period: string;
  value: string | number;
}

/** Checks one reported actual against the plan; returns its problems (empty when it is fine). */
function problemsOf(plan: Plan, a: ActualInput): string[] {
  const measures = plan.goals.flatMap((g) => g.objectives.flatMap((o) => o.measures));
  const m = measures.find((x) => x.id === a.measure);
  const out: string[] = [];
  if (!m) out.push(`no measure "${a.measure}" in the plan`);
  else if (m.source.kind !== 'manual')
    out.push(`measure "${a.measure}" is bound to live data; its actuals are computed`);
  if (fiscalYearEnd(a.period) === null)
    out.push(`period "${a.period}" is not a fiscal year (2024, FY23-24)`);
  const text = String(a.value).trim();
  if (text === '' || !Number.isFinite(Number(text))) out.push(`value "${text}" is not a number`);
  return out;
}

/** Records actuals (from the form or a CSV): all or nothing; a period already recorded is replaced. */
export async function recordActuals(
  store: Store,
  plan: Plan,
  rows: ActualInput[],
  source: string,
  where: (k: number) => string = (k) => `item ${k + 1}`,
): Promise<{ rows: number }> {
  const problems = rows.flatMap((a, k) => problemsOf(plan, a).map((p) => `${where(k)}: ${p}`));
  if (problems.length)
    throw new UserError(`Nothing was recorded.\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  await store.transaction(async () => {
    for (const a of rows) {
      await store.run('DELETE FROM measure_actuals WHERE measure_id = $1 AND period = $2', [
        a.measure,
        a.period,
      ]);
      await store.run(
        'INSERT INTO measure_actuals (measure_id, period, value, source) VALUES ($1, $2, $3, $4)',
        [a.measure, a.period, Number(a.value), source],
      );
    }
  });
  return { rows: rows.length };
}

export async function loadActuals(
  store: Store,
  plan: Plan,
  file: string,
): Promise<{ rows: number }> {
  const problems: string[] = [];
  const rows: ActualInput[] = [];
  const lines: number[] = [];
  let col = { measure: -1, period: -1, value: -1 };
  await readCsv(file, {
    onHeader(h) {
      const at = (names: string[]) => h.findIndex((x) => names.includes(normaliseHeader(x)));
      col = {
        measure: at(['measure', 'measureid']),
        period: at(['period', 'fiscalyear', 'year']),
        value: at(['value', 'actual']),
      };
      const missing = Object.entries(col)
        .filter(([, i]) => i < 0)
        .map(([k]) => k);
      if (missing.length)
        throw new UserError(
          `${basename(file)}: no column for ${missing.join(', ')} (the columns are measure, period, value)`,
        );
    },
    onRecord(v, line) {
      rows.push({
        measure: v[col.measure]!.trim(),
        period: v[col.period]!.trim(),
        value: v[col.value]!.trim(),
      });
      lines.push(line);
    },
    onError(e) {
      problems.push(`line ${e.line}: ${e.message}`);
    },
  });
  if (problems.length)
    throw new UserError(
      `${basename(file)}: nothing was loaded.\n${problems.map((p) => `  - ${p}`).join('\n')}`,
    );
  try {
    return await recordActuals(store, plan, rows, file, (k) => `line ${lines[k]}`);
  } catch (e) {
    throw e instanceof UserError
      ? new UserError(
          `${basename(file)}: ${e.message.replace('Nothing was recorded.', 'nothing was loaded.')}`,
        )
      : e;
  }
}

/** Recorded actuals per measure, to merge with those written in the plan file. */
export async function recordedActuals(
  store: Store,
): Promise<Map<string, { period: string; value: number }[]>> {
  const rows = await store.all<{ measure_id: string; period: string; value: number }>(
    'SELECT measure_id, period, value FROM measure_actuals',
  );
  const out = new Map<string, { period: string; value: number }[]>();
  for (const r of rows)
    out.set(r.measure_id, [...(out.get(r.measure_id) ?? []), { period: r.period, value: r.value }]);
  return out;
}
