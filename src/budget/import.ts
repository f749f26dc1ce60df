import { createHash } from 'node:crypto';
import { createReadStream, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { UserError } from '../core/errors.ts';
import { encodingNote, inspectFile, MAX_RAW_KEPT, readCsv } from '../core/sources.ts';
import { normaliseHeader } from '../fire/mapping.ts';
import type { Store } from '../store/db.ts';
import { makeStagingDir, RawFile, removeStagingDir, StageFile, type BatchSummary } from '../store/staging.ts';
import { fiscalLabel, fiscalYearEnd, parseAmount, phaseOf } from './fiscal.ts';
import { BUDGET_PROFILES, parseBudgetMapping, type BudgetMapping } from './mapping.ts';

/**
 * Imports budget lines with the fire importer's guarantees: streamed, every source row kept as
 * received, bad rows quarantined with line, field and reason, one transaction, idempotent (a line's
 * key is its fiscal year, phase, direction and chart-of-accounts segments).
 */
export type BudgetImportSummary = BatchSummary;

const STAGE = ['line_id', 'line', 'seq', 'fiscal_year_end', 'fiscal_label', 'phase', 'budget_type', 'direction', 'fund', 'department',
  'department_source', 'division', 'account_category', 'account', 'project_id', 'amount'];
const TYPES = { line: 'INTEGER', seq: 'INTEGER', fiscal_year_end: 'INTEGER', amount: 'DECIMAL(18,2)' };

/**
 * The largest amount a line may have: ten trillion, beyond any city's budget, and below where a
 * double stops holding whole cents (a longer number overflowed DECIMAL(18,2) and aborted the import).
 */
const MAX_AMOUNT = 1e13;

function loadMapping(opts: { profile?: string; mappingFile?: string }): BudgetMapping {
  if (opts.profile && opts.mappingFile) throw new UserError('Give either --profile or --mapping, not both.');
  if (opts.mappingFile) {
    let text: string;
    try { text = readFileSync(opts.mappingFile, 'utf8'); } catch (e) { throw new UserError(`Cannot read the mapping file ${opts.mappingFile}: ${(e as NodeJS.ErrnoException).code}`); }
    let data: unknown;
    try { data = /\.ya?ml$/i.test(opts.mappingFile) ? parseYaml(text) : JSON.parse(text); } catch (e) { throw new UserError(`The mapping file ${opts.mappingFile} is not valid: ${(e as Error).message}`); }
    return parseBudgetMapping(data, `file ${opts.mappingFile}`);
  }
  const name = opts.profile ?? 'oakland';
  const m = BUDGET_PROFILES[name];
  if (!m) throw new UserError(`Unknown budget profile "${name}". Known profiles: ${Object.keys(BUDGET_PROFILES).join(', ')}; or write a mapping file (--mapping FILE).`);
  return m;
}

export async function importBudgetFile(store: Store, file: string, opts: { profile?: string; mappingFile?: string } = {}): Promise<BudgetImportSummary> {
  inspectFile(file);
  const mapping = loadMapping(opts);
  const dir = makeStagingDir('budget');
  try {
    const stage = new StageFile(join(dir, 'stage.csv'), STAGE, TYPES);
    const raw = new RawFile(join(dir, 'raw.tsv'));
    const quarantine = new StageFile(join(dir, 'quarantine.csv'), ['line', 'field', 'reason', 'raw'], { line: 'INTEGER' });
    const warnings: Record<string, number> = {};
    let rowsRead = 0, quarantined = 0;
    let index = new Map<string, number>();
    const seen = new Map<string, number>();
    const decoded = await readCsv(file, {
      onHeader(h) {
        const byNorm = new Map(h.map((x, i) => [normaliseHeader(x), i]));
        index = new Map();
        for (const [field, ref] of Object.entries(mapping.columns)) {
          if (!ref) continue;
          const hit = (Array.isArray(ref) ? ref : [ref]).map((n) => byNorm.get(normaliseHeader(n))).find((i) => i !== undefined);
          if (hit !== undefined) index.set(field, hit);
        }
        const missing = ['fiscal_year', 'fund', 'amount'].filter((f) => !index.has(f));
        if (!mapping.phase) { if (!index.has('phase')) missing.push('phase (or a fixed "phase" in the mapping)'); }
        if (!mapping.direction) { if (!index.has('direction')) missing.push('direction (or a fixed "direction" in the mapping)'); }
        if (missing.length) throw new UserError(`${file}: no column for ${missing.join(', ')}. Columns in the file: ${h.join(', ')}`);
      },
      onRecord(v, line) {
        rowsRead++;
        const get = (f: string) => { const i = index.get(f); const t = i === undefined ? '' : (v[i] ?? '').trim(); return t === '' ? null : t; };
        const rawText = JSON.stringify(v);
        const reject = (field: string, reason: string) => { quarantined++; quarantine.write([line, field, reason, rawText.slice(0, MAX_RAW_KEPT)]); };
        const fyText = get('fiscal_year');
        const fy = fyText === null ? null : fiscalYearEnd(fyText);
        if (fy === null) return reject('fiscal_year', fyText === null ? 'missing fiscal year' : `"${fyText}" is not a fiscal year (FY22-23, 2023, …)`);
        const phaseText = get('phase');
        const phase = mapping.phase ?? (phaseText === null ? null : phaseOf(phaseText));
        if (phase === null) return reject('phase', phaseText === null ? 'missing budget phase' : `"${phaseText}" is not a budget phase (proposed, adopted, adjusted, actual, requested)`);
        const dirText = get('direction')?.toLowerCase() ?? mapping.direction ?? null;
        if (dirText !== 'expense' && dirText !== 'revenue') return reject('direction', `"${dirText ?? ''}" is not expense or revenue`);
        const fund = get('fund');
        if (fund === null) return reject('fund', 'missing fund');
        const amountText = get('amount');
        let amount = amountText === null ? null : parseAmount(amountText);
        if (amount === null) return reject('amount', amountText === null ? 'missing amount' : `"${amountText}" is not an amount`);
        if (Math.abs(amount) >= MAX_AMOUNT) return reject('amount', `"${amountText}" is beyond ±${MAX_AMOUNT.toLocaleString('en-US')}, not a plausible budget line`);
        if (dirText === 'revenue' && mapping.revenueNegative) amount = -amount;
        const deptSource = get('department');
        const department = deptSource === null ? null : (mapping.departmentCrosswalk[deptSource] ?? deptSource);
        if (deptSource !== null && department !== deptSource) warnings.department_renamed = (warnings.department_renamed ?? 0) + 1;
        let category = get('account_category');
        if (category !== null && mapping.stripCodePrefixes) category = category.replace(/^\d+\s*-\s*/, '');
        const key = [fy, phase, dirText, fund, deptSource, get('division'), get('account_category'), get('account'), get('project_id')].join('|');
        const n = (seen.get(key) ?? 0) + 1; // a repeated key is a separate line, numbered in file order
        seen.set(key, n);
        raw.write(stage.rows, rawText);
        stage.write([n > 1 ? `${key}#${n}` : key, line, stage.rows, fy, fiscalLabel(fy), phase, get('budget_type') ?? 'operating', dirText, fund,
          department, deptSource, get('division'), category, get('account'), get('project_id'), amount]);
      },
      onError(e) {
        rowsRead++;
        quarantined++;
        quarantine.write([e.line, null, e.message, e.raw]);
      },
    }, mapping.delimiter);
    for (const f of [stage, raw, quarantine]) f.close();
    const note = encodingNote(file, decoded);
    if (note) warnings.invalid_utf8 = decoded.nonUtf8Lines;
    const sha = createHash('sha256');
    for await (const chunk of createReadStream(file)) sha.update(chunk as Buffer);
    const source = mapping.source ?? mapping.name;
    return await store.transaction(async () => {
      const batchId = (await store.one<{ id: number }>('SELECT coalesce(max(batch_id), 0) + 1 AS id FROM import_batches'))!.id;
      await store.run(`INSERT INTO import_batches (batch_id, domain, file, file_sha256, profile, source, started_at) VALUES ($1, 'budget', $2, $3, $4, $5, now())`,
        [batchId, file, sha.digest('hex'), mapping.name, source]);
      await store.run(`CREATE OR REPLACE TEMP TABLE budget_stage AS SELECT s.*, r.raw FROM ${stage.sql()} s JOIN ${raw.sql()} r USING (seq)`);
      await store.run(`CREATE OR REPLACE TEMP TABLE budget_changes AS SELECT s.line_id, r.source_row_id IS NULL AS is_new
        FROM budget_stage s LEFT JOIN source_rows r ON r.source = $1 AND r.source_row_id = s.line_id
        WHERE r.source_row_id IS NULL OR r.raw <> s.raw`, [source]);
      const k = (await store.one<{ inserted: number; updated: number; total: number }>(`SELECT
        (SELECT count(*) FROM budget_changes WHERE is_new) AS inserted, (SELECT count(*) FROM budget_changes WHERE NOT is_new) AS updated,
        (SELECT count(*) FROM budget_stage) AS total`))!;
      await store.run('DELETE FROM source_rows WHERE source = $1 AND source_row_id IN (SELECT line_id FROM budget_changes WHERE NOT is_new)', [source]);
      await store.run('DELETE FROM budget_lines WHERE source = $1 AND line_id IN (SELECT line_id FROM budget_changes WHERE NOT is_new)', [source]);
      await store.run('INSERT INTO source_rows SELECT $1, s.line_id, $2, s.line, s.raw FROM budget_stage s SEMI JOIN budget_changes USING (line_id)', [source, batchId]);
      await store.run(`INSERT INTO budget_lines SELECT s.line_id, $1, s.fiscal_year_end, s.fiscal_label, s.phase, $3::DATE, s.budget_type, s.direction, s.fund,
          s.department, s.department_source, s.division, s.account_category, s.account, s.project_id, s.amount, $2
        FROM budget_stage s SEMI JOIN budget_changes USING (line_id)`, [source, batchId, mapping.asOf ?? null]);
      await store.run(`INSERT INTO quarantine SELECT (SELECT coalesce(max(quarantine_id), 0) FROM quarantine) + row_number() OVER (ORDER BY line),
        $1, $2, line, field, reason, raw FROM ${quarantine.sql()}`, [batchId, file]);
      await store.run(`UPDATE import_batches SET finished_at = now(), rows_read = $2, inserted = $3, updated = $4, unchanged = $5, quarantined = $6, warnings = $7
        WHERE batch_id = $1`, [batchId, rowsRead, k.inserted, k.updated, k.total - k.inserted - k.updated, quarantined, JSON.stringify(warnings)]);
      return { batchId, file, profile: mapping.name, rowsRead, inserted: k.inserted, updated: k.updated, unchanged: k.total - k.inserted - k.updated, quarantined, warnings,
        ...(note ? { notes: [note] } : {}) };
    });
  } finally {
    removeStagingDir(dir);
  }
}
