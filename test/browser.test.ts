import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { addUser, createToken } from '../src/domains/accounts/accounts.ts';
import { defaultConfig } from '../src/domains/fire/config.ts';
import { importBudgetFile } from '../src/domains/budget/import.ts';
import { importFireFile } from '../src/domains/fire/import.ts';
import { loadPlanIntoStore } from '../src/domains/strategy/alignment.ts';
import { launchChromium } from '../src/interfaces/reports/browser.ts';
import { importCollisionsFile } from '../src/domains/collisions/import.ts';
import { importRoadsFile } from '../src/domains/coverage/roads.ts';
import { importStationsFile } from '../src/domains/coverage/stations.ts';
import { calibrate } from '../src/domains/coverage/calibrate.ts';
import { loadCoverageContext } from '../src/domains/coverage/context.ts';
import { buildApp, ensureWebBuilt } from '../src/interfaces/http/app.ts';
import type { Store } from '../src/platform/db.ts';
import { openTemp, ROOT, SF_2020, tempDir } from './helpers.ts';

/** Real Chromium against a real server on loopback. CITYOPS_SCREENSHOTS=1 refreshes the README's pictures. */
const SHOTS = process.env.CITYOPS_SCREENSHOTS ? join(ROOT, 'docs/screenshots') : null;
const shot = async (page: Page, name: string, fullPage = false) => {
  if (!SHOTS) return;
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage });
};

describe('the web app in Chromium', () => {
  let store: Store,
    app: FastifyInstance,
    base: string,
    browser: Browser,
    page: Page,
    ingest: string,
    analyst: string;
  beforeAll(async () => {
    await ensureWebBuilt();
    ({ store } = await openTemp());
    await importFireFile(store, SF_2020);
    await importBudgetFile(store, join(ROOT, 'samples/budget/oakland_budget_line_items.csv.gz'));
    await loadPlanIntoStore(store, join(ROOT, 'samples/strategy/example-plan.yaml'));
    await importCollisionsFile(
      store,
      join(ROOT, 'samples/collisions/slo_county_tims_crashes_2011_2020.csv.gz'),
    );
    await importRoadsFile(store, join(ROOT, 'samples/geo/sf-ne-osm-2026-drive.geojson.gz'), {
      source: 'sf-ne',
    });
    await importStationsFile(store, join(ROOT, 'samples/geo/sf-fire-stations.geojson'));
    await calibrate(store, await loadCoverageContext(store));
    await addUser(store, 'chief', 'admin', 'correct horse battery');
    ingest = await createToken(store, 'cad', 'ingest');
    analyst = await createToken(store, 'test', 'analyst');
    app = await buildApp({ store, config: defaultConfig() });
    base = await app.listen({ port: 0, host: '127.0.0.1' });
    browser = await launchChromium();
    page = await (
      await browser.newContext({ viewport: { width: 1400, height: 860 }, acceptDownloads: true })
    ).newPage();
  });
  afterAll(async () => {
    await browser?.close();
    await app?.close();
    store?.close();
  });

  const apiJson = async (path: string) =>
    (await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${analyst}` } })).json();

  it('shows the public plan page on a phone, signed out', async () => {
    const anon = await (
      await browser.newContext({ viewport: { width: 420, height: 900 } })
    ).newPage();
    await anon.goto(`${base}/public/plan`);
    expect(await anon.locator('h2').allInnerTexts()).toEqual([
      'Community character',
      'Quality of life and safety',
      'Sustainability and the natural environment',
      'Economic vitality',
      'Organisational excellence and fiscal health',
    ]);
    expect(await anon.locator('li', { hasText: 'Emergency total response' }).innerText()).toMatch(
      /Close to target[\s\S]*9 min 8 s · target 9 min 0 s/,
    );
    await shot(anon, 'plan', true);
    await anon.close();
  });

  it('signs in, and the live board changes when a CAD event is posted', async () => {
    await page.goto(`${base}/`);
    await page.fill('input[name=username]', 'chief');
    await page.fill('input[name=password]', 'wrong password');
    await page.click('button[type=submit]');
    await page.waitForSelector('[role=alert]');
    await page.fill('input[name=password]', 'correct horse battery');
    await page.click('button[type=submit]');
    await page.waitForSelector('[data-testid=incident-list]');
    await page.waitForSelector('text=Live');
    const now = Date.now();
    const at = (s: number) => new Date(now - s * 1000).toISOString();
    const events = [
      {
        id: 'b1',
        incident: 'B-100',
        unit: 'E01',
        status: 'dispatched',
        at: at(240),
        received: at(300),
        type: 'Structure Fire',
        priority: '3',
        unit_type: 'ENGINE',
        home_station: '1',
        lat: 37.7794,
        lon: -122.4041,
        address: '900 Block of FOLSOM ST',
        station_area: '01',
      },
      {
        id: 'b2',
        incident: 'B-100',
        unit: 'E01',
        status: 'enroute',
        at: at(200),
        unit_type: 'ENGINE',
        home_station: '1',
      },
      {
        id: 'b3',
        incident: 'B-100',
        unit: 'T01',
        status: 'dispatched',
        at: at(230),
        unit_type: 'TRUCK',
        home_station: '1',
      },
    ];
    const r = await fetch(`${base}/api/v1/cad/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ingest}`, 'content-type': 'application/json' },
      body: JSON.stringify(events),
    });
    expect(r.status).toBe(200);
    const card = page.locator('[data-incident="B-100"]');
    await card.waitFor({ timeout: 10000 });
    expect(await card.locator('.unit[data-status=enroute]').count()).toBe(1);
    // E01 and T01 are now committed (station 1 keeps RS1 in quarters)
    await expect
      .poll(async () => page.locator('.status-line').innerText())
      .toMatch(/1 active incidents · 2 units committed/);
    await page.waitForFunction(() =>
      (window as unknown as { cityopsMap?: { loaded(): boolean } }).cityopsMap?.loaded(),
    );
    await page.waitForTimeout(800);
    await shot(page, 'board');
  });

  it('filters the performance dashboard, and its figures equal the API for the same filters', async () => {
    await page.goto(`${base}/#/performance?from=2020-04-08&to=2020-04-14&priority=all`);
    await page.waitForSelector('[data-testid=kpis]');
    await page.selectOption('select[name=priority]', 'emergency');
    await expect.poll(() => page.url()).toMatch(/priority=emergency/);
    const api = await apiJson(
      '/api/v1/fire/metrics?from=2020-04-08&to=2020-04-14&priority=emergency',
    );
    // the refetch for the new filter renders asynchronously: wait until the figure is the emergency one
    await expect
      .poll(() => page.locator('[data-testid=p90-turnout]').innerText())
      .toBe(`${api.turnout.p90} s`);
    for (const s of ['turnout', 'travel', 'callProcessing', 'totalResponse']) {
      const shown = await page.locator(`[data-testid=p90-${s}]`).innerText();
      const secs = shown.includes(':')
        ? Number(shown.split(':')[0]) * 60 + Number(shown.split(':')[1])
        : Number(shown.replace(' s', ''));
      expect(secs, s).toBe(api[s].p90);
    }
    const rows = await page.locator('#segments tbody tr').allInnerTexts();
    const turnoutRow = rows.find((r) => r.startsWith('Turnout'))!;
    expect(turnoutRow).toContain(String(api.turnout.n));
    const grade = await page
      .locator('#segments tbody tr', { hasText: 'Call processing' })
      .locator('td.fail')
      .count();
    expect(grade).toBe(api.callProcessing.pass ? 0 : 1);
    // CSV export of a table downloads what it shows
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.locator('#segments button').click(),
    ]);
    const csv = readFileSync((await download.path())!, 'utf8');
    expect(csv.split('\n')[0]).toBe('Segment,n,p50,p90,Objective,Compliance,Grade,Excluded');
    expect(csv).toContain(`Turnout,${api.turnout.n},`);
    await page.waitForTimeout(1500);
    await shot(page, 'performance', true);
  });

  it('shows the staff strategy page with the same dollars as the API', async () => {
    await page.goto(`${base}/#/strategy`);
    await page.waitForSelector('[data-testid=strategy] #alignment tbody tr');
    const api = await apiJson('/api/v1/strategy/alignment');
    const safety = api.goals.find((g: { goal: string }) => g.goal === 'safety');
    const row = await page
      .locator('#alignment tbody tr', { hasText: 'Quality of life and safety' })
      .innerText();
    expect(row).toContain(`$${(safety.amount / 1e6).toFixed(1)}M`);
    expect(await page.locator('td.pass', { hasText: 'evidenced' }).count()).toBeGreaterThanOrEqual(
      3,
    );
    await page.waitForTimeout(800);
    await shot(page, 'strategy', true);
    // one goal's page: its measures, actions and capital projects only
    await page.click('nav.goals >> text=Quality of life and safety');
    await expect.poll(() => page.url()).toMatch(/goal=safety/);
    // the URL changes before the page re-renders: wait for the rows, not the URL
    const capitalNames = async () =>
      (await page.locator('#capital tbody tr').allInnerTexts()).map((r) => r.split('\t')[0]);
    await expect
      .poll(capitalNames)
      .toEqual(['Rebuild Fire Station 4 (seismic)', 'Protected bike lanes, phase 2']);
    expect(await page.locator('#actions tbody tr').count()).toBe(2);
    // report an actual through the form; the measure's row shows it after the reload
    await page.goto(`${base}/#/strategy`);
    await page.waitForSelector('[data-testid=actual-form]');
    await page.selectOption('[data-testid=actual-form] select[name=measure]', 'fleet-ev-share');
    await page.fill('[data-testid=actual-form] input[name=period]', '2024');
    await page.fill('[data-testid=actual-form] input[name=value]', '0.22');
    await Promise.all([page.waitForEvent('load'), page.click('[data-testid=actual-form] button')]);
    await expect
      .poll(async () =>
        page
          .locator('tr', { hasText: 'Share of the city fleet that is electric' })
          .first()
          .innerText(),
      )
      .toMatch(/2024\s+22\.0%\s+20\.0%\s+on track/);
  });

  it('shows Safer Streets: filters in the URL, figures equal to the API, the HIN, the target chart, and records and evaluates an action', async () => {
    await page.goto(`${base}/#/streets?mode=pedestrian&layer=hex`);
    await page.waitForSelector('[data-testid=streets-tiles]');
    const api = await apiJson('/api/v1/streets/crashes?mode=pedestrian');
    expect(api.summary.crashes).toBe(634); // README: 634 pedestrian crashes
    expect(await page.locator('[data-testid=streets-tiles] .tile').first().innerText()).toMatch(
      /^634\s+crashes/,
    );
    expect(await page.locator('[data-testid=streets-tiles]').innerText()).toContain(
      `${api.summary.bySeverity.K}\nfatal (K)`,
    );
    // change a filter: the URL carries it and the figures follow
    await page.selectOption('select[name=severity]', 'K,A');
    await expect.poll(() => page.url()).toMatch(/severity=K%2CA/);
    const ka = await apiJson('/api/v1/streets/crashes?mode=pedestrian&severity=K,A');
    await expect
      .poll(async () => page.locator('[data-testid=streets-tiles] .tile').first().innerText())
      .toMatch(new RegExp(`^${ka.summary.crashes}\\s+crashes`));
    const hin = await apiJson('/api/v1/streets/hin?mode=pedestrian&severity=K,A');
    await expect
      .poll(() => page.locator('[data-testid=hin] .statement').innerText())
      .toBe(hin.statement);
    // the map drew its canvas; the target chart says whether the change is more than chance
    await expect
      .poll(() => page.locator('[data-testid=streets-map] canvas').count())
      .toBeGreaterThan(0);
    await page.goto(`${base}/#/streets`);
    // the page keeps the previous figures until the new ones arrive, so wait for the new text
    // (county-wide, the hot-spot and HIN answers take a few seconds on a 2-core machine)
    await expect
      .poll(() => page.locator('[data-testid=target-verdict]').innerText(), { timeout: 20000 })
      .toMatch(/Latest 12 months to 2020-12: 848 .*too large to be chance alone/);
    const rank = await apiJson('/api/v1/streets/rank?kind=intersection&by=epdo&top=20');
    await expect
      .poll(async () =>
        (await page.locator('#ranking tbody tr').first().innerText()).split('\t').slice(0, 3),
      )
      .toEqual(['1', rank.locations[0].name, String(rank.locations[0].crashes)]);
    await page.waitForTimeout(1000);
    await shot(page, 'streets', true);
    // an analyst-level user records an engineering action and evaluates it
    await page.fill('form.action input[name=title]', 'Roundabout at RT 41 and RT 46');
    await page.fill('form.action input[name=lat]', String(rank.locations[1].lat));
    await page.fill('form.action input[name=lon]', String(rank.locations[1].lon));
    await page.fill('form.action input[name=radiusM]', '150');
    await page.fill('form.action input[name=started]', '2016-01-01');
    await page.click('form.action button');
    await page.click('tr:has-text("Roundabout at RT 41 and RT 46") button:has-text("Evaluate")');
    const evaluation = await apiJson('/api/v1/streets/evaluate?ids=1');
    await expect
      .poll(() => page.locator('[data-testid=evaluation]').innerText())
      .toContain(
        `Naive CMF ${evaluation.naive.cmf.toFixed(2)} (${evaluation.naive.before} → ${evaluation.naive.after} crashes)`,
      );
  });

  it('plans stations: closing one and adding one change the numbers as the API says; bands download as GeoJSON', async () => {
    await page.goto(`${base}/#/plan`);
    const today = await apiJson('/api/v1/plan/scenario');
    const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
    await expect
      .poll(() => page.locator('[data-testid=scenario-share]').innerText())
      .toBe(pct(today.scenario.coveredShare));
    await page.waitForTimeout(1500); // the map draws its bands
    await shot(page, 'plan');
    // close station 36 with its checkbox
    await page.uncheck('input[data-station="36"]');
    const closed = await apiJson('/api/v1/plan/scenario?close=36');
    await expect
      .poll(() => page.locator('[data-testid=scenario-share]').innerText())
      .toBe(pct(closed.scenario.coveredShare));
    await expect
      .poll(() => page.locator('[data-testid=scenario-delta]').innerText())
      .toBe(`+0 / −${closed.comparison.lost}`);
    expect(closed.comparison.lost).toBeGreaterThan(0);
    // add a station by clicking the map: incidents become covered again
    const box = (await page.locator('[data-testid=plan-map] canvas').boundingBox())!;
    await page.mouse.click(box.x + box.width * 0.5, box.y + box.height * 0.55);
    await expect
      .poll(async () =>
        Number(
          (await page.locator('[data-testid=scenario-delta]').innerText()).match(/\+(\d+)/)![1],
        ),
      )
      .toBeGreaterThan(0);
    const href = await page
      .locator('a[download="cityops-drive-time-bands.geojson"]')
      .getAttribute('href');
    const bands = await apiJson(href!);
    expect(bands.type).toBe('FeatureCollection');
    expect(
      bands.features.some((f: { properties: { scope: string } }) => f.properties.scope === 'union'),
    ).toBe(true);
  });

  it('shows the public Safer Streets page signed out: aggregates on hexagons, no crash points', async () => {
    const anon = await (
      await browser.newContext({ viewport: { width: 1000, height: 900 } })
    ).newPage();
    await anon.goto(`${base}/public/streets`);
    const text = await anon.locator('body').innerText();
    expect(text).toMatch(
      /of street miles carry .* of people killed or seriously injured \(2016–2020\)/,
    );
    expect(text).toMatch(/In the 12 months to 2020-12 there were 848/);
    expect(await anon.locator('svg.chart circle').count()).toBe(10);
    const data = await (await fetch(`${base}/api/public/streets`)).json();
    expect(
      data.hexagons.features.every(
        (f: { properties: { crashes: number } }) => f.properties.crashes >= 3,
      ),
    ).toBe(true);
    expect(JSON.stringify(data)).not.toMatch(/"Point"/);
    expect(await anon.locator('svg.map path').count()).toBe(data.hexagons.features.length);
    await shot(anon, 'streets-public', true);
    expect((await anon.goto(`${base}/api/v1/streets/crashes`))!.status()).toBe(401);
    await anon.close();
  });

  it('opens the public page signed out, with aggregates and no addresses', async () => {
    const anon = await (await browser.newContext()).newPage();
    await anon.goto(`${base}/public`);
    const text = await anon.locator('body').innerText();
    expect(text).toMatch(/Emergency incidents: \d+ incidents/);
    expect(text).not.toMatch(/Block of/);
    await shot(anon, 'public', true);
    const staff = await anon.goto(`${base}/api/v1/fire/metrics`);
    expect(staff!.status()).toBe(401);
    await anon.close();
  });

  it('downloads the monthly report as a PDF', async () => {
    await page.goto(`${base}/#/report?month=2020-04`);
    await page.waitForFunction(
      () => (window as unknown as { reportReady?: boolean }).reportReady === true,
      undefined,
      { timeout: 30000 },
    );
    await shot(page, 'report');
    const [download] = await Promise.all([
      page.waitForEvent('download', { timeout: 60000 }),
      page.click('[data-testid=download-pdf]'),
    ]);
    const file = join(tempDir(), 'report.pdf');
    await download.saveAs(file);
    expect(readFileSync(file).subarray(0, 5).toString()).toBe('%PDF-');
    const info = execFileSync('pdfinfo', [file], { encoding: 'utf8' });
    expect(info).toMatch(/Pages:\s+[1-9]/);
    expect(execFileSync('pdftotext', [file, '-'], { encoding: 'utf8' })).toMatch(
      /Fire response performance — 2020-04/,
    );
  });
});
