import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fiscalYearEnd, parseAmount, phaseOf } from '../src/domains/budget/fiscal.ts';
import { importBudgetFile } from '../src/domains/budget/import.ts';
import { budgetEditions, budgetSummary } from '../src/domains/budget/summary.ts';
import type { Store } from '../src/platform/db.ts';
import { cli, openTemp, ROOT, tempDir } from './helpers.ts';

const SHARED = join(ROOT, '../shared/data/budget/oakland_budget_line_items.csv.gz');
const OAKLAND = existsSync(SHARED)
  ? SHARED
  : join(ROOT, 'samples/budget/oakland_budget_line_items.csv.gz');

// shared/data/budget/README.md: editions (expense rows, expense total)
const EDITIONS: [number, string, number, number][] = [
  [2014, 'adopted', 3056, 1_094_533_634],
  [2015, 'adopted', 3044, 1_090_122_151],
  [2016, 'proposed', 3317, 1_213_893_113],
  [2016, 'adopted', 7559, 1_202_960_209],
  [2017, 'proposed', 3282, 1_180_808_251],
  [2017, 'adopted', 7504, 1_182_137_681],
  [2017, 'adjusted', 7979, 1_239_428_331],
  [2018, 'proposed', 10553, 1_331_563_727],
  [2019, 'proposed', 10494, 1_363_271_740],
  [2020, 'adopted', 12601, 1_656_222_651],
  [2021, 'adopted', 12494, 1_652_052_100],
  [2022, 'adopted', 14657, 2_033_463_039],
  [2023, 'adopted', 14657, 1_920_271_118],
];

describe('budget conventions', () => {
  it('normalises fiscal years, phases and amounts as exports write them', () => {
    expect(['FY22-23', 'FY 2025-26', '2025', 'fy13-14', '2022/23'].map(fiscalYearEnd)).toEqual([
      2023, 2026, 2025, 2014, 2023,
    ]);
    expect(fiscalYearEnd('FY22-24')).toBeNull();
    expect(['Adopted', 'approved', 'Recommended', 'amended', 'Actuals'].map(phaseOf)).toEqual([
      'adopted',
      'adopted',
      'proposed',
      'adjusted',
      'actual',
    ]);
    expect(['1,234', '(1,234.50)', '-', '$ 12', '-7', 'n/a'].map(parseAmount)).toEqual([
      1234,
      -1234.5,
      0,
      12,
      -7,
      null,
    ]);
  });
});

describe('Oakland budget lines', () => {
  let store: Store, db: string;
  beforeAll(async () => {
    ({ store, path: db } = await openTemp());
    const s = await importBudgetFile(store, OAKLAND, { profile: 'oakland' });
    expect(s).toMatchObject({ rowsRead: 115553, inserted: 115553, quarantined: 0 });
  });
  afterAll(() => store.close());

  it('reproduces the check totals: FY22-23 adopted expense, General Fund 760,238,332 and Police 342,387,974', async () => {
    const funds = await budgetSummary(store, {
      fy: 2023,
      phase: 'adopted',
      direction: 'expense',
      by: 'fund',
    });
    expect(funds.rows.find((r) => r.key === 'General Fund: General Purpose')!.amount).toBe(
      760_238_332,
    );
    const depts = await budgetSummary(store, {
      fy: 2023,
      phase: 'adopted',
      direction: 'expense',
      by: 'department',
    });
    expect(depts.rows.find((r) => r.key === 'Police')!.amount).toBe(342_387_974);
    expect(funds.total).toBe(1_920_271_118);
  });

  it('reproduces every edition: expense line count and total', async () => {
    const eds = (await budgetEditions(store)).filter((e) => e.direction === 'expense');
    expect(eds.map((e) => [e.fy, e.phase, e.lines, e.total]).sort()).toEqual([...EDITIONS].sort());
  });

  it('lines up renamed departments across years (Fire Department → Fire)', async () => {
    const old = await budgetSummary(store, {
      fy: 2014,
      phase: 'adopted',
      direction: 'expense',
      by: 'department',
    });
    expect(old.rows.some((r) => r.key === 'Fire')).toBe(true);
    expect(old.rows.some((r) => r.key === 'Fire Department')).toBe(false);
  });

  it('re-importing changes nothing', async () => {
    const again = await importBudgetFile(store, OAKLAND, { profile: 'oakland' });
    expect(again).toMatchObject({ inserted: 0, updated: 0, unchanged: 115553 });
  });

  it('bad lines are quarantined with line, field and reason; () negatives and - zeros are read', async () => {
    const file = join(tempDir(), 'small.csv');
    writeFileSync(
      file,
      [
        'fiscal_year,fiscal_year_end,budget_phase,direction,fund,department,division,account_category,account,amount',
        'FY23-24,2024,adopted,expense,General Fund,Police,Patrol,Salaries,Regular,"(1,500)"',
        'FY23-24,2024,adopted,expense,General Fund,Police,Patrol,Overtime,OT,-',
        'FY23-24,2024,adopted,expense,General Fund,Police,Patrol,Supplies,Misc,lots',
        'FY23-25,2024,adopted,expense,General Fund,Police,Patrol,Supplies,Misc,1',
        'FY23-24,2024,final,expense,General Fund,Police,Patrol,Supplies,Misc,1',
      ].join('\n') + '\n',
    );
    const s = await importBudgetFile(store, file, { profile: 'oakland' });
    expect(s).toMatchObject({ rowsRead: 5, inserted: 2, quarantined: 3 });
    const q = await store.all<{ line: number; field: string; reason: string }>(
      'SELECT line, field, reason FROM quarantine WHERE batch_id = $1 ORDER BY line',
      [s.batchId],
    );
    expect(q).toEqual([
      { line: 4, field: 'amount', reason: '"lots" is not an amount' },
      {
        line: 5,
        field: 'fiscal_year',
        reason: '"FY23-25" is not a fiscal year (FY22-23, 2023, …)',
      },
      {
        line: 6,
        field: 'phase',
        reason: '"final" is not a budget phase (proposed, adopted, adjusted, actual, requested)',
      },
    ]);
    const sum = await budgetSummary(store, {
      fy: 2024,
      phase: 'adopted',
      direction: 'expense',
      by: 'account_category',
    });
    expect(sum.rows.map((r) => [r.key, r.amount])).toEqual([
      ['Overtime', 0],
      ['Salaries', -1500],
    ]);
  });

  it('the CLI prints rows {key, amount}', () => {
    store.close();
    const r = cli([
      'budget',
      'summary',
      '--fy',
      '2023',
      '--phase',
      'adopted',
      '--direction',
      'expense',
      '--by',
      'department',
      '--db',
      db,
      '--json',
    ]);
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.rows.find((x: { key: string }) => x.key === 'Police')).toMatchObject({
      key: 'Police',
      amount: 342_387_974,
    });
    const bad = cli([
      'budget',
      'summary',
      '--fy',
      '2023',
      '--phase',
      'final',
      '--direction',
      'expense',
      '--by',
      'fund',
      '--db',
      db,
    ]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/phase: Invalid option/);
  });
});
