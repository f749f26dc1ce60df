import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importFireFile } from '../src/domains/fire/import.ts';
import { Store } from '../src/platform/db.ts';
import { cli, openTemp, ROOT, SF_2020, tempDir } from './helpers.ts';

const lines = readFileSync(SF_2020, 'utf8').split('\n');
const HEADER = lines[0]!;
const real = (from: number, to: number) => lines.slice(from, to);

/** Writes a CSV made of the real header and the given real (or edited) lines. */
function csvFile(name: string, body: string[], header = HEADER): string {
  const path = join(tempDir(), name);
  writeFileSync(path, [header, ...body].join('\n') + '\n');
  return path;
}

/** A fingerprint of every data table, to prove that something changed nothing. */
async function fingerprint(store: Store) {
  return store.all(`SELECT
    (SELECT count(*) FROM incidents) AS incidents, (SELECT count(*) FROM unit_responses) AS responses,
    (SELECT count(*) FROM source_rows) AS sources, (SELECT count(*) FROM quarantine) AS quarantine,
    (SELECT md5(string_agg(u::VARCHAR, '|' ORDER BY response_id)) FROM unit_responses u) AS h1,
    (SELECT md5(string_agg(i::VARCHAR, '|' ORDER BY incident_id)) FROM incidents i) AS h2`);
}

describe('import guarantees', () => {
  let store: Store;
  beforeAll(async () => {
    ({ store } = await openTemp());
  });
  afterAll(() => store.close());

  it('re-importing a file changes nothing', async () => {
    const file = csvFile('a.csv', real(1, 201));
    const first = await importFireFile(store, file);
    expect(first).toMatchObject({
      profile: 'sf-fire-calls',
      rowsRead: 200,
      inserted: 200,
      updated: 0,
      quarantined: 0,
    });
    const before = await fingerprint(store);
    const again = await importFireFile(store, file);
    expect(again).toMatchObject({ rowsRead: 200, inserted: 0, updated: 0, unchanged: 200 });
    expect(await fingerprint(store)).toEqual(before);
  });

  it('a file with an updated row (a later Available stamp) updates that row only', async () => {
    const rows = real(1, 201);
    const edited = rows.map((l, k) =>
      k === 0 ? l.replace('04/08/2020 12:15:40 AM', '04/08/2020 12:45:40 AM') : l,
    );
    expect(edited[0]).not.toBe(rows[0]);
    const s = await importFireFile(store, csvFile('b.csv', edited));
    expect(s).toMatchObject({ inserted: 0, updated: 1, unchanged: 199 });
    const r = await store.one<{ c: string }>(
      `SELECT strftime(cleared, '%Y-%m-%dT%H:%M:%S') AS c FROM unit_responses WHERE source_row_id = '200983546-E32'`,
    );
    expect(r!.c).toBe('2020-04-08T07:45:40');
  });

  it('keys stay unique in every table after imports, re-imports and updates', async () => {
    await importFireFile(store, SF_2020);
    await importFireFile(store, SF_2020);
    const dupes = await store.one<Record<string, number>>(`SELECT
      (SELECT count(*) FROM (SELECT 1 FROM incidents GROUP BY incident_id HAVING count(*) > 1)) AS incidents,
      (SELECT count(*) FROM (SELECT 1 FROM unit_responses GROUP BY response_id HAVING count(*) > 1)) AS responses,
      (SELECT count(*) FROM (SELECT 1 FROM source_rows GROUP BY source, source_row_id HAVING count(*) > 1)) AS sources,
      (SELECT count(*) FROM unit_responses) AS total_responses, (SELECT count(*) FROM incidents) AS total_incidents`);
    expect(dupes).toEqual({
      incidents: 0,
      responses: 0,
      sources: 0,
      total_responses: 10410,
      total_incidents: 5292,
    });
  });

  it('an incident takes each field from its latest row that has it, in one file and across files', async () => {
    const { store: db } = await openTemp();
    const cols = HEADER.split(',');
    const at = (name: string) => cols.indexOf(name);
    // two units of one real incident; the second row (later line) has another priority and no address
    // (split on every comma: the quoted Location splits in two, but the fields edited here come before it)
    const rows = real(1, 400).map((l) => l.split(','));
    const k = rows.findIndex(
      (f, i) => i > 0 && f[at('Incident Number')] === rows[i - 1]![at('Incident Number')],
    );
    const a = [...rows[k - 1]!],
      b = [...rows[k]!];
    a[at('Final Priority')] = '2';
    b[at('Final Priority')] = '3';
    a[at('Address')] = '100 Block of FIRST ST';
    b[at('Address')] = '';
    await importFireFile(db, csvFile('two-units.csv', [a.join(','), b.join(',')]));
    const q = () =>
      db.one<{ priority: string; address: string; emergency: boolean }>(
        'SELECT priority, address, emergency FROM incidents',
      );
    expect(await q()).toEqual({ priority: '3', address: '100 Block of FIRST ST', emergency: true });
    // a later file whose row has no priority keeps the stored one and updates the address
    const c = [...b];
    c[at('Final Priority')] = '';
    c[at('Address')] = '200 Block of SECOND ST';
    await importFireFile(db, csvFile('later.csv', [c.join(',')]));
    expect(await q()).toEqual({
      priority: '3',
      address: '200 Block of SECOND ST',
      emergency: true,
    });
    db.close();
  });

  it('snake_case headers from the API match by alias', async () => {
    const { store: s2 } = await openTemp();
    const snake = HEADER.split(',')
      .map((h) => h.toLowerCase().replace(/[^a-z0-9]+/g, '_'))
      .join(',');
    const r = await importFireFile(s2, csvFile('snake.csv', real(1, 51), snake), {
      profile: 'sf-fire-calls',
    });
    expect(r).toMatchObject({ inserted: 50, quarantined: 0 });
    s2.close();
  });
});

describe('bad input: a clear message or a quarantine entry, never a crash or a partial import', () => {
  let store: Store;
  beforeAll(async () => {
    ({ store } = await openTemp());
    await importFireFile(store, csvFile('base.csv', real(1, 11)));
  });
  afterAll(() => store.close());

  const rejects = async (file: string, message: RegExp, opts = {}) => {
    const before = await fingerprint(store);
    await expect(importFireFile(store, file, opts)).rejects.toThrow(message);
    expect(await fingerprint(store)).toEqual(before);
  };

  it('an empty file', async () => {
    const path = join(tempDir(), 'empty.csv');
    writeFileSync(path, '');
    await rejects(path, /empty\.csv is empty/);
    writeFileSync(path, '  \n\n');
    await rejects(path, /only white space/);
  });

  it('a binary file', async () => {
    const path = join(tempDir(), 'calls.csv');
    writeFileSync(path, Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0xff]));
    await rejects(path, /calls\.csv looks like a binary file \(a NUL byte at offset 3\)/);
  });

  it('an unknown profile, and a file no profile fits', async () => {
    await rejects(
      csvFile('x.csv', real(1, 3)),
      /Unknown profile "sf-fire-cals"\. Known profiles: sf-fire-calls, cad-status-events, neris/,
      { profile: 'sf-fire-cals' },
    );
    await rejects(
      csvFile('other.csv', ['1,2,3'], 'a,b,c'),
      /cannot tell which profile fits its columns \(a, b, c\)/,
    );
  });

  it('a file missing a required column names it and what was looked for', async () => {
    const header = HEADER.replace('Incident Number', 'Incident No');
    await rejects(
      csvFile('nocol.csv', real(1, 3), header),
      /no column for incident_id \(looked for: Incident Number, incident_number\)/,
      { profile: 'sf-fire-calls' },
    );
  });

  it('a broken mapping file says exactly what is wrong', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'bad.json'), '{ "name": "x", ');
    await rejects(csvFile('m.csv', real(1, 3)), /The mapping file .*bad\.json is not valid JSON/, {
      mappingFile: join(dir, 'bad.json'),
    });
    writeFileSync(
      join(dir, 'bad.yaml'),
      'name: x\ntimeZone: Mars/Olympus\ncolumns:\n  unit_id: Unit ID\n  dispached: Dispatch DtTm\nunitTypes:\n  ENGINE: FIRETRUCK\n',
    );
    const err = await importFireFile(store, csvFile('m.csv', real(1, 3)), {
      mappingFile: join(dir, 'bad.yaml'),
    }).catch((e: Error) => e.message);
    expect(err).toMatch(/timeZone: is not an IANA time zone/);
    expect(err).toMatch(/columns: Unrecognized key: "dispached"/);
    expect(err).toMatch(/unitTypes\.ENGINE: Invalid option/);
    await rejects(
      csvFile('m.csv', real(1, 3)),
      /Cannot read the mapping file .*nope\.json: ENOENT/,
      { mappingFile: join(dir, 'nope.json') },
    );
  });

  it('malformed rows go to quarantine with file, line, field and reason; good rows are imported', async () => {
    const good = real(20, 25);
    const rows = [
      ...good.slice(0, 2),
      'only,three,fields', // line 4: wrong column count
      good[2]!.replace(/^(\d+),([^,]+),(\d+),/, '$1,$2,,'), // line 5: missing incident id
      good[3]!.replace(
        /,(\d\d\/\d\d\/2020 \d\d:\d\d:\d\d [AP]M),(\d\d\/\d\d\/2020 \d\d:\d\d:\d\d [AP]M),(\d\d\/\d\d\/2020)/,
        ',$1,$2,2020-13-45',
      ), // line 6: bad dispatch
      good[4]!,
    ];
    const file = csvFile('bad-rows.csv', rows);
    const s = await importFireFile(store, file);
    expect(s).toMatchObject({ rowsRead: 6, inserted: 3, quarantined: 3 });
    const q = await store.all<{ line: number; field: string | null; reason: string }>(
      `SELECT line, field, reason FROM quarantine WHERE batch_id = $1 ORDER BY line`,
      [s.batchId],
    );
    expect(q[0]).toMatchObject({
      line: 4,
      field: null,
      reason: 'has 3 fields where the header has 34',
    });
    expect(q[1]).toMatchObject({ line: 5, field: 'incident_id', reason: 'missing incident id' });
    expect(q[2]).toMatchObject({ line: 6, field: 'dispatched' });
    expect(q[2]!.reason).toMatch(
      /unparseable time: "2020-13-45.*" does not match the time format "MM\/DD\/YYYY hh:mm:ss A"/,
    );
  });

  it('an unbalanced quote is quarantined at the line where it starts', async () => {
    const rows = real(30, 34);
    rows[2] = rows[2]!.replace(/\)",/, '),'); // the Location value's closing quote is missing
    const s = await importFireFile(store, csvFile('quote.csv', rows));
    expect(s.quarantined).toBe(1);
    expect(s.inserted).toBe(2);
    const q = await store.one<{ line: number; reason: string }>(
      'SELECT line, reason FROM quarantine WHERE batch_id = $1',
      [s.batchId],
    );
    expect(q).toMatchObject({ line: 4 });
    expect(q!.reason).toMatch(/unbalanced or malformed quote/);
  });

  it('out-of-order stamps are kept, warned about, and excluded from segments as negative', async () => {
    // Response DtTm set before Dispatch DtTm
    const row = real(40, 41)[0]!;
    const f = row.split(',');
    f[9] = '04/01/2020 01:00:00 AM';
    const s = await importFireFile(store, csvFile('order.csv', [f.join(',')]));
    expect(s.inserted).toBe(1);
    expect(s.warnings.out_of_order).toBeGreaterThanOrEqual(1);
    const w = await store.one<{ line: number; field: string; message: string }>(
      `SELECT line, field, message FROM import_warnings WHERE batch_id = $1 AND kind = 'out_of_order' ORDER BY field LIMIT 1`,
      [s.batchId],
    );
    expect(w).toMatchObject({ line: 2 });
  });

  it('duplicate rows in one file: the last is kept, with a warning naming both lines', async () => {
    const r = real(50, 52);
    const s = await importFireFile(store, csvFile('dup.csv', [r[0]!, r[1]!, r[0]!]));
    expect(s).toMatchObject({ inserted: 2, quarantined: 0 });
    expect(s.warnings.duplicate_row_id).toBe(1);
    const w = await store.one<{ message: string }>(
      `SELECT message FROM import_warnings WHERE batch_id = $1 AND kind = 'duplicate_row_id'`,
      [s.batchId],
    );
    expect(w!.message).toMatch(/appears 2 times \(lines 2, 4\); the last one was kept/);
  });

  it('the CLI lists the quarantine, and errors exit 2 with the message and no stack', async () => {
    store.close();
    const db = (store as unknown as { path: string }).path;
    const list = cli(['quarantine', 'list', '--db', db]);
    expect(list.status).toBe(0);
    expect(list.stdout).toMatch(/bad-rows\.csv:4\s+–\s+has 3 fields where the header has 34/);
    const bad = cli([
      'import',
      'fire',
      join(ROOT, 'package.json'),
      '--profile',
      'nope',
      '--db',
      db,
    ]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/^cityops: Unknown profile "nope"/);
    expect(bad.stderr).not.toMatch(/at .*\.ts:\d+/);
    store = await Store.open(db);
  });
});

describe('crash safety and bounded memory', () => {
  it('the CLI shows a bar for reading the file and one for writing it, on either path', () => {
    for (const path of ['sql', 'rows']) {
      const db = join(tempDir(), `progress-${path}.duckdb`);
      const r = cli(['import', 'fire', SF_2020, '--db', db], {
        CITYOPS_PROGRESS: '1',
        ...(path === 'rows' ? { CITYOPS_IMPORT_PATH: 'rows' } : {}),
      });
      expect(r.status, r.stderr).toBe(0);
      const screens = r.stderr.split(/[\r\n]+/);
      const reading = screens.filter((l) => l.startsWith('Reading')),
        writing = screens.filter((l) => l.startsWith('Writing'));
      expect(reading.at(-1), path).toMatch(/100% \| 4\.1\/4\.1 MB/);
      expect(writing.at(-1), path).toMatch(/100%$/);
      expect(r.stderr.indexOf('Reading')).toBeLessThan(r.stderr.indexOf('Writing'));
    }
  });

  it('a process killed inside the import transaction leaves the database as it was', async () => {
    const { store, path } = await openTemp();
    await importFireFile(store, csvFile('first.csv', real(1, 101)));
    const before = await fingerprint(store);
    store.close();
    const r = cli(['import', 'fire', SF_2020, '--db', path], {
      CITYOPS_TEST_KILL_BEFORE_COMMIT: '1',
    });
    expect(r.status).toBeNull(); // killed by SIGKILL
    const after = await Store.open(path);
    expect(await fingerprint(after)).toEqual(before);
    expect((await after.one<{ n: number }>('SELECT count(*) AS n FROM import_batches'))!.n).toBe(1);
    const again = await importFireFile(after, SF_2020);
    expect(again).toMatchObject({ inserted: 10310, unchanged: 100 });
    after.close();
  });

  it("a file larger than the JS heap and DuckDB's memory limit imports with memory bounded (heap 64 MB, DuckDB 128 MB, file ~90 MB)", () => {
    const dir = tempDir();
    const big = join(dir, 'big.csv');
    const body = real(1, lines.length).filter((l) => l.length > 0);
    const chunks: string[] = [HEADER];
    // 22 copies of the real rows with distinct incident numbers and row ids: ~229k rows
    for (let k = 0; k < 22; k++) {
      for (const l of body)
        chunks.push(
          l
            .replace(/^(\d+),([^,]+),(\d+),/, (_m, c, u, i) => `${c}${k},${u},${i}${k},`)
            .replace(/,(\d+-[^,]+)$/, `,$1-${k}`),
        );
    }
    writeFileSync(big, chunks.join('\n') + '\n');
    const db = join(dir, 'big.duckdb');
    const r = spawnSync(
      process.execPath,
      [
        '--import',
        join(ROOT, 'test/fixtures/report-peak-rss.mjs'),
        '--max-old-space-size=64',
        join(ROOT, 'bin/cityops.mjs'),
        'import',
        'fire',
        big,
        '--db',
        db,
        '--json',
      ],
      {
        encoding: 'utf8',
        maxBuffer: 16 << 20,
        env: { ...process.env, CITYOPS_MEMORY_LIMIT: '128MB' },
      },
    );
    expect(r.stderr).not.toMatch(/heap out of memory/);
    expect(r.status).toBe(0);
    // the SQL path: its temp tables (over 200 MB here) spill to disk past DuckDB's limit
    expect(JSON.parse(r.stdout)).toMatchObject({
      rowsRead: 22 * 10410,
      inserted: 22 * 10410,
      quarantined: 0,
      path: 'sql',
    });
    // unbounded, this import peaks at about 700 MB; bounded, at about 380 MB (Node and tsx are about 250 MB of it)
    const peak = Number(/peak-rss-mb (\d+)/.exec(r.stderr)?.[1]);
    expect(peak).toBeGreaterThan(0);
    expect(peak).toBeLessThan(500);
  });
});
