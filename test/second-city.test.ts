import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addUser } from '../src/domains/accounts/accounts.ts';
import { importCollisionsFile } from '../src/domains/collisions/import.ts';
import { importLayerFile } from '../src/domains/coverage/stations.ts';
import { loadConfig } from '../src/domains/fire/config.ts';
import { buildApp, ensureWebBuilt } from '../src/interfaces/http/app.ts';
import { launchChromium } from '../src/interfaces/reports/browser.ts';
import type { Store } from '../src/platform/db.ts';
import { openTemp, ROOT, tempDir } from './helpers.ts';

/**
 * Issue 14, item 4: a second configuration shows its own place. San Luis Obispo County, from its
 * bundled configuration and collisions, with nothing of San Francisco loaded. No outline of the
 * county is bundled (or reachable here), so the test imports one: the rectangle of the county's
 * geocoded crash positions given in the data's README (lat 34.93–35.80, lon −121.35 to −119.48).
 */
const OUTLINE: [number, number][] = [
  [-121.35, 34.93],
  [-119.48, 34.93],
  [-119.48, 35.8],
  [-121.35, 35.8],
  [-121.35, 34.93],
];
/** the land colour cityMap fills the outline with (#f7f5f0), and the water around it (#dfe9f2) */
const LAND = [247, 245, 240],
  WATER = [223, 233, 242];

describe('a second city in Chromium: San Luis Obispo County', () => {
  let store: Store, app: FastifyInstance, base: string, browser: Browser, page: Page;
  beforeAll(async () => {
    await ensureWebBuilt();
    ({ store } = await openTemp());
    await importCollisionsFile(
      store,
      join(ROOT, 'samples/collisions/slo_county_tims_crashes_2011_2020.csv.gz'),
    );
    const outline = join(tempDir(), 'slo-outline.geojson');
    writeFileSync(
      outline,
      JSON.stringify({
        type: 'FeatureCollection',
        features: [
          {
            type: 'Feature',
            properties: { name: 'San Luis Obispo County (extent)' },
            geometry: { type: 'Polygon', coordinates: [OUTLINE] },
          },
        ],
      }),
    );
    await importLayerFile(store, outline, 'boundary');
    await addUser(store, 'chief', 'admin', 'correct horse battery');
    app = await buildApp({
      store,
      config: loadConfig(join(ROOT, 'samples/cities/slo-county.yaml')),
    });
    base = await app.listen({ port: 0, host: '127.0.0.1' });
    browser = await launchChromium();
    page = await (await browser.newContext({ viewport: { width: 1200, height: 800 } })).newPage();
  });
  afterAll(async () => {
    await browser?.close();
    await app?.close();
    store?.close();
  });

  it("the public road-safety page names the county and its data's publisher, with the README's 2020 count", async () => {
    await page.goto(`${base}/public/streets`);
    const text = await page.locator('body').innerText();
    expect(text).toContain('Safer streets in San Luis Obispo County');
    expect(text).toContain(
      'Source: SWITRS (California Highway Patrol), geocoded by UC Berkeley SafeTREC TIMS.',
    );
    // 848 crashes in 2020: the counts-by-year table of the data's README
    expect(text).toMatch(/In the 12 months to 2020-12 there were 848/);
    expect(text).not.toMatch(/San Francisco/);
  });

  it('the staff app shows the county in its top bar, and a map fitted to its own outline', async () => {
    await page.goto(`${base}/`);
    await page.fill('input[name=username]', 'chief');
    await page.fill('input[name=password]', 'correct horse battery');
    await page.click('button[type=submit]');
    await page.waitForSelector('nav.top .place');
    expect(await page.locator('nav.top .place').innerText()).toBe('San Luis Obispo County');
    const map = page.locator('[data-testid=board-map]');
    await expect
      .poll(() => map.getAttribute('aria-label'))
      .toBe('Map of San Luis Obispo County: its outline, 0 fire stations');
    const city = await (await fetch(`${base}/api/public/city`)).json();
    expect(city.layers).toContain('boundary');
    expect(city.bounds).toEqual([OUTLINE[0], OUTLINE[2]]);
    // the outline is drawn where the map is: land in the middle of the map, water in a corner
    const pixel = (fx: number, fy: number) =>
      page.evaluate(
        ([x, y]) => {
          const gl = document.querySelector<HTMLCanvasElement>('[data-testid=board-map] canvas')!;
          const copy = document.createElement('canvas');
          copy.width = gl.width;
          copy.height = gl.height;
          const g = copy.getContext('2d')!;
          g.drawImage(gl, 0, 0);
          return [
            ...g.getImageData(Math.floor(gl.width * x!), Math.floor(gl.height * y!), 1, 1).data,
          ].slice(0, 3);
        },
        [fx, fy],
      );
    await expect.poll(() => pixel(0.5, 0.5)).toEqual(LAND);
    expect(await pixel(0.002, 0.002)).toEqual(WATER); // inside the fit's padding
  });
});
