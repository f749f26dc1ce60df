import { describe, expect, it } from 'vitest';
import { Store } from '../src/platform/db.ts';
import { SCHEMA_VERSION } from '../src/platform/migrations.ts';
import { cli, openTemp, SF_2020 } from './helpers.ts';

/** Issue 13, item 11: a database from a newer CityOps is refused, not written to. */
describe('a database from a newer schema', () => {
  it('is refused with both versions named, by the store and by every command, and left untouched', async () => {
    const { store, path } = await openTemp();
    const newer = SCHEMA_VERSION + 1;
    await store.run(
      "INSERT INTO schema_migrations (version, name) VALUES ($1, 'from a newer release')",
      [newer],
    );
    await store.run('CREATE TABLE newer_table (x INTEGER)');
    store.close();

    await expect(Store.open(path)).rejects.toThrow(
      new RegExp(
        `schema version ${newer}, newer than this CityOps knows \\(schema ${SCHEMA_VERSION}\\)`,
      ),
    );
    // the refusal released the file: another open is refused the same way, not with a lock error
    await expect(Store.open(path)).rejects.toThrow(/newer than this CityOps knows/);

    const imp = cli(['import', 'fire', SF_2020, '--db', path]);
    expect(imp.status).toBe(2);
    expect(imp.stderr).toMatch(new RegExp(`schema version ${newer}.*schema ${SCHEMA_VERSION}`));
    expect(imp.stderr).not.toMatch(/Binder Error|at \//);

    // nothing was written: the file still holds no incidents and its newer row
    const { DuckDBInstance } = await import('@duckdb/node-api');
    const inst = await DuckDBInstance.create(path);
    const conn = await inst.connect();
    const rows = (
      await conn.runAndReadAll(
        'SELECT (SELECT count(*) FROM incidents)::INTEGER AS n, (SELECT max(version) FROM schema_migrations) AS v',
      )
    ).getRowObjects();
    expect(rows[0]).toEqual({ n: 0, v: newer });
    conn.closeSync();
    inst.closeSync();
  }, 60_000);
});
