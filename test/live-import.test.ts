import { readFileSync } from 'node:fs';
import Papa from 'papaparse';
import { beforeAll, describe, expect, it } from 'vitest';
import { createToken } from '../src/domains/accounts/accounts.ts';
import { defaultConfig } from '../src/domains/fire/config.ts';
import { importFireFile } from '../src/domains/fire/import.ts';
import type { FireService } from '../src/domains/fire/service.ts';
import { buildApp } from '../src/interfaces/http/app.ts';
import type { Store } from '../src/platform/db.ts';
import { openTemp, SF_2020 } from './helpers.ts';

/**
 * The same unit response arriving from the live feed and from a file (SF incident 20041901, unit
 * E32) is one incident and one unit response, whichever comes first, and the incident keeps the
 * source that recorded it first.
 */

// The file's row for E32 on 20041901 (San Francisco local time, PDT = UTC-7, in April 2020):
// received 11:53:08 PM, dispatched 11:55:56 PM, response 11:58:22 PM, on scene 12:00:00 AM, available 12:15:40 AM.
const E32 = {
  incident: '20041901',
  unit: 'E32',
  type: 'Medical Incident',
  priority: '3',
  unit_type: 'ENGINE',
  station_area: '32',
  received: '2020-04-08T06:53:08Z',
};
const E32_EVENTS = [
  ['dispatched', '2020-04-08T06:55:56Z'],
  ['enroute', '2020-04-08T06:58:22Z'],
  ['on_scene', '2020-04-08T07:00:00Z'],
  ['available', '2020-04-08T07:15:40Z'],
].map(([status, at]) => ({ ...E32, id: `20041901-E32-${status}`, status, at }));

/** Data rows of the SF file, read independently of CityOps' importer. */
const SF_ROWS = Papa.parse(readFileSync(SF_2020, 'utf8'), { header: true, skipEmptyLines: true })
  .data.length;

async function postLive(store: Store, events: unknown[]) {
  const token = await createToken(store, `cad-${Math.random()}`, 'ingest');
  const app = await buildApp({ store, config: defaultConfig() });
  const r = await app.inject({
    method: 'POST',
    url: '/api/v1/cad/events',
    headers: { authorization: `Bearer ${token}` },
    payload: events,
  });
  await app.close();
  expect(r.statusCode).toBe(200);
}

const pair = async (store: Store) =>
  store.all<{
    source: string;
    incident_source: string;
  }>(`SELECT u.source, i.source AS incident_source
  FROM unit_responses u JOIN incidents i USING (incident_id) WHERE u.incident_id = '20041901' AND u.unit_id = 'E32'`);

async function figures(fire: FireService) {
  const m = (await fire.metrics({ priority: 'all' })) as unknown as {
    unitResponses: number;
    turnout: { n: number };
    incidents: number;
  };
  return { unitResponses: m.unitResponses, turnout: m.turnout.n, incidents: m.incidents };
}

describe('live feed and file import of the same incident', { timeout: 60000 }, () => {
  let fileOnly: Awaited<ReturnType<typeof figures>>;
  beforeAll(async () => {
    const { store, fire } = await openTemp();
    await importFireFile(store, SF_2020);
    fileOnly = await figures(fire);
    store.close();
  });

  it("file first, then the live events: nothing counted twice, the source stays the file's", async () => {
    const { store, fire } = await openTemp();
    await importFireFile(store, SF_2020);
    expect(fileOnly.unitResponses).toBe(SF_ROWS);
    await postLive(store, E32_EVENTS);
    expect(await figures(fire)).toEqual(fileOnly);
    expect(await pair(store)).toEqual([
      { source: 'sf-fire-calls', incident_source: 'sf-fire-calls' },
    ]);
    // the live events are kept as the record of what the feed sent
    expect(
      (await store.one<{ n: number }>(
        "SELECT count(*) AS n FROM unit_status_events WHERE incident_id = '20041901'",
      ))!.n,
    ).toBe(4);
    store.close();
  });

  it("live events first, then the file: one unit response, the source stays the feed's, and the file says so", async () => {
    const { store, fire } = await openTemp();
    await postLive(store, E32_EVENTS);
    const s = await importFireFile(store, SF_2020);
    expect(s.warnings.already_recorded).toBe(1);
    expect(await figures(fire)).toEqual(fileOnly);
    expect(await pair(store)).toEqual([{ source: 'cad', incident_source: 'cad' }]);
    const w = await store.all<{ message: string }>(
      "SELECT message FROM import_warnings WHERE kind = 'already_recorded'",
    );
    expect(w.map((x) => x.message)).toEqual([
      'unit E32 on incident 20041901 is already recorded from the live feed; this row is kept as a raw row only',
    ]);
    // the file's other unit on the incident (medic 85) is added to it
    expect(
      (
        await store.all<{ unit_id: string }>(
          "SELECT unit_id FROM unit_responses WHERE incident_id = '20041901' ORDER BY unit_id",
        )
      ).map((r) => r.unit_id),
    ).toEqual(['85', 'E32']);
    store.close();
  });
});
