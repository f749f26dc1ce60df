import { createReadStream, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createGunzip, gunzipSync, gzipSync } from 'node:zlib';
import Papa from 'papaparse';
import { beforeAll, describe, expect, it } from 'vitest';
import { importRoadsFile } from '../src/domains/coverage/roads.ts';
import { Store } from '../src/platform/db.ts';
import { cli, ROOT, SF_2020, tempDir } from './helpers.ts';

/**
 * Text survives import byte for byte: files are built from the real sample rows with É and emoji
 * placed across the readers' chunk boundaries (the 64 KB head, 1 MB reads, gunzip's output
 * blocks), imported through the CLI, and the stored values, raw rows included, are compared with
 * the values written. A Latin-1 byte after the first 64 KB is read as Windows-1252 and reported.
 */

const CRASHES_GZ = join(ROOT, 'samples/collisions/slo_county_tims_crashes_2011_2020.csv.gz');

function parseRows(text: string): string[][] {
  return Papa.parse<string[]>(text, { skipEmptyLines: true }).data;
}
const csvLine = (values: string[]) => Papa.unparse([values], { newline: '\n' }) + '\n';

/**
 * Sets column `col` of one data row so that `text` starts exactly at byte `at` of the file: the
 * value is `AAA…` padding, then the text, then " STREET".
 */
function placeAt(rows: string[][], col: number, at: number, text: string): void {
  let start = 0;
  let chosen = -1,
    offset = 0;
  for (let i = 0; i < rows.length; i++) {
    const fieldStart =
      start + Buffer.byteLength(csvLine(rows[i]!.slice(0, col))) - 1 + (col > 0 ? 1 : 0);
    if (i > 0 && fieldStart + 4 <= at) {
      chosen = i;
      offset = fieldStart;
    }
    if (fieldStart > at) break;
    start += Buffer.byteLength(csvLine(rows[i]!));
  }
  rows[chosen]![col] = 'A'.repeat(at - offset) + text + ' STREET';
  expect(
    Buffer.from(rows.map(csvLine).join(''))
      .subarray(at, at + Buffer.byteLength(text))
      .toString(),
  ).toBe(text);
}

/** True when decoding gunzip's output chunk by chunk would break a character: the file tests the bug. */
async function gunzipSplitsACharacter(file: string): Promise<boolean> {
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 }).pipe(
    createGunzip(),
  )) {
    if ((chunk as Buffer).toString('utf8').includes('\uFFFD')) return true;
  }
  return false;
}

let dir: string;
let fire: string[][];
let crashes: string[][];
beforeAll(() => {
  dir = tempDir();
  fire = parseRows(readFileSync(SF_2020, 'utf8'));
  crashes = parseRows(gunzipSync(readFileSync(CRASHES_GZ)).toString('utf8'));
});

async function withDb<T>(db: string, fn: (s: Store) => Promise<T>): Promise<T> {
  const store = await Store.open(db);
  try {
    return await fn(store);
  } finally {
    store.close();
  }
}

function importCli(kind: 'fire' | 'collisions', file: string, db: string, json = true) {
  const r = cli(['import', kind, file, '--db', db, ...(json ? ['--json'] : [])]);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return r.stdout;
}

/** The stored raw rows by id, parsed, against the rows written (the last row of an id wins). */
async function expectRawRows(db: string, source: string, rows: string[][], idCol: number) {
  const expected = new Map(rows.slice(1).map((r) => [r[idCol]!, r]));
  const stored = await withDb(db, (s) =>
    s.all<{ id: string; raw: string }>(
      'SELECT source_row_id AS id, raw FROM source_rows WHERE source = $1',
      [source],
    ),
  );
  expect(stored.length).toBe(expected.size);
  for (const r of stored) expect(JSON.parse(r.raw), r.id).toEqual(expected.get(r.id));
}

describe('UTF-8 across chunk boundaries', () => {
  it('a .gz fire file with É and emoji in every address keeps every character, raw rows included', async () => {
    const rows = fire.slice(0, 8001).map((r) => [...r]);
    const addr = rows[0]!.indexOf('Address'),
      rowId = rows[0]!.indexOf('RowID');
    for (let i = 1; i < rows.length; i++)
      rows[i]![addr] = `AAA É STREET ${'😀'.repeat(8)} ${rows[i]![addr]}`;
    const file = join(dir, 'fire-utf8.csv.gz');
    writeFileSync(file, gzipSync(rows.map(csvLine).join('')));
    expect(await gunzipSplitsACharacter(file)).toBe(true);
    const db = join(dir, 'fire-gz.duckdb');
    const summary = JSON.parse(importCli('fire', file, db));
    expect(summary.warnings.invalid_utf8).toBeUndefined();
    await expectRawRows(db, 'sf-fire-calls', rows, rowId);
    const addresses = await withDb(db, (s) =>
      s.all<{ a: string }>('SELECT DISTINCT address AS a FROM incidents'),
    );
    const written = new Set(rows.slice(1).map((r) => r[addr]!));
    for (const { a } of addresses) expect(written.has(a), a).toBe(true);
  });

  it('a plain fire file with an emoji across byte 65,536 and É across byte 1,048,576 keeps both', async () => {
    const rows = fire.slice(0, 6001).map((r) => [...r]);
    const addr = rows[0]!.indexOf('Address');
    placeAt(rows, addr, 65_534, '😀');
    placeAt(rows, addr, 1_048_575, 'É');
    const file = join(dir, 'fire-utf8.csv');
    writeFileSync(file, rows.map(csvLine).join(''));
    const db = join(dir, 'fire-plain.duckdb');
    importCli('fire', file, db);
    await expectRawRows(db, 'sf-fire-calls', rows, rows[0]!.indexOf('RowID'));
  });

  it('a .gz collisions file with É and emoji in every road name keeps every character, raw rows included', async () => {
    const rows = crashes.map((r) => [...r]);
    const road = rows[0]!.indexOf('PRIMARY_RD');
    for (let i = 1; i < rows.length; i++)
      rows[i]![road] = `AAA É STREET ${'😀'.repeat(8)} ${rows[i]![road]}`;
    const file = join(dir, 'crashes-utf8.csv.gz');
    writeFileSync(file, gzipSync(rows.map(csvLine).join('')));
    expect(await gunzipSplitsACharacter(file)).toBe(true);
    const db = join(dir, 'crashes-gz.duckdb');
    importCli('collisions', file, db);
    await expectRawRows(db, 'tims', rows, rows[0]!.indexOf('CASE_ID'));
  });

  it('a plain collisions file with É at byte 1,048,575 (and an emoji across 65,536) keeps both', async () => {
    const rows = crashes.map((r) => [...r]);
    const road = rows[0]!.indexOf('PRIMARY_RD'),
      caseId = rows[0]!.indexOf('CASE_ID');
    placeAt(rows, road, 65_534, '😀');
    placeAt(rows, road, 1_048_575, 'É');
    placeAt(rows, road, 2 * 1_048_576 - 2, '😀');
    const file = join(dir, 'crashes-utf8.csv');
    writeFileSync(file, rows.map(csvLine).join(''));
    const db = join(dir, 'crashes-plain.duckdb');
    const summary = JSON.parse(importCli('collisions', file, db));
    expect(summary.warnings.invalid_utf8).toBeUndefined();
    await expectRawRows(db, 'tims', rows, caseId);
    const placed = rows.filter((r) => r[road]!.startsWith('AAAA'));
    expect(placed.length).toBe(3);
    const stored = await withDb(db, (s) =>
      s.all<{ id: string; rd: string }>(
        `SELECT case_id AS id, primary_rd AS rd FROM collisions WHERE case_id IN (${placed.map((_, k) => `$${k + 1}`).join(', ')})`,
        placed.map((r) => r[caseId]!),
      ),
    );
    expect(new Map(stored.map((r) => [r.id, r.rd]))).toEqual(
      new Map(placed.map((r) => [r[caseId]!, r[road]!])),
    );
  });
});

describe('bytes that are not UTF-8', () => {
  /** Rows written as Latin-1 bytes: every sample value is ASCII, so only the names set here are not. */
  function latin1File(name: string, rows: string[][]): string {
    const text = rows.map(csvLine).join('');
    const file = join(dir, name);
    writeFileSync(file, Buffer.from(text, 'latin1'));
    expect(Buffer.byteLength(text, 'latin1')).toBe(text.length);
    return file;
  }

  it('a collisions file with Latin-1 road names after 64 KB stores them as written and says where', async () => {
    const rows = crashes.slice(0, 2001).map((r) => [...r]);
    const road = rows[0]!.indexOf('PRIMARY_RD'),
      caseId = rows[0]!.indexOf('CASE_ID');
    rows[1000]![road] = 'CAFÉ ST'; // line 1001, past byte 65,536
    rows[1500]![road] = 'MUÑOZ RD ½';
    const file = latin1File('crashes-latin1.csv', rows);
    expect(readFileSync(file).indexOf(Buffer.from('CAF\xc9', 'latin1'))).toBeGreaterThan(65_536);
    const db = join(dir, 'crashes-latin1.duckdb');
    const summary = JSON.parse(importCli('collisions', file, db));
    expect(summary.warnings.invalid_utf8).toBe(2);
    expect(summary.notes).toEqual([
      expect.stringContaining(
        `${file}: 2 lines (the first is line 1001) held bytes that are not UTF-8`,
      ),
    ]);
    await expectRawRows(db, 'tims', rows, caseId);
    const names = await withDb(db, (s) =>
      s.all<{ rd: string }>(
        `SELECT primary_rd AS rd FROM collisions WHERE primary_rd LIKE '%\uFFFD%' OR primary_rd IN ('CAFÉ ST', 'MUÑOZ RD ½') ORDER BY rd`,
      ),
    );
    expect(names.map((r) => r.rd)).toEqual(['CAFÉ ST', 'MUÑOZ RD ½']);
    // the printout a user reads names the file, the line and what was done
    const printed = importCli(
      'collisions',
      file,
      join(dir, 'crashes-latin1-printed.duckdb'),
      false,
    );
    expect(printed).toContain('invalid_utf8 2');
    expect(printed).toContain(
      // the shared import summary's note line
      `  note         ${file}: 2 lines (the first is line 1001) held bytes that are not UTF-8; they were read as Windows-1252 (Latin-1)`,
    );
  });

  it('a fire file with a Windows-1252 byte after 64 KB is read by rows, stored as written, and reported', async () => {
    const rows = fire.slice(0, 2001).map((r) => [...r]);
    const addr = rows[0]!.indexOf('Address');
    rows[1200]![addr] = 'MUÑOZ “PLAZA”'; // “ ” are 0x93 0x94 in Windows-1252, not in Latin-1
    const text = rows.map(csvLine).join('');
    const file = join(dir, 'fire-cp1252.csv');
    const quotes = text.replace(/[“”]/g, (q) => (q === '“' ? '\x93' : '\x94'));
    writeFileSync(file, Buffer.from(quotes, 'latin1'));
    const db = join(dir, 'fire-cp1252.duckdb');
    const summary = JSON.parse(importCli('fire', file, db));
    expect(summary.path).toBe('rows');
    expect(summary.warnings.invalid_utf8).toBe(1);
    expect(summary.notes).toEqual([
      expect.stringContaining(
        'fire-cp1252.csv: 1 line (the first is line 1201) held bytes that are not UTF-8',
      ),
    ]);
    await expectRawRows(db, 'sf-fire-calls', rows, rows[0]!.indexOf('RowID'));
    const warned = await withDb(db, (s) =>
      s.all<{ line: number; kind: string }>(
        "SELECT line, kind FROM import_warnings WHERE kind = 'invalid_utf8'",
      ),
    );
    expect(warned).toEqual([{ line: 1201, kind: 'invalid_utf8' }]);
  });

  it('a GeoJSON road file with a Latin-1 street name stores the name as written and says where', async () => {
    const fc = {
      type: 'FeatureCollection',
      features: [
        {
          type: 'Feature',
          properties: { name: 'MISSION ST' },
          geometry: {
            type: 'LineString',
            coordinates: [
              [-122.42, 37.75],
              [-122.42, 37.76],
            ],
          },
        },
        {
          type: 'Feature',
          properties: { name: 'AVENIDA JOSÉ' },
          geometry: {
            type: 'LineString',
            coordinates: [
              [-122.41, 37.75],
              [-122.41, 37.76],
            ],
          },
        },
      ],
    };
    const text = JSON.stringify(fc, null, 1);
    const file = join(dir, 'roads-latin1.geojson');
    writeFileSync(file, Buffer.from(text, 'latin1'));
    const line = text.slice(0, text.indexOf('JOSÉ')).split('\n').length;
    const db = join(dir, 'roads-latin1.duckdb');
    const summary = await withDb(db, (s) => importRoadsFile(s, file));
    expect(summary.notes).toEqual([
      expect.stringContaining(
        `${file}: 1 line (the first is line ${line}) held bytes that are not UTF-8`,
      ),
    ]);
    const names = await withDb(db, (s) =>
      s.all<{ name: string }>('SELECT name FROM road_segments ORDER BY name'),
    );
    expect(names.map((r) => r.name)).toEqual(['AVENIDA JOSÉ', 'MISSION ST']);
  });
});
