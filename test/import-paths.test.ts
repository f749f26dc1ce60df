import { writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { importFireFile, type ImportOptions } from '../src/domains/fire/import.ts';
import type { Store } from '../src/platform/db.ts';
import { FIXTURES, openTemp, SF_2017, SF_2020, tempDir } from './helpers.ts';

/**
 * Plain files are read by DuckDB with SQL checks; everything else row by row. Both paths must leave
 * exactly the same database: rows, raw rows, quarantine and warnings.
 */
async function everything(store: Store) {
  return {
    incidents: await store.all('SELECT * EXCLUDE (batch_id) FROM incidents ORDER BY incident_id'),
    responses: await store.all(
      'SELECT * EXCLUDE (batch_id) FROM unit_responses ORDER BY response_id',
    ),
    sources: await store.all(
      'SELECT source, source_row_id, line, raw FROM source_rows ORDER BY source_row_id',
    ),
    quarantine: await store.all('SELECT line, field, reason, raw FROM quarantine ORDER BY line'),
    warnings: await store.all(
      'SELECT line, field, kind, message FROM import_warnings ORDER BY kind, line, field, message',
    ),
  };
}

async function both(files: string[], opts: ImportOptions = { profile: 'sf-fire-calls' }) {
  const out: Record<string, { summaries: unknown[]; db: Awaited<ReturnType<typeof everything>> }> =
    {};
  for (const path of ['rows', 'sql'] as const) {
    if (path === 'rows') process.env.CITYOPS_IMPORT_PATH = 'rows';
    else delete process.env.CITYOPS_IMPORT_PATH;
    const { store } = await openTemp();
    const summaries = [];
    for (const f of files) summaries.push(await importFireFile(store, f, opts));
    out[path] = { summaries, db: await everything(store) };
    store.close();
  }
  return out;
}

describe('the SQL path and the row path agree', () => {
  afterEach(() => {
    delete process.env.CITYOPS_IMPORT_PATH;
  });

  it('on both real San Francisco files, twice (idempotent), to the last raw row and warning', async () => {
    const r = await both([SF_2020, SF_2017, SF_2020]);
    expect(r.sql!.summaries.map((s) => (s as { path: string }).path)).toEqual([
      'sql',
      'sql',
      'sql',
    ]);
    expect(r.rows!.summaries.map((s) => (s as { path: string }).path)).toEqual([
      'rows',
      'rows',
      'rows',
    ]);
    const strip = (s: unknown) => {
      const { path: _p, ...rest } = s as Record<string, unknown>;
      return rest;
    };
    expect(r.sql!.summaries.map(strip)).toEqual(r.rows!.summaries.map(strip));
    expect(r.sql!.db.incidents).toEqual(r.rows!.db.incidents);
    expect(r.sql!.db.responses).toEqual(r.rows!.db.responses);
    expect(r.sql!.db.sources).toEqual(r.rows!.db.sources);
    expect(r.sql!.db.warnings).toEqual(r.rows!.db.warnings);
  });

  it('on a plain file with bad values: the same quarantine and warnings', async () => {
    const lines = readFileSync(SF_2020, 'utf8').split('\n');
    const rows = lines.slice(1, 60);
    const f = (k: number) => rows[k]!.split(',');
    const bad1 = f(3);
    bad1[8] = '2020-13-45 10:00:00'; // unparseable dispatch
    const bad2 = f(4);
    bad2[2] = ''; // missing incident id
    const odd = f(5);
    odd[9] = '04/01/2020 01:00:00 AM';
    odd[27] = 'HOVERCRAFT'; // out of order, unknown unit type
    const night = f(6);
    night[10] = '04/08/2020 12:00:00 AM'; // a midnight stamp
    const body = [
      rows[0]!,
      rows[1]!,
      rows[2]!,
      bad1.join(','),
      bad2.join(','),
      odd.join(','),
      night.join(','),
      ...rows.slice(7),
    ];
    const file = join(tempDir(), 'plain-bad.csv');
    writeFileSync(file, [lines[0], ...body].join('\n') + '\n');
    const r = await both([file]);
    expect((r.sql!.summaries[0] as { path: string }).path).toBe('sql');
    expect(r.sql!.db.quarantine).toEqual(r.rows!.db.quarantine);
    expect(r.sql!.db.quarantine).toHaveLength(2);
    expect(r.sql!.db.warnings).toEqual(r.rows!.db.warnings);
    expect(r.sql!.db.responses).toEqual(r.rows!.db.responses);
    void FIXTURES;
  });

  it('a file that is not plain after all (found while reading it) is rolled back and read row by row', async () => {
    const lines = readFileSync(SF_2020, 'utf8')
      .split('\n')
      .filter((l) => l.length > 0);
    const [head, ...rows] = lines.slice(0, 40);
    const cases: Record<string, string> = {
      // a quoted value spanning two lines: DuckDB reads it as one record, so lines and records differ
      'spanning.csv':
        [head, ...rows.slice(0, 5), rows[5]!.replace(/,"\(/, ',"\n('), ...rows.slice(6)].join(
          '\n',
        ) + '\n',
      'blank-line.csv': [head, ...rows.slice(0, 5), '', ...rows.slice(5)].join('\n') + '\n',
      'short-row.csv':
        [
          head,
          ...rows.slice(0, 5),
          rows[5]!.split(',').slice(0, 10).join(','),
          ...rows.slice(6),
        ].join('\n') + '\n',
      'bare-cr.csv':
        [head, ...rows.slice(0, 5), rows[5]!.replace(',', ',\r'), ...rows.slice(6)].join('\n') +
        '\n',
      // longer than DuckDB's line limit (2 MB): the row path reads it
      'long-line.csv':
        [
          head,
          ...rows.slice(0, 5),
          rows[5]!.replace(/,([^,]*),San Francisco,/, `,${'A'.repeat(3_000_000)},San Francisco,`),
          ...rows.slice(6),
        ].join('\n') + '\n',
    };
    for (const [name, text] of Object.entries(cases)) {
      const file = join(tempDir(), name);
      writeFileSync(file, text);
      const r = await both([file]);
      expect((r.sql!.summaries[0] as { path: string }).path, name).toBe('rows');
      expect(r.sql!.db, name).toEqual(r.rows!.db);
      expect(
        (r.sql!.summaries[0] as { batchId: number }).batchId,
        `${name}: the failed attempt left no batch`,
      ).toBe(1);
    }
  });

  it('null tokens and fractional seconds: the SQL path reads them as the row path does', async () => {
    // 911-centre.csv: NULL, #Missing, N/A, - and a per-column 0000-00-00 00:00:00 mean "no stamp"
    const nulls = await both([join(FIXTURES, 'mappings/911-centre.csv')], {
      mappingFile: join(FIXTURES, 'mappings/911-centre.yaml'),
    });
    expect((nulls.sql!.summaries[0] as { path: string }).path).toBe('sql');
    expect(nulls.sql!.db).toEqual(nulls.rows!.db);
    // fractional.csv: six and seven digits of a second (DuckDB's %g read three at most)
    const mapping = join(tempDir(), 'fractional.yaml');
    writeFileSync(
      mapping,
      `name: fractional\ntimeZone: America/New_York\ntimeFormat: YYYY-MM-DD HH:mm:ss.SSS\ncolumns: { row_id: RowID, incident_id: Inc, unit_id: Unit, call_received: Call, dispatched: Disp }\n`,
    );
    const frac = await both([join(FIXTURES, 'mappings/fractional.csv')], { mappingFile: mapping });
    expect((frac.sql!.summaries[0] as { path: string }).path).toBe('sql');
    expect(frac.sql!.db).toEqual(frac.rows!.db);
    // S2's dispatch has no fraction, so the pattern's SSS does not match it: quarantined on both paths
    expect(frac.sql!.db.quarantine).toHaveLength(1);
    expect(frac.sql!.db.responses).toHaveLength(1);
  });
});
