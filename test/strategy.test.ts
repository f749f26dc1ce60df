import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importBudgetFile } from '../src/domains/budget/import.ts';
import { defaultConfig } from '../src/domains/fire/config.ts';
import { importFireFile } from '../src/domains/fire/import.ts';
import { FireService } from '../src/domains/fire/service.ts';
import type { Store } from '../src/platform/db.ts';
import { createToken } from '../src/domains/accounts/accounts.ts';
import { budgetSummary } from '../src/domains/budget/summary.ts';
import { buildApp } from '../src/interfaces/http/app.ts';
import {
  alignmentReport,
  budgetByGoal,
  capitalByGoal,
  currentPlan,
  loadPlanIntoStore,
  planActions,
} from '../src/domains/strategy/alignment.ts';
import {
  addRequest,
  decideRequest,
  listRequests,
  scoreRequest,
} from '../src/domains/budget/requests.ts';
import { loadActuals } from '../src/domains/strategy/actuals.ts';
import { pbbReport } from '../src/domains/strategy/pbb.ts';
import { wwcEvidence } from '../src/domains/strategy/wwc.ts';
import { loadPlanFile } from '../src/domains/strategy/plan.ts';
import { measureStatuses, statusOf, trendOf } from '../src/domains/strategy/status.ts';
import { cli, openTemp, ROOT, SF_2020, tempDir } from './helpers.ts';

const PLAN = join(ROOT, 'samples/strategy/example-plan.yaml');
const BUDGET = join(ROOT, 'samples/budget/oakland_budget_line_items.csv.gz');

describe('measure status rules', () => {
  const lower = { direction: 'lower' as const, nearTolerance: 0.05, trendDeadBand: 0.02 };
  const higher = { ...lower, direction: 'higher' as const };
  it('grades against the target with a tolerance for "near"', () => {
    expect(statusOf(lower, 540, 540)).toBe('on_track');
    expect(statusOf(lower, 548, 540)).toBe('near'); // 1.5% over
    expect(statusOf(lower, 600, 540)).toBe('off_track');
    expect(statusOf(higher, 0.584, 0.6)).toBe('near');
    expect(statusOf(higher, 0.5, 0.6)).toBe('off_track');
    expect(statusOf(lower, null, 540)).toBe('no_data');
    expect(statusOf(lower, 500, null)).toBe('no_target');
  });
  it('calls a trend flat within the dead-band', () => {
    expect(trendOf(lower, 500, 550)).toBe('improving');
    expect(trendOf(lower, 560, 550)).toBe('flat');
    expect(trendOf(higher, 0.5, 0.6)).toBe('worsening');
    expect(trendOf(lower, 500, null)).toBeNull();
  });
});

describe('the plan file', () => {
  it('says exactly what is wrong with a broken plan', () => {
    const f = join(tempDir(), 'plan.yaml');
    writeFileSync(
      f,
      `city: X\nperiod: { from: 2024, to: 2028 }\ngoals:\n  - id: Safety!\n    name: S\n    departments: { Fire: 0.7 }\n    objectives:\n      - id: a\n        name: A\n        measures:\n          - { id: m, name: M, type: outcome, unit: s, direction: down, definition: d, owner: o, source: { kind: manual, actuals: [] } }\n  - id: b\n    name: B\n    departments: { Fire: 0.6 }\n    objectives: [{ id: b1, name: B1 }]\n`,
    );
    let message = '';
    try {
      loadPlanFile(f);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/goals\.0\.id: lower-case letters, digits and dashes/);
    expect(message).toMatch(/direction: Invalid option/);
  });
});

describe('the example plan on real data', () => {
  let store: Store, fire: FireService, db: string;
  beforeAll(async () => {
    ({ store, fire, path: db } = await openTemp());
    await importFireFile(store, SF_2020);
    await importBudgetFile(store, BUDGET);
    await loadPlanIntoStore(store, PLAN);
    fire = new FireService(store, defaultConfig());
  });
  afterAll(() => store.close());

  it('feeds safety measures from live fire data, the same figures as fire metrics', async () => {
    const rows = await measureStatuses(store, fire, await currentPlan(store));
    const ems = rows.find((r) => r.measure === 'ems-total-response-p90')!;
    expect(ems).toMatchObject({
      actual: 548,
      n: 2919,
      target: 540,
      fiscalYear: 2020,
      status: 'near',
      period: '2019-04-22…2020-04-20',
    });
    const turnout = rows.find((r) => r.measure === 'turnout-compliance')!;
    const m = (await fire.metrics({
      from: '2019-04-22',
      to: '2020-04-20',
      priority: 'emergency',
    })) as unknown as Record<string, { compliance: number }>;
    expect(turnout.actual).toBe(m.turnout!.compliance);
    expect(rows.find((r) => r.measure === 'injury-collisions-12m')!.status).toBe('no_data');
    expect(rows.find((r) => r.measure === 'general-fund-reserve')).toMatchObject({
      actual: 0.072,
      target: 0.075,
      status: 'near',
      trend: 'worsening',
    });
  });

  it('aligns dollars to goals through departments; the shares add up to the whole budget', async () => {
    const s = await budgetByGoal(store, await currentPlan(store), {
      fy: 2023,
      phase: 'adopted',
      direction: 'expense',
    });
    const safety = s.rows.find((r) => r.key === 'safety')!.amount;
    // Fire + Police + half of Transportation + Violence Prevention + Parks + Human Services (department totals, FY22-23 adopted)
    expect(safety).toBeCloseTo(
      201_869_649 + 342_387_974 + 80_363_343 / 2 + 27_380_953 + 35_251_381 + 103_788_772,
      2,
    );
    expect(s.rows.reduce((a, r) => a + r.amount, 0)).toBeCloseTo(1_920_271_118, 2);
    expect(s.total).toBe(1_920_271_118);
  });

  it('the API answers the same figures; the public page and JSON show goals and money, never line items', async () => {
    const app = await buildApp({ store, config: defaultConfig() });
    const headers = {
      authorization: `Bearer ${await createToken(store, 'budget office', 'analyst')}`,
    };
    const r = await app.inject({
      url: '/api/v1/budget/summary?fy=2023&phase=adopted&direction=expense&by=department',
      headers,
    });
    expect(r.json()).toEqual(
      JSON.parse(
        JSON.stringify(
          await budgetSummary(store, {
            fy: 2023,
            phase: 'adopted',
            direction: 'expense',
            by: 'department',
          }),
        ),
      ),
    );
    expect(
      (
        await app.inject({
          url: '/api/v1/budget/summary?fy=2023&phase=adopted&direction=expense&by=department',
        })
      ).statusCode,
    ).toBe(401);
    const st = (await app.inject({ url: '/api/v1/strategy/status', headers })).json();
    expect(
      st.measures.find((m: { measure: string }) => m.measure === 'ems-total-response-p90').actual,
    ).toBe(548);
    const pub = await app.inject({ url: '/api/public/strategy' });
    expect(pub.statusCode).toBe(200);
    const body = pub.json();
    expect(body.goals).toHaveLength(5);
    expect(body.budget).toMatchObject({ fiscalYear: 2023, total: 1_920_271_118 });
    for (const lineItem of [
      'Civilian: Regular',
      'Contract Services',
      'General Fund: General Purpose',
    ])
      expect(pub.body).not.toContain(lineItem);
    const page = await app.inject({ url: '/public/plan' });
    expect(page.body).toMatch(/Quality of life and safety/);
    expect(page.body).toMatch(/Close to target/);
    expect(page.body).toMatch(/\$750\.9 million/);
    const doc = (await app.inject({ url: '/api/docs/openapi.json' })).json();
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/api/v1/budget/summary',
        '/api/v1/strategy/status',
        '/api/public/strategy',
      ]),
    );
    await app.close();
  });

  it('reports dollars by goal year over year and per resident, and which WWC criteria are evidenced', async () => {
    const a = await alignmentReport(store, await currentPlan(store), {
      fy: 2023,
      phase: 'adopted',
      direction: 'expense',
    });
    const safety = a.goals.find((g) => g.goal === 'safety')!;
    const prior = await budgetByGoal(store, await currentPlan(store), {
      fy: 2022,
      phase: 'adopted',
      direction: 'expense',
    });
    const before = prior.rows.find((r) => r.key === 'safety')!.amount;
    expect(safety.prior).toBe(before);
    expect(safety.change).toBeCloseTo((safety.amount - before) / before, 12);
    expect(safety.perResident).toBeCloseTo(safety.amount / 440000, 9);
    // general fund: computed independently from the lines
    const gf = await store.one<{
      v: number;
    }>(`SELECT sum(CASE WHEN department = 'Transportation' THEN amount / 2 ELSE amount END)::DOUBLE AS v FROM budget_lines
      WHERE fiscal_year_end = 2023 AND phase = 'adopted' AND direction = 'expense' AND fund = 'General Fund: General Purpose'
        AND department IN ('Fire', 'Police', 'Transportation', 'Violence Prevention', 'Oakland Parks and Recreation', 'Human Services')`);
    expect(safety.generalFund).toBeCloseTo(gf!.v, 2);
    expect(a.generalFundTotal).toBe(760_238_332);
    const wwc = await wwcEvidence(store, await currentPlan(store));
    const state = Object.fromEntries(wwc.map((c) => [c.id, c.state]));
    expect(state).toMatchObject({
      PA1: 'evidenced',
      PA3: 'evidenced',
      BF1: 'evidenced',
      BF2: 'not_yet',
      PA2: 'not_yet',
    });
    expect(wwc.find((c) => c.id === 'BF1')!.evidence).toMatch(
      /66% of the FY2023 adopted expense budget is aligned/,
    );
  });

  it('scores programs (priority-based budgeting), cuts quartiles and shows dollars by quartile', async () => {
    const r = (await pbbReport(store, await currentPlan(store), 2023))!;
    expect(r.maxScore).toBe(40); // 4 × (goal weights 2+1+1+1+1 + attribute weights 1+1+0.5+0.5+1)
    const permits = r.programs.find((p) => p.id === 'permits')!;
    expect(permits).toMatchObject({ score: 23.5, rank: 1, quartile: 1 }); // 3 + 3 + 2×2 on goals; 4 + 4 + 0.5×4 + 0.5×3 + 2 on attributes
    expect(r.programs.find((p) => p.id === 'fire-ems-response')!.cost).toBeCloseTo(
      201_869_649 * 0.85,
      4,
    );
    expect(r.quartiles.map((q) => q.programs)).toEqual([3, 3, 3, 3]);
    expect(r.quartiles.reduce((s, q) => s + q.cost, 0)).toBeCloseTo(
      r.programs.reduce((s, p) => s + p.cost, 0),
      4,
    );
  });

  it('rejects a program scored against an unknown goal, or departments allocated over 100%', () => {
    const f = join(tempDir(), 'pbb.yaml');
    writeFileSync(
      f,
      `city: X\nperiod: { from: 2024, to: 2028 }\ngoals:\n  - { id: safety, name: S, objectives: [{ id: o, name: O }] }\npbb:\n  programs:\n` +
        `    - { id: a, name: A, department: Fire, share: 0.7, scores: { safty: 4 }, attributes: { mandate: 1, reliance: 1, cost_recovery: 1, demand: 1, population: 1 } }\n` +
        `    - { id: b, name: B, department: Fire, share: 0.6, scores: { safety: 4 }, attributes: { mandate: 1, reliance: 1, cost_recovery: 1, demand: 1, population: 1 } }\n`,
    );
    let message = '';
    try {
      loadPlanFile(f);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/pbb\.programs\.0\.scores: scores an unknown goal "safty"/);
    expect(message).toMatch(/programs of "Fire" are allocated 130% of its budget/);
  });

  it('loads actuals from CSV (all or nothing, problems by line) and uses them in the status', async () => {
    const bad = join(tempDir(), 'bad.csv');
    writeFileSync(
      bad,
      'measure,period,value\nfleet-ev-share,2024,0.16\nems-total-response-p90,2024,500\nno-such,2024,1\nfleet-ev-share,someday,x\n',
    );
    let message = '';
    try {
      await loadActuals(store, await currentPlan(store), bad);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/nothing was loaded/);
    expect(message).toMatch(/line 3: measure "ems-total-response-p90" is bound to live data/);
    expect(message).toMatch(/line 4: no measure "no-such" in the plan/);
    expect(message).toMatch(/line 5: period "someday" is not a fiscal year/);
    expect(message).toMatch(/line 5: value "x" is not a number/);
    expect((await store.one<{ n: number }>('SELECT count(*) AS n FROM measure_actuals'))!.n).toBe(
      0,
    );
    const good = join(tempDir(), 'good.csv');
    writeFileSync(good, 'measure,period,value\nfleet-ev-share,2024,0.21\n');
    await loadActuals(store, await currentPlan(store), good);
    await loadActuals(store, await currentPlan(store), good); // idempotent
    expect((await store.one<{ n: number }>('SELECT count(*) AS n FROM measure_actuals'))!.n).toBe(
      1,
    );
    const fleet = (await measureStatuses(store, fire, await currentPlan(store))).find(
      (r) => r.measure === 'fleet-ev-share',
    )!;
    expect(fleet).toMatchObject({
      period: '2024',
      actual: 0.21,
      prior: 0.11,
      target: 0.2,
      status: 'on_track',
      trend: 'improving',
    });
  });

  it('keeps budget requests with scores and decisions as an audit trail, and evidences BF2 from them', async () => {
    const goals = (await currentPlan(store)).goals.map((g) => g.id);
    await expect(
      addRequest(
        store,
        {
          fy: 2024,
          department: 'Fire',
          kind: 'new',
          title: 'Second ALS unit',
          amount: 1_200_000,
          goals: ['safty'],
          by: 'chief',
        },
        goals,
      ),
    ).rejects.toThrow(/Unknown goal safty/);
    const id = await addRequest(
      store,
      {
        fy: 2024,
        department: 'Fire',
        kind: 'new',
        title: 'Second ALS unit in the Mission',
        amount: 1_200_000,
        fte: 6,
        goals: ['safety'],
        measures: ['ems-total-response-p90'],
        by: 'chief',
      },
      goals,
    );
    await scoreRequest(store, id, {
      criterion: 'safety',
      round: 'self',
      scorer: 'chief',
      score: 4,
    });
    await scoreRequest(store, id, {
      criterion: 'safety',
      round: 'peer',
      scorer: 'budget team',
      score: 3,
      rationale: 'demand data shows 12% growth',
    });
    await scoreRequest(store, id, {
      criterion: 'evidence',
      round: 'peer',
      scorer: 'budget team',
      score: 4,
    });
    await expect(
      decideRequest(store, id, { decision: 'approved', rationale: 'ok', by: 'council' }),
    ).rejects.toThrow(/rationale: say why/);
    await decideRequest(store, id, {
      decision: 'deferred',
      rationale: 'wait for the mid-cycle revenue update',
      by: 'council',
    });
    await decideRequest(store, id, {
      decision: 'modified',
      amount: 900_000,
      rationale: 'fund from January; full year next cycle',
      by: 'council',
    });
    const [r] = await listRequests(store, 2024);
    expect(r).toMatchObject({
      id,
      decision: 'modified',
      approvedAmount: 900_000,
      score: 3.5,
      goals: ['safety'],
    }); // peer scores win: (3 + 4) / 2
    expect(r!.history.map((h) => h.what.split(' ')[0])).toEqual([
      'requested',
      'self',
      'peer',
      'peer',
      'deferred',
      'modified',
    ]);
    const bf2 = (await wwcEvidence(store, await currentPlan(store))).find((c) => c.id === 'BF2')!;
    expect(bf2).toMatchObject({ state: 'partial' });
    expect(bf2.evidence).toMatch(
      /1 budget requests decided with a recorded rationale, 1 of them scored/,
    );
  });

  it('reports capital appropriations by goal and flags overdue actions', async () => {
    const plan = await currentPlan(store);
    const c = capitalByGoal(plan, 2024);
    // station 4: 9.5M (safety); bike lanes 3M split between safety and sustainability; library 5M
    expect(Object.fromEntries(c.goals.map((g) => [g.goal, g.amount]))).toMatchObject({
      safety: 11_000_000,
      sustainability: 1_500_000,
      'community-character': 5_000_000,
    });
    expect(c.total).toBe(17_500_000);
    expect(c.projects.find((p) => p.id === 'station-4-rebuild')!.fundedToDate).toBe(13_500_000);
    expect(planActions(plan, '2024-01-01').map((a) => a.overdue)).toEqual([false, false]);
    expect(planActions(plan, '2026-11-22').map((a) => [a.id, a.overdue])).toEqual([
      ['station-alerting', true],
      ['second-als-unit', true],
    ]);
    const f = join(tempDir(), 'cap.yaml');
    writeFileSync(
      f,
      `city: X\nperiod: { from: 2024, to: 2028 }\ngoals:\n  - { id: safety, name: S, objectives: [{ id: o, name: O }] }\ncapitalProjects:\n` +
        `  - { id: c1, name: C1, department: Fire, goals: [saftey], funding: { '2024': 6 }, totalCost: 5 }\n`,
    );
    let message = '';
    try {
      loadPlanFile(f);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/capitalProjects\.0\.goals: is tagged to an unknown goal "saftey"/);
    expect(message).toMatch(/capitalProjects\.0\.funding: is funded 6 over its total cost 5/);
  });

  it('takes actuals from the staff form (analysts and admins), and lists organisation units with validity years', async () => {
    const app = await buildApp({ store, config: defaultConfig() });
    const analyst = {
      authorization: `Bearer ${await createToken(store, 'performance analyst', 'analyst')}`,
    };
    const viewer = { authorization: `Bearer ${await createToken(store, 'wall', 'viewer')}` };
    const post = (headers: Record<string, string>, payload: unknown) =>
      app.inject({
        method: 'POST',
        url: '/api/v1/strategy/actuals',
        headers,
        payload: payload as object,
      });
    expect(
      (await post(viewer, { measure: 'business-licences', period: '2024', value: 30500 }))
        .statusCode,
    ).toBe(403);
    const bad = await post(analyst, [
      { measure: 'business-licences', period: '2024', value: 30500 },
      { measure: 'ems-total-response-p90', period: '2024', value: 400 },
    ]);
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error).toMatch(
      /item 2: measure "ems-total-response-p90" is bound to live data/,
    );
    const ok = await post(analyst, { measure: 'business-licences', period: '2024', value: 30500 });
    expect(ok.json()).toEqual({ rows: 1 });
    const st = (await app.inject({ url: '/api/v1/strategy/status', headers: analyst })).json();
    expect(
      st.measures.find((m: { measure: string }) => m.measure === 'business-licences'),
    ).toMatchObject({ period: '2024', actual: 30500, prior: 29800, trend: 'improving' });
    const units = (await app.inject({ url: '/api/v1/budget/org-units', headers: analyst })).json();
    expect(units.find((u: { department: string }) => u.department === 'Fire')).toMatchObject({
      names: ['Fire', 'Fire Department'],
      validFrom: 2014,
      validTo: 2023,
    });
    await app.close();
  });

  it('the CLI prints measures and goal rows as JSON', () => {
    store.close();
    const st = JSON.parse(cli(['strategy', 'status', '--db', db, '--json']).stdout);
    expect(st.measures).toHaveLength(7);
    const b = JSON.parse(
      cli([
        'budget',
        'summary',
        '--fy',
        '2023',
        '--phase',
        'adopted',
        '--direction',
        'expense',
        '--by',
        'goal',
        '--db',
        db,
        '--json',
      ]).stdout,
    );
    expect(b.rows.map((r: { key: string }) => r.key)).toEqual([
      'community-character',
      'safety',
      'sustainability',
      'economic-vitality',
      'fiscal-health',
      '(not aligned)',
    ]);
  });
});
