import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { importBudgetFile } from '../src/domains/budget/import.ts';
import { UserError } from '../src/platform/errors.ts';
import { importFireFile } from '../src/domains/fire/import.ts';
import { applyScenario, coverage } from '../src/domains/coverage/coverage.ts';
import { loadCoverageContext } from '../src/domains/coverage/context.ts';
import { importStationsFile } from '../src/domains/coverage/stations.ts';
import { importRoadsFile } from '../src/domains/coverage/roads.ts';
import type { Store } from '../src/platform/db.ts';
import { loadActuals } from '../src/domains/strategy/actuals.ts';
import { currentPlan, loadPlanIntoStore } from '../src/domains/strategy/alignment.ts';
import { importCollisionsFile } from '../src/domains/collisions/import.ts';
import { FIXTURES, INTERNAL_TEXT, openTemp, ROOT } from './helpers.ts';

/**
 * The import half of the bad-input corpus (issue 13): every file under test/fixtures/bad/import/<domain>/
 * has a `<file>.expect.json` with the answer it must get through the importer the CLI calls. Either the
 * file is refused whole (`error`, a regex for the UserError's message) and the database is unchanged,
 * or it imports with the counts given, each rejected row in the quarantine with its file, line, field
 * and reason.
 */
interface ImportCase {
  kind: 'import';
  domain: 'fire' | 'collisions' | 'budget' | 'strategy' | 'stations' | 'roads';
  profile?: string;
  rowsRead?: number;
  inserted?: number;
  quarantined?: number;
  /** warning counts the summary must show (other kinds may appear too) */
  warnings?: Record<string, number>;
  /** the quarantined rows in line order; line and field are exact, reason a regex */
  quarantine?: { line?: number; field?: string | null; reason: string }[];
  error?: string;
}

/** What every importer's summary says, in one shape. */
interface Answer {
  batchId: number;
  rowsRead: number;
  inserted: number;
  quarantined: number;
  warnings: Record<string, number>;
}

async function runImport(store: Store, c: ImportCase, file: string): Promise<Answer> {
  const p = { profile: c.profile };
  switch (c.domain) {
    case 'fire':
      return importFireFile(store, file, p);
    case 'collisions':
      return importCollisionsFile(store, file, p);
    case 'budget':
      return importBudgetFile(store, file, p);
    case 'strategy': {
      const r = await loadActuals(store, await currentPlan(store), file);
      return { batchId: 0, rowsRead: r.rows, inserted: r.rows, quarantined: 0, warnings: {} };
    }
    case 'stations':
      return importStationsFile(store, file);
    case 'roads':
      return importRoadsFile(store, file);
  }
}

const BAD = join(FIXTURES, 'bad', 'import');
const cases = readdirSync(BAD).flatMap((domain) =>
  readdirSync(join(BAD, domain))
    .filter((f) => f.endsWith('.expect.json'))
    .sort()
    .map((f) => ({
      file: join(BAD, domain, f.replace(/\.expect\.json$/, '')),
      name: `${domain}/${f.replace(/\.expect\.json$/, '')}`,
      expect: JSON.parse(readFileSync(join(BAD, domain, f), 'utf8')) as ImportCase,
    })),
);

describe('bad import files get a clear answer and never a half-written database', () => {
  let store: Store | null = null;
  /** Row counts of every table: a refused file must leave them all as they were. */
  const tableCounts = async (store: Store) => {
    const tables = await store.all<{ name: string }>(
      `SELECT table_name AS name FROM duckdb_tables() WHERE NOT temporary AND schema_name = 'main' ORDER BY 1`,
    );
    const out: Record<string, number> = {};
    for (const t of tables)
      out[t.name] = (await store.one<{ n: number }>(
        `SELECT count(*)::INTEGER AS n FROM "${t.name}"`,
      ))!.n;
    return out;
  };

  afterEach(() => {
    delete process.env.CITYOPS_IMPORT_PATH;
    store?.close();
    store = null;
  });

  it('the corpus covers every importer the CLI has, with at least 32 files', () => {
    expect([...new Set(cases.map((c) => c.expect.domain))].sort()).toEqual([
      'budget',
      'collisions',
      'fire',
      'roads',
      'stations',
      'strategy',
    ]);
    expect(cases.length).toBeGreaterThanOrEqual(32);
  });

  // plain fire CSV files take the SQL path: each is read row by row too, which must give the same answer
  const runs = cases.flatMap((c) => [
    { ...c, rows: false },
    ...(c.expect.domain === 'fire' && /\.csv$/.test(c.file) ? [{ ...c, rows: true }] : []),
  ]);
  for (const { file, name, expect: want, rows: rowPath } of runs) {
    it(`${name}${rowPath ? ' (row by row)' : ''}: ${want.error ? `refused /${want.error}/` : `${want.rowsRead} read, ${want.inserted} inserted, ${want.quarantined} quarantined`}`, async () => {
      if (rowPath) process.env.CITYOPS_IMPORT_PATH = 'rows';
      // a fresh store each: a row another file imported first would count as unchanged
      const { store: s } = await openTemp();
      store = s;
      if (want.domain === 'strategy')
        await loadPlanIntoStore(s, join(ROOT, 'samples/strategy/example-plan.yaml'));
      const before = await tableCounts(s);
      let answer: Answer | null = null;
      let failure: unknown = null;
      try {
        answer = await runImport(s, want, file);
      } catch (e) {
        failure = e;
      }
      if (want.error) {
        expect(failure, 'the file should be refused').toBeInstanceOf(UserError);
        const message = (failure as Error).message;
        expect(message).toMatch(new RegExp(want.error));
        expect(message).not.toMatch(INTERNAL_TEXT);
        expect(await tableCounts(s)).toEqual(before);
        return;
      }
      if (failure) throw failure;
      const a = answer!;
      expect({ rowsRead: a.rowsRead, inserted: a.inserted, quarantined: a.quarantined }).toEqual({
        rowsRead: want.rowsRead,
        inserted: want.inserted,
        quarantined: want.quarantined,
      });
      for (const [kind, n] of Object.entries(want.warnings ?? {}))
        expect(a.warnings[kind], `warning ${kind}`).toBe(n);
      if (!a.batchId) return;
      const rows = await s.all<{
        file: string;
        line: number;
        field: string | null;
        reason: string;
      }>(
        'SELECT file, line, field, reason FROM quarantine WHERE batch_id = $1 ORDER BY line, quarantine_id',
        [a.batchId],
      );
      expect(rows.length).toBe(want.quarantined);
      for (const r of rows) {
        expect(r.file).toBe(file);
        expect(r.line).toBeGreaterThan(0);
        expect(r.reason).not.toMatch(INTERNAL_TEXT);
      }
      (want.quarantine ?? []).forEach((q, k) => {
        const r = rows[k]!;
        if (q.line !== undefined) expect(r.line, `quarantined row ${k + 1}: line`).toBe(q.line);
        if (q.field !== undefined) expect(r.field, `quarantined row ${k + 1}: field`).toBe(q.field);
        expect(r.reason).toMatch(new RegExp(q.reason));
      });
    });
  }
});

describe('a station with no place on Earth', () => {
  it('makes plan coverage a clear error naming the station, not a TypeError or a silent 0 %', async () => {
    const { store } = await openTemp();
    try {
      await importRoadsFile(store, join(ROOT, 'samples/geo/sf-mission-osm-2014.osm.gz'));
      await importStationsFile(store, join(ROOT, 'samples/geo/sf-fire-stations.geojson'));
      // as a database written before positions were checked on import holds it
      await store.run(`UPDATE stations SET lat = -300, lon = 500 WHERE station_id = '7'`);
      const ctx = await loadCoverageContext(store);
      expect(() => coverage(ctx, applyScenario(ctx, {}))).toThrow(
        /^Station 7 is at \[500, -300\], which is outside longitude -180\.\.180, latitude -90\.\.90/,
      );
    } finally {
      store.close();
    }
  }, 60_000);
});
