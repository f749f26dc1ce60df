import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { UserError } from '../../platform/errors.ts';
import {
  fieldText,
  FILTERED_OUT,
  lookedFor,
  resolveHeader,
  rowFilter,
  type FieldColumns,
} from '../../platform/columns.ts';
import type { Store } from '../../platform/db.ts';
import { runImport, type ImportOptions, type ImportSource } from '../../platform/ingest.ts';
import type { BatchSummary } from '../../platform/staging.ts';
import { fiscalLabel, fiscalYearEnd, parseAmount, phaseOf } from './fiscal.ts';
import { BUDGET_PROFILES, parseBudgetMapping, type BudgetMapping } from './mapping.ts';

/**
 * Imports budget lines through the one ingest pipeline (src/platform/ingest.ts): streamed, every source
 * row kept as received, bad rows quarantined with line, field and reason, one transaction, idempotent
 * (a line's key is its fiscal year, phase, direction and chart-of-accounts segments).
 */
export type BudgetImportSummary = BatchSummary;

const STAGE = [
  'line_id',
  'fiscal_year_end',
  'fiscal_label',
  'phase',
  'budget_type',
  'direction',
  'fund',
  'department',
  'department_source',
  'division',
  'account_category',
  'account',
  'project_id',
  'amount',
];
const TYPES = { fiscal_year_end: 'INTEGER', amount: 'DECIMAL(18,2)' };

/**
 * The largest amount a line may have: ten trillion, beyond any city's budget, and below where a
 * double stops holding whole cents (a longer number overflowed DECIMAL(18,2) and aborted the import).
 */
const MAX_AMOUNT = 1e13;

function loadMapping(opts: { profile?: string; mappingFile?: string }): BudgetMapping {
  if (opts.profile && opts.mappingFile)
    throw new UserError('Give either --profile or --mapping, not both.');
  if (opts.mappingFile) {
    let text: string;
    try {
      text = readFileSync(opts.mappingFile, 'utf8');
    } catch (e) {
      throw new UserError(
        `Cannot read the mapping file ${opts.mappingFile}: ${(e as NodeJS.ErrnoException).code}`,
      );
    }
    let data: unknown;
    try {
      data = /\.ya?ml$/i.test(opts.mappingFile) ? parseYaml(text) : JSON.parse(text);
    } catch (e) {
      throw new UserError(
        `The mapping file ${opts.mappingFile} is not valid: ${(e as Error).message}`,
      );
    }
    return parseBudgetMapping(data, `file ${opts.mappingFile}`);
  }
  const name = opts.profile ?? 'oakland';
  const m = BUDGET_PROFILES[name];
  if (!m)
    throw new UserError(
      `Unknown budget profile "${name}". Known profiles: ${Object.keys(BUDGET_PROFILES).join(', ')}; or write a mapping file (--mapping FILE).`,
    );
  return m;
}

export async function importBudgetFile(
  store: Store,
  file: string,
  opts: { profile?: string; mappingFile?: string } & ImportOptions = {},
): Promise<BudgetImportSummary> {
  return runImport(store, file, budgetSource(file, loadMapping(opts)), opts);
}

/** How a budget file is read: one line per row, keyed by fiscal year, phase, direction and its chart-of-accounts segments. */
function budgetSource(file: string, mapping: BudgetMapping): ImportSource {
  let fields = new Map<string, FieldColumns>();
  let kept: (values: string[]) => boolean = () => true;
  const seen = new Map<string, number>();
  const source = mapping.source ?? mapping.name;
  return {
    domain: 'budget',
    profile: mapping.name,
    source,
    delimiter: mapping.delimiter,
    stage: { columns: STAGE, types: TYPES, key: 'line_id' },
    table: { name: 'budget_lines', key: 'line_id' },
    header(h) {
      const res = resolveHeader(mapping.columns, mapping, h);
      fields = res.fields;
      kept = rowFilter(mapping, res.filterColumn);
      const required = ['fiscal_year', 'fund', 'amount'];
      const missing = required.filter((f) => !fields.has(f));
      if (!mapping.phase && !fields.has('phase'))
        missing.push('phase (or a fixed "phase" in the mapping)');
      if (!mapping.direction && !fields.has('direction'))
        missing.push('direction (or a fixed "direction" in the mapping)');
      if (res.filterColumn === null && mapping.filter)
        missing.push(
          `the filter's column (looked for: ${lookedFor(mapping.filter.column).join(', ')})`,
        );
      if (missing.length)
        throw new UserError(
          `${file}: no column for ${missing.join(', ')}. Columns in the file: ${h.join(', ')}`,
        );
    },
    row(v, _line, out) {
      if (!kept(v)) return out.leaveOut(FILTERED_OUT);
      const get = (f: string) => {
        const c = fields.get(f);
        return c === undefined ? null : fieldText(c, v);
      };
      const fyText = get('fiscal_year');
      const fy = fyText === null ? null : fiscalYearEnd(fyText);
      if (fy === null)
        return out.reject(
          'fiscal_year',
          fyText === null
            ? 'missing fiscal year'
            : `"${fyText}" is not a fiscal year (FY22-23, 2023, …)`,
        );
      const phaseText = get('phase');
      const phase = mapping.phase ?? (phaseText === null ? null : phaseOf(phaseText));
      if (phase === null)
        return out.reject(
          'phase',
          phaseText === null
            ? 'missing budget phase'
            : `"${phaseText}" is not a budget phase (proposed, adopted, adjusted, actual, requested)`,
        );
      const direction = get('direction')?.toLowerCase() ?? mapping.direction ?? null;
      if (direction !== 'expense' && direction !== 'revenue')
        return out.reject('direction', `"${direction ?? ''}" is not expense or revenue`);
      const fund = get('fund');
      if (fund === null) return out.reject('fund', 'missing fund');
      const amountText = get('amount');
      let amount = amountText === null ? null : parseAmount(amountText);
      if (amount === null)
        return out.reject(
          'amount',
          amountText === null ? 'missing amount' : `"${amountText}" is not an amount`,
        );
      if (Math.abs(amount) >= MAX_AMOUNT)
        return out.reject(
          'amount',
          `"${amountText}" is beyond ±${MAX_AMOUNT.toLocaleString('en-US')}, not a plausible budget line`,
        );
      if (direction === 'revenue' && mapping.revenueNegative) amount = -amount;
      const deptSource = get('department');
      const department =
        deptSource === null ? null : (mapping.departmentCrosswalk[deptSource] ?? deptSource);
      if (deptSource !== null && department !== deptSource) out.warn('department_renamed');
      let category = get('account_category');
      if (category !== null && mapping.stripCodePrefixes)
        category = category.replace(/^\d+\s*-\s*/, '');
      const key = [
        fy,
        phase,
        direction,
        fund,
        deptSource,
        get('division'),
        get('account_category'),
        get('account'),
        get('project_id'),
      ].join('|');
      const n = (seen.get(key) ?? 0) + 1; // a repeated key is a separate line, numbered in file order
      seen.set(key, n);
      out.accept({
        line_id: n > 1 ? `${key}#${n}` : key,
        fiscal_year_end: fy,
        fiscal_label: fiscalLabel(fy),
        phase,
        budget_type: get('budget_type') ?? 'operating',
        direction,
        fund,
        department,
        department_source: deptSource,
        division: get('division'),
        account_category: category,
        account: get('account'),
        project_id: get('project_id'),
        amount,
      });
    },
    async apply(store, t, batchId) {
      await store.run(
        `INSERT INTO budget_lines SELECT s.line_id, $1, s.fiscal_year_end, s.fiscal_label, s.phase, $3::DATE, s.budget_type, s.direction, s.fund,
          s.department, s.department_source, s.division, s.account_category, s.account, s.project_id, s.amount, $2
        FROM ${t.stage} s SEMI JOIN ${t.changes} c ON c.key = s.line_id`,
        [source, batchId, mapping.asOf ?? null],
      );
    },
  };
}
