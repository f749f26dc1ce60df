import { readFileSync } from 'node:fs';
import Papa from 'papaparse';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importFireFile } from '../src/domains/fire/import.ts';
import { LiveService } from '../src/domains/fire/live-service.ts';
import { REPLAY_SOURCE } from '../src/domains/fire/live.ts';
import { loadReplay, play } from '../src/domains/fire/replay.ts';
import {
  analyticVersion,
  FireQuerySchema,
  type FireService,
  MetricsQuerySchema,
} from '../src/domains/fire/service.ts';
import type { Store } from '../src/platform/db.ts';
import { openTemp, SF_2020 } from './helpers.ts';

/**
 * The demo replays the SF file as a live feed into the same tables; every analysis reads the
 * analytic views, which leave the replay out, so the figures and the caches keyed on the analytic
 * data version do not move while it plays.
 */

/** Incident numbers in the SF file, counted independently of CityOps' importer. */
const SF_INCIDENTS = new Set(
  Papa.parse<Record<string, string>>(readFileSync(SF_2020, 'utf8'), {
    header: true,
    skipEmptyLines: true,
  }).data.map((r) => r['Incident Number']),
).size;

describe('the analytic views leave the demo replay out', () => {
  let store: Store, fire: FireService, live: LiveService;
  beforeAll(async () => {
    ({ store, fire } = await openTemp());
    await importFireFile(store, SF_2020, { profile: 'sf-fire-calls' });
    live = await LiveService.open(store, 'America/Los_Angeles', 86400);
  }, 120_000);
  afterAll(() => store.close());

  it('figures, months and the analytic version stay as they were while the replay plays', async () => {
    const all = MetricsQuerySchema.parse({});
    const before = {
      metrics: await fire.metrics(all),
      quality: await fire.quality(FireQuerySchema.parse({})),
      months: await fire.dataMonths(),
      version: await analyticVersion(store),
    };
    const stored = async () =>
      (await store.one<{ n: number }>('SELECT count(*)::INTEGER AS n FROM incidents'))!.n;
    const storedBefore = await stored();

    // the first 3,000 status events of the file, played at a million times real time into the present
    const events = (await loadReplay(SF_2020)).slice(0, 3000);
    await play(events, {
      speed: 1e6,
      warmup: 0,
      loop: false,
      send: async (batch) => {
        await live.ingest(batch, 'demo replay', REPLAY_SOURCE);
      },
    });
    expect(await stored()).toBeGreaterThan(storedBefore); // the replay is in the tables…

    expect({
      // …and in no analysis
      metrics: await fire.metrics(all),
      quality: await fire.quality(FireQuerySchema.parse({})),
      months: await fire.dataMonths(),
      version: await analyticVersion(store),
    }).toEqual(before);
    const analytic = (await store.one<{ n: number }>(
      'SELECT count(*)::INTEGER AS n FROM analytic_incidents',
    ))!.n;
    expect(analytic).toBe(SF_INCIDENTS);
  }, 120_000);

  it('a CAD batch (not the replay) moves the analytic version', async () => {
    const version = await analyticVersion(store);
    await live.ingest(
      [
        {
          id: 'cad-1',
          incident: 'CAD-1',
          unit: 'E1',
          status: 'dispatched',
          at: new Date().toISOString(),
        },
      ],
      'cad',
    );
    expect(await analyticVersion(store)).toBeGreaterThan(version);
  });
});
