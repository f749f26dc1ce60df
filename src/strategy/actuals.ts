import { basename } from 'node:path';
import { fiscalYearEnd } from '../budget/fiscal.ts';
import { UserError } from '../core/errors.ts';
import { readCsv } from '../core/sources.ts';
import { normaliseHeader } from '../fire/mapping.ts';
import type { Store } from '../store/db.ts';
import type { Plan } from './plan.ts';

/**
 * Actuals of manually reported measures from a CSV (measure, period, value). All or nothing: any
 * bad row stops the load, and every problem is listed by line. A period already recorded for a
 * measure is replaced, so re-loading a file changes nothing.
 */
export async function loadActuals(store: Store, plan: Plan, file: string): Promise<{ rows: number }> {
  const manual = new Set(plan.goals.flatMap((g) => g.objectives.flatMap((o) => o.measures.filter((m) => m.source.kind === 'manual').map((m) => m.id))));
  const bound = new Set(plan.goals.flatMap((g) => g.objectives.flatMap((o) => o.measures.filter((m) => m.source.kind !== 'manual').map((m) => m.id))));
  const problems: string[] = [];
  const rows: [string, string, number][] = [];
  let col = { measure: -1, period: -1, value: -1 };
  await readCsv(file, {
    onHeader(h) {
      const at = (names: string[]) => h.findIndex((x) => names.includes(normaliseHeader(x)));
      col = { measure: at(['measure', 'measureid']), period: at(['period', 'fiscalyear', 'year']), value: at(['value', 'actual']) };
      const missing = Object.entries(col).filter(([, i]) => i < 0).map(([k]) => k);
      if (missing.length) throw new UserError(`${basename(file)}: no column for ${missing.join(', ')} (the columns are measure, period, value)`);
    },
    onRecord(v, line) {
      const [measure, period, text] = [v[col.measure]!.trim(), v[col.period]!.trim(), v[col.value]!.trim()];
      const value = Number(text);
      if (bound.has(measure)) problems.push(`line ${line}: measure "${measure}" is bound to live data; its actuals are computed`);
      else if (!manual.has(measure)) problems.push(`line ${line}: no measure "${measure}" in the plan`);
      if (fiscalYearEnd(period) === null) problems.push(`line ${line}: period "${period}" is not a fiscal year (2024, FY23-24)`);
      if (text === '' || !Number.isFinite(value)) problems.push(`line ${line}: value "${text}" is not a number`);
      rows.push([measure, period, value]);
    },
    onError(e) { problems.push(`line ${e.line}: ${e.message}`); },
  });
  if (problems.length) throw new UserError(`${basename(file)}: nothing was loaded.\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  await store.transaction(async () => {
    for (const [measure, period, value] of rows) {
      await store.run('DELETE FROM measure_actuals WHERE measure_id = $1 AND period = $2', [measure, period]);
      await store.run('INSERT INTO measure_actuals (measure_id, period, value, source) VALUES ($1, $2, $3, $4)', [measure, period, value, file]);
    }
  });
  return { rows: rows.length };
}

/** Recorded actuals per measure, to merge with those written in the plan file. */
export async function recordedActuals(store: Store): Promise<Map<string, { period: string; value: number }[]>> {
  const rows = await store.all<{ measure_id: string; period: string; value: number }>('SELECT measure_id, period, value FROM measure_actuals');
  const out = new Map<string, { period: string; value: number }[]>();
  for (const r of rows) out.set(r.measure_id, [...(out.get(r.measure_id) ?? []), { period: r.period, value: r.value }]);
  return out;
}
