import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importBudgetFile } from '../src/domains/budget/index.ts';
import { importCollisionsFile } from '../src/domains/collisions/index.ts';
import { importFireFile } from '../src/domains/fire/import.ts';
import { FIXTURES, openTemp, tempDir } from './helpers.ts';

/**
 * Mapping keys for real-world exports (issue 15): null tokens, time formats, collision profile
 * detection, row filters and code maps. The fixtures are in test/fixtures/mappings, made by
 * make_mapping_fixtures.py, which also prints every expected figure below (Python's datetime and
 * zoneinfo, independent of CityOps).
 */
const M = join(FIXTURES, 'mappings');

/** A fire mapping written to a temp file. */
function fireMapping(yaml: string): string {
  const f = join(tempDir(), 'mapping.yaml');
  writeFileSync(f, yaml);
  return f;
}

describe('null tokens (nullValues)', () => {
  it('a cell holding a null token is an empty value: the row is kept, the stamp missing', async () => {
    const { store } = await openTemp();
    const s = await importFireFile(store, join(M, '911-centre.csv'), {
      mappingFile: join(M, '911-centre.yaml'),
    });
    // five rows; r5's dispatch is "null" in lower case, not a token (tokens match exactly): quarantined
    expect(s).toMatchObject({ rowsRead: 5, inserted: 4, quarantined: 1 });
    const q = await store.all<{ line: number; field: string }>(
      'SELECT line, field FROM quarantine',
    );
    expect(q).toEqual([{ line: 6, field: 'dispatched' }]);
    const rows = await store.all<Record<string, number | null>>(
      `SELECT source_row_id, epoch(dispatched) AS d, epoch(enroute) AS e, epoch(on_scene) AS o
       FROM unit_responses ORDER BY source_row_id`,
    );
    expect(rows).toEqual([
      { source_row_id: 'r1', d: 1614697260, e: 1614697320, o: 1614697560 },
      // NULL (the mapping's token) and 0000-00-00 00:00:00 (the Arrived column's own)
      { source_row_id: 'r2', d: 1614697290, e: null, o: null },
      // N/A
      { source_row_id: 'r3', d: 1614700800, e: null, o: 1614701220 },
      // -
      { source_row_id: 'r4', d: 1614704430, e: null, o: 1614704700 },
    ]);
    // #Missing for I2's call: no call time, the incident kept
    const inc = await store.all<{ incident_id: string; r: number | null }>(
      'SELECT incident_id, epoch(call_received) AS r FROM incidents ORDER BY incident_id',
    );
    expect(inc).toEqual([
      { incident_id: 'I1', r: 1614697200 },
      { incident_id: 'I2', r: null },
      { incident_id: 'I3', r: 1614704400 },
    ]);
    store.close();
  });

  it('budget and collision mappings take the same key', async () => {
    const { store } = await openTemp();
    const b = await importBudgetFile(store, join(M, 'budget-codes.csv'), {
      mappingFile: join(M, 'budget-codes.yaml'),
    });
    expect(b.quarantined).toBe(0);
    const lines = await store.all<{ direction: string; division: string | null }>(
      'SELECT direction, division FROM budget_lines ORDER BY direction',
    );
    expect(lines).toEqual([
      { direction: 'expense', division: 'Suppression' },
      { direction: 'revenue', division: null }, // #Missing
    ]);
    const f = join(tempDir(), 'nulls.csv');
    writeFileSync(f, 'Report,When,Dead,Hurt\nn1,2023-02-03 8:15,N/A,1\n');
    const m = join(tempDir(), 'nulls.yaml');
    writeFileSync(
      m,
      'nullValues: [N/A]\ncolumns: { case_id: Report, datetime: When, killed: Dead, injured: Hurt }\n',
    );
    const c = await importCollisionsFile(store, f, { mapping: m });
    expect(c).toMatchObject({ inserted: 1, quarantined: 0 });
    expect(await store.all('SELECT killed, injured FROM collisions')).toEqual([
      { killed: 0, injured: 1 },
    ]);
    store.close();
  });
});

describe('time formats', () => {
  it('London: DateOfCall + TimeOfCall joined into one stamp, month names (MMM, any case)', async () => {
    const { store } = await openTemp();
    const s = await importFireFile(store, join(M, 'london.csv'), {
      mappingFile: join(M, 'london.yaml'),
    });
    expect(s).toMatchObject({ rowsRead: 2, inserted: 2, quarantined: 0 });
    expect(
      await store.all('SELECT epoch(call_received) AS r FROM incidents ORDER BY incident_id'),
    ).toEqual([{ r: 1230768105 }, { r: 1230768249 }]);
    const units = await store.all<Record<string, number | null>>(
      'SELECT unit_id, epoch(dispatched) AS d, epoch(on_scene) AS o FROM unit_responses ORDER BY unit_id',
    );
    expect(units[1]).toEqual({ unit_id: 'F352', d: 1230768290, o: null });
    expect(units[0]).toEqual({ unit_id: 'A351', d: 1230768147, o: 1230768434 });
    expect(s.warnings).not.toHaveProperty('missing_column');
    store.close();
  });

  it('two-digit years pivot as strptime %y (69-99 → 19xx, 00-68 → 20xx); excel serial days', async () => {
    const { store } = await openTemp();
    const yy = fireMapping(
      'name: yy\ntimeZone: America/New_York\ntimeFormat: M/D/YY h:mm A\ncolumns: { row_id: RowID, incident_id: Inc, unit_id: Unit, call_received: Call, dispatched: Disp }\n',
    );
    await importFireFile(store, join(M, 'two-digit-years.csv'), { mappingFile: yy });
    expect(
      await store.all('SELECT epoch(call_received) AS r FROM incidents ORDER BY incident_id'),
    ).toEqual([{ r: 1262322000 }, { r: 17940 }]);
    const xl = fireMapping(
      'name: xl\ntimeZone: America/New_York\ntimeFormat: excel\ncolumns: { row_id: RowID, incident_id: Inc, unit_id: Unit, call_received: Call, dispatched: Disp }\n',
    );
    const s = await importFireFile(store, join(M, 'excel-cad.csv'), { mappingFile: xl });
    expect(s).toMatchObject({ inserted: 1, quarantined: 0 });
    // 43549.61319 = 2019-03-25 14:43:00 (days since 1899-12-30, to the second), New York time
    expect(
      await store.all(
        "SELECT epoch(i.call_received) AS r, epoch(u.dispatched) AS d FROM incidents i JOIN unit_responses u USING (incident_id) WHERE incident_id = 'X1'",
      ),
    ).toEqual([{ r: 1553539380, d: 1553539440 }]);
    store.close();
  });

  it('collisions: excel serial date-times (Chicago through Excel), and h:mm in a date-time column', async () => {
    const { store } = await openTemp();
    const c = await importCollisionsFile(store, join(M, 'chicago-crashes.csv'), {
      mapping: join(M, 'chicago-crashes.yaml'),
    });
    expect(c).toMatchObject({ inserted: 2, quarantined: 0 });
    expect(
      await store.all(
        "SELECT case_id, strftime(collision_date, '%Y-%m-%d') AS d, collision_minute AS m, severity FROM collisions ORDER BY case_id",
      ),
    ).toEqual([
      { case_id: 'c1', d: '2019-03-25', m: 883, severity: 'I' },
      { case_id: 'c2', d: '2019-01-01', m: 0, severity: 'K' },
    ]);
    const h = await importCollisionsFile(store, join(M, 'datetime-hmm.csv'), {
      mapping: join(M, 'datetime-hmm.yaml'),
    });
    expect(h.warnings).not.toHaveProperty('bad_time');
    expect(
      await store.all(
        "SELECT collision_minute AS m FROM collisions WHERE case_id IN ('d1', 'd2') ORDER BY case_id",
      ),
    ).toEqual([{ m: 8 * 60 + 15 }, { m: 22 * 60 + 40 }]);
    store.close();
  });
});

describe('collision profile detection', () => {
  it('without --profile, nyc, switrs and ccrs files are told from their header', async () => {
    const { store } = await openTemp();
    const nyc = await importCollisionsFile(store, join(FIXTURES, 'nyc-crashes.csv'));
    expect(nyc.profile).toBe('nyc');
    expect(nyc.quarantined).toBe(0);
    const switrs = await importCollisionsFile(store, join(FIXTURES, 'switrs-collisions.txt'));
    expect(switrs.profile).toBe('switrs');
    await expect(importCollisionsFile(store, join(FIXTURES, 'ccrs-crashes.csv'))).rejects.toThrow(
      /looks like ccrs.*--injured FILE/,
    );
    const ccrs = await importCollisionsFile(store, join(FIXTURES, 'ccrs-crashes.csv'), {
      injured: join(FIXTURES, 'ccrs-iwp.csv'),
    });
    expect(ccrs.profile).toBe('ccrs');
    store.close();
  });

  it('when nothing fits, the error names the closest profile and each missing column once', async () => {
    const { store } = await openTemp();
    const f = join(tempDir(), 'nyc-no-id.csv');
    writeFileSync(
      f,
      'CRASH DATE,CRASH TIME,NUMBER OF PERSONS INJURED,NUMBER OF PERSONS KILLED\n09/11/2021,17:05,0,1\n',
    );
    const e = await importCollisionsFile(store, f).catch((x: Error) => x);
    expect(String(e)).toMatch(
      /closest is nyc, which needs COLLISION_ID: did you mean `--profile nyc`\?/,
    );
    // a TIMS file without its severity column names it once, and an nyc file read as tims says nyc
    const t = join(tempDir(), 'tims-no-sev.csv');
    writeFileSync(t, 'CASE_ID,COLLISION_DATE\n1,2020-01-01\n');
    const e2 = String(await importCollisionsFile(store, t, { profile: 'tims' }).catch((x) => x));
    expect(e2.match(/COLLISION_SEVERITY/g)).toHaveLength(1);
    const e3 = String(
      await importCollisionsFile(store, join(FIXTURES, 'nyc-crashes.csv'), {
        profile: 'tims',
      }).catch((x) => x),
    );
    expect(e3).toMatch(/no column CASE_ID, COLLISION_DATE, COLLISION_SEVERITY .*`--profile nyc`/);
    store.close();
  });
});

describe('row filters (filter) and code maps (codes)', () => {
  it('a multi-agency 911 export: the police rows are counted as filtered_out, neither quarantined nor stored', async () => {
    const { store } = await openTemp();
    const s = await importFireFile(store, join(M, '911-centre.csv'), {
      mappingFile: join(M, '911-fire-only.yaml'),
    });
    // r4 is POLICE; the others FIRE or EMS ("null" is a token in this mapping)
    expect(s).toMatchObject({ rowsRead: 5, inserted: 4, quarantined: 0 });
    expect(s.warnings.filtered_out).toBe(1);
    expect(await store.all('SELECT source_row_id FROM source_rows ORDER BY source_row_id')).toEqual(
      [
        { source_row_id: 'r1' },
        { source_row_id: 'r2' },
        { source_row_id: 'r3' },
        { source_row_id: 'r5' },
      ],
    );
    expect(await store.all("SELECT * FROM import_warnings WHERE kind = 'filtered_out'")).toEqual(
      [],
    );
    store.close();
  });

  it('a budget with E/R direction codes and memo rows: two lines, their amounts', async () => {
    const { store } = await openTemp();
    const s = await importBudgetFile(store, join(M, 'budget-codes.csv'), {
      mappingFile: join(M, 'budget-codes.yaml'),
    });
    expect(s).toMatchObject({ rowsRead: 3, inserted: 2, quarantined: 0 });
    expect(s.warnings.filtered_out).toBe(1);
    expect(
      await store.all(
        'SELECT direction, amount::DOUBLE AS amount FROM budget_lines ORDER BY direction',
      ),
    ).toEqual([
      { direction: 'expense', amount: 100.5 },
      { direction: 'revenue', amount: 20.25 },
    ]);
    store.close();
  });
});
