import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { importFireFile } from '../src/domains/fire/import.ts';
import { FIXTURES, openTemp, tempDir } from './helpers.ts';

/**
 * The same 40 real unit responses (SF, 2020-04-08 03:00–05:00) in four shapes. Every profile must
 * give the wide import's figures; the fixtures are made by test/fixtures/make_fixtures.py.
 */
const SEGMENTS = ['callProcessing', 'turnout', 'travel', 'totalResponse', 'commitment'] as const;

async function figures(file: string, opts: { profile?: string; mappingFile?: string } = {}) {
  const { store, fire } = await openTemp();
  const summary = await importFireFile(store, file, opts);
  const out: Record<string, unknown> = {};
  for (const priority of ['all', 'emergency'] as const) {
    const m = (await fire.metrics({ priority })) as unknown as Record<
      string,
      { n: number; p50: number | null; p90: number | null }
    >;
    for (const s of SEGMENTS) out[`${priority}.${s}`] = [m[s]!.n, m[s]!.p50, m[s]!.p90];
  }
  store.close();
  return { summary, out };
}

describe('every import profile reproduces the wide figures', async () => {
  const wide = await figures(join(FIXTURES, 'sf-2020-04-08-0300-0500.csv'), {
    profile: 'sf-fire-calls',
  });

  it('the wide excerpt has the expected shape', () => {
    expect(wide.summary).toMatchObject({ rowsRead: 40, inserted: 40, quarantined: 0 });
    // computed independently (Python, fire.md §3 definitions)
    expect(wide.out['all.turnout']).toEqual([36, 31, 155]);
    expect(wide.out['all.travel']).toEqual([30, 250, 454]);
    expect(wide.out['emergency.totalResponse']).toEqual([12, 388, 517]);
    expect(wide.out['emergency.callProcessing']).toEqual([12, 115, 177]);
  });

  it('cad-status-events (CSV, vendor codes) folds events into the same unit responses', async () => {
    const ev = await figures(join(FIXTURES, 'cad-events.csv'));
    expect(ev.summary.profile).toBe('cad-status-events');
    expect(ev.summary.quarantined).toBe(0);
    expect(ev.out).toEqual(wide.out);
  });

  it('cad-status-events (JSON, canonical statuses) gives the same, and re-sending changes nothing', async () => {
    const { store, fire } = await openTemp();
    const file = join(FIXTURES, 'cad-events.json');
    const first = await importFireFile(store, file, { profile: 'cad-status-events' });
    expect(first.inserted).toBe(first.rowsRead);
    const again = await importFireFile(store, file, { profile: 'cad-status-events' });
    expect(again).toMatchObject({ inserted: 0, updated: 0, unchanged: first.rowsRead });
    const m = (await fire.metrics({ priority: 'all' })) as unknown as Record<
      string,
      { n: number; p90: number }
    >;
    expect([m.turnout!.n, m.turnout!.p90]).toEqual([36, 155]);
    store.close();
  });

  it('a later event for the same unit and status replaces the earlier one; unknown codes are quarantined', async () => {
    const { store } = await openTemp();
    const dir = tempDir();
    const a = join(dir, 'a.csv'),
      b = join(dir, 'b.csv');
    writeFileSync(
      a,
      'id,incident,unit,status,at\n1,I1,E1,DISP,2024-05-01T10:00:00Z\n2,I1,E1,ENRT,2024-05-01T10:01:00Z\n3,I1,E1,ONSC,2024-05-01T10:05:00Z\n4,I1,E1,WHAT,2024-05-01T10:06:00Z\n',
    );
    const s1 = await importFireFile(store, a, { profile: 'cad-status-events' });
    expect(s1).toMatchObject({ inserted: 3, quarantined: 1 });
    const q = await store.one<{ line: number; field: string; reason: string }>(
      'SELECT line, field, reason FROM quarantine',
    );
    expect(q).toMatchObject({ line: 5, field: 'status' });
    expect(q!.reason).toMatch(/unknown status code "WHAT"/);
    // a corrected on-scene time arrives under a new event id
    writeFileSync(b, 'id,incident,unit,status,at\n5,I1,E1,ONSC,2024-05-01T10:04:00Z\n');
    await importFireFile(store, b, { profile: 'cad-status-events' });
    const r = await store.one<{ travel: number }>(
      "SELECT epoch(on_scene) - epoch(enroute) AS travel FROM unit_responses WHERE response_id = 'I1|E1'",
    );
    expect(r!.travel).toBe(180);
    store.close();
  });

  it('neris (JSON incidents) gives the same figures', async () => {
    const ne = await figures(join(FIXTURES, 'neris-incidents.json'));
    expect(ne.summary.profile).toBe('neris');
    // NERIS holds only the department's own units, so private-ambulance rows are absent
    expect(ne.summary.rowsRead).toBe(36);
    expect(ne.out).toEqual(wide.out);
  });

  it("a user-written mapping (YAML) reads another vendor's export the same way", async () => {
    const vx = await figures(join(FIXTURES, 'vendor-export.csv'), {
      mappingFile: join(FIXTURES, 'vendor-mapping.yaml'),
    });
    expect(vx.summary).toMatchObject({
      profile: 'vendor-x',
      rowsRead: 40,
      inserted: 40,
      quarantined: 0,
    });
    expect(vx.out).toEqual(wide.out);
  });
});
