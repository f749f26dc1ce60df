import { mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importBudgetFile } from '../src/domains/budget/import.ts';
import { UserError } from '../src/platform/errors.ts';
import { importFireFile, importFireRecords } from '../src/domains/fire/import.ts';
import { importRoadsFile } from '../src/domains/coverage/roads.ts';
import type { Store } from '../src/platform/db.ts';
import { importCollisionsFile } from '../src/domains/collisions/import.ts';
import { cli, openTemp, ROOT, SF_2017, tempDir } from './helpers.ts';

/**
 * Every import, whether it succeeds, is refused or fails mid-way, leaves nothing in the temp dir it
 * stages in ($TMPDIR) and no file of it open: a deleted file still open keeps its disk space until
 * the process ends, which for the server is never. Dirs left by a killed import go at the next one.
 */

const CRASHES = join(ROOT, 'samples/collisions/slo_county_tims_crashes_2011_2020.csv.gz');
const BUDGET = join(ROOT, 'samples/budget/oakland_budget_line_items.csv.gz');
const ROADS = join(ROOT, 'samples/geo/sf-ne-osm-2026-drive.geojson.gz');

let store: Store;
let staging: string; // the importer's temp dir for this test
let inputs: string;
const savedTmp = process.env.TMPDIR;

let second: Store;
beforeAll(async () => {
  ({ store } = await openTemp());
  ({ store: second } = await openTemp());
  inputs = tempDir();
  staging = join(tempDir(), 'tmp');
  mkdirSync(staging);
  process.env.TMPDIR = staging; // os.tmpdir() reads it on every call
});
afterAll(() => {
  if (savedTmp === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = savedTmp;
  store.close();
  second.close();
});

/** This process's open files under the staging dir (deleted ones show as "… (deleted)"). */
function openFilesUnderStaging(): string[] {
  return readdirSync('/proc/self/fd').flatMap((fd) => {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`);
      return target.startsWith(staging) ? [target] : [];
    } catch {
      return [];
    }
  });
}

async function expectNoTempFilesAfter(work: () => Promise<unknown>, outcome: 'ok' | 'refused') {
  const before = readdirSync(staging).length;
  expect(before).toBe(0);
  if (outcome === 'ok') await work();
  else await expect(work()).rejects.toBeInstanceOf(UserError);
  expect(readdirSync(staging)).toEqual([]);
  expect(openFilesUnderStaging()).toEqual([]);
}

/**
 * A real file's header and first rows with one column renamed, so that a required column is
 * missing: the import is refused at the header, after its staging files were opened.
 */
function withoutColumn(name: string, text: string, column: string, rows = 3000): string {
  const lines = text.split('\n');
  const file = join(inputs, name);
  writeFileSync(
    file,
    [lines[0]!.replace(column, `NOT_${column}`), ...lines.slice(1, rows + 1)].join('\n'),
  );
  return file;
}

describe('staging temp files', () => {
  it('fire: a refused import and a successful one leave nothing', async () => {
    const sf = readFileSync(SF_2017, 'utf8');
    await expectNoTempFilesAfter(
      () => importFireFile(store, withoutColumn('fire-no-id.csv', sf, 'Incident Number')),
      'refused',
    );
    await expectNoTempFilesAfter(() => importFireFile(store, SF_2017), 'ok');
  });

  it('collisions: a refused import and a successful one leave nothing', async () => {
    const text = gunzipSync(readFileSync(CRASHES)).toString('utf8');
    await expectNoTempFilesAfter(
      () => importCollisionsFile(store, withoutColumn('crashes-no-case.csv', text, 'CASE_ID')),
      'refused',
    );
    await expectNoTempFilesAfter(() => importCollisionsFile(store, CRASHES), 'ok');
  });

  it('budget: a refused import and a successful one leave nothing', async () => {
    const text = gunzipSync(readFileSync(BUDGET)).toString('utf8');
    const header = text.slice(0, text.indexOf('\n'));
    const amount = header.split(',').find((h) => /amount/i.test(h))!;
    await expectNoTempFilesAfter(
      () => importBudgetFile(store, withoutColumn('budget-no-amount.csv', text, amount)),
      'refused',
    );
    await expectNoTempFilesAfter(() => importBudgetFile(store, BUDGET), 'ok');
  });

  it('roads: a refused import and a successful one leave nothing', async () => {
    // refused once its staging dir exists: the collection's features are not a list (a file of bad
    // features is no refusal since the one pipeline: it imports with every feature quarantined)
    const notRoads = join(inputs, 'not-roads.geojson');
    writeFileSync(notRoads, JSON.stringify({ type: 'FeatureCollection', features: 'none' }));
    await expectNoTempFilesAfter(() => importRoadsFile(store, notRoads), 'refused');
    await expectNoTempFilesAfter(
      () => importRoadsFile(store, ROADS, { source: 'temp-test' }),
      'ok',
    );
  });

  it('a batch of records (the live API) is staged in memory: it imports with no temp dir at all, as the same records from a file do', async () => {
    const at = (m: number) => new Date(Date.UTC(2026, 0, 5, 10, m)).toISOString();
    const events = ['dispatched', 'enroute', 'on_scene', 'available'].map((status, k) => ({
      id: `mem-${k}`,
      incident: 'MEM-1',
      unit: 'E1',
      status,
      at: at(k * 3),
      received: at(0),
      unitType: 'ENGINE',
    }));
    const file = join(inputs, 'events.json');
    writeFileSync(file, JSON.stringify(events));
    const fromFile = second; // opened before $TMPDIR pointed at the dir this test watches
    await importFireFile(fromFile, file, { profile: 'cad-status-events' });
    // a temp dir that cannot exist: staging a file there would fail
    process.env.TMPDIR = join(staging, 'missing', 'dir');
    try {
      const s = await importFireRecords(store, events, 'live', { profile: 'cad-status-events' });
      expect([s.rowsRead, s.inserted, s.quarantined]).toEqual([4, 4, 0]);
    } finally {
      process.env.TMPDIR = staging;
    }
    const responses = (db: Store) =>
      db.all(
        "SELECT unit_id, dispatched, enroute, on_scene, cleared FROM unit_responses WHERE incident_id = 'MEM-1'",
      );
    expect(await responses(store)).toEqual(await responses(fromFile));
    expect((await responses(store)).length).toBe(1);
  });

  it('a killed import leaves its staging dir, and the next import removes it', async () => {
    const db = join(inputs, 'killed.duckdb');
    // read by rows (the SQL reader stages in DuckDB, with no dir); the kill point is the pipeline's, in every domain
    const slo = join(ROOT, 'samples/collisions/slo_county_tims_crashes_2011_2020.csv.gz');
    const r = cli(['import', 'collisions', slo, '--db', db], {
      TMPDIR: staging,
      CITYOPS_TEST_KILL_BEFORE_COMMIT: '1',
    });
    expect(r.status).toBeNull(); // killed by SIGKILL
    const importDirs = () => readdirSync(staging).filter((n) => n.startsWith('cityops-')); // the CLI's tsx keeps its cache there too
    expect(importDirs().length).toBe(1);
    const sf = readFileSync(SF_2017, 'utf8');
    await expect(
      importFireFile(store, withoutColumn('fire-no-id-2.csv', sf, 'Incident Number')),
    ).rejects.toBeInstanceOf(UserError);
    expect(importDirs()).toEqual([]);
  });
});
