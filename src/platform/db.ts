import { AsyncLocalStorage } from 'node:async_hooks';
import { mkdirSync } from 'node:fs';
import { totalmem } from 'node:os';
import { dirname, resolve } from 'node:path';
import {
  DuckDBInstance,
  type DuckDBAppender,
  type DuckDBConnection,
  type DuckDBValue,
} from '@duckdb/node-api';
import { Unavailable, UserError } from './errors.ts';
import { migrate } from './migrations.ts';

export const DEFAULT_DB = './data/cityops.duckdb';

/** Database path: the explicit option, then CITYOPS_DB, then ./data/cityops.duckdb. */
export function resolveDbPath(option?: string): string {
  return option ?? process.env.CITYOPS_DB ?? DEFAULT_DB;
}

/**
 * DuckDB's memory limit: past it, DuckDB spills to a temp folder beside the database, so an import
 * of a file of any size (read into temp tables on the SQL path) keeps the process's memory bounded.
 * 2 GB holds a 400 MB file without spilling; on a machine with less memory, 60% of it (DuckDB's own
 * default of 80% leaves too little for Node beside it). CITYOPS_MEMORY_LIMIT sets another.
 */
const defaultMb = Math.min(2000, Math.floor((totalmem() * 0.6) / 1e6)); // DuckDB's MB and GB are powers of 1000
export const DEFAULT_MEMORY_LIMIT = defaultMb === 2000 ? '2GB' : `${defaultMb}MB`;

function memoryLimit(): string {
  const v = (process.env.CITYOPS_MEMORY_LIMIT ?? DEFAULT_MEMORY_LIMIT).trim();
  if (!/^\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$/i.test(v)) {
    throw new UserError(`CITYOPS_MEMORY_LIMIT must be a size such as 512MB or 4GB, not "${v}".`);
  }
  return v;
}

export type Row = Record<string, unknown>;

/** One open CityOps database: a DuckDB file (or ':memory:') with migrations applied. */
export class Store {
  /** Marks the async context that holds the connection (a session or transaction): its statements must not wait for the lock. */
  private readonly holding = new AsyncLocalStorage<true>();
  private lock: Promise<void> = Promise.resolve();
  private commits = 0;
  /** 'closing': no new work starts; 'aborted': no statement runs (what was running is interrupted). */
  private state: 'open' | 'closing' | 'aborted' = 'open';
  /** Connections of withConnection in use, to interrupt on abort and wait for on close. */
  private readonly side = new Set<DuckDBConnection>();

  private constructor(
    readonly path: string,
    private readonly instance: DuckDBInstance,
    readonly conn: DuckDBConnection,
  ) {}

  /**
   * The main connection is shared by everything in the process (HTTP handlers, live ingest), so its
   * statements take turns: a statement never lands inside another caller's open transaction.
   */
  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const guarded = () => this.guard(work);
    if (this.holding.getStore()) return guarded();
    if (this.state !== 'open') return Promise.reject(this.refusal());
    const previous = this.lock;
    let release!: () => void;
    this.lock = new Promise((r) => {
      release = r;
    });
    return previous.then(guarded).finally(release);
  }

  /** Runs a statement unless aborted; one cut short by abort() fails as Unavailable, not DuckDB's "Interrupted". */
  private async guard<T>(work: () => Promise<T>): Promise<T> {
    if (this.aborted()) throw this.refusal();
    try {
      return await work();
    } catch (e) {
      throw this.aborted() ? this.refusal() : e;
    }
  }

  private aborted(): boolean {
    return this.state === 'aborted';
  }

  private refusal(): Unavailable {
    return new Unavailable('The server is shutting down: send this again once it is back.');
  }

  /**
   * The data version: bumped by every committed transaction (each import, live batch and edit goes
   * through one), so an answer cached on it is never stale. One process holds the file at a time.
   */
  get dataVersion(): number {
    return this.commits;
  }

  static async open(path: string = resolveDbPath()): Promise<Store> {
    if (path !== ':memory:') mkdirSync(dirname(resolve(path)), { recursive: true });
    const memory_limit = memoryLimit();
    let instance: DuckDBInstance;
    try {
      // storage 1.2 is the first that can hold zstd-compressed strings (the raw rows); it applies to new files
      instance = await DuckDBInstance.create(path, {
        threads: '2',
        storage_compatibility_version: 'v1.2.0',
        memory_limit,
      });
    } catch (e) {
      const msg = (e as Error).message;
      if (/lock/i.test(msg)) {
        throw new UserError(
          `The database ${path} is in use by another process (is \`cityops serve\` running?). ` +
            `Stop it, or send the work to the running server's API.`,
        );
      }
      throw new UserError(`Cannot open the database ${path}: ${msg}`);
    }
    const conn = await instance.connect();
    const store = new Store(path, instance, conn);
    await store.run("SET TimeZone = 'UTC'");
    // DuckDB tracks how far a running statement is (for progress bars in the CLI) but prints nothing itself
    await store.run('SET enable_progress_bar = true');
    await store.run('SET enable_progress_bar_print = false');
    try {
      await migrate(store);
    } catch (e) {
      store.close();
      throw e;
    }
    return store;
  }

  /**
   * Runs `work`, reporting every quarter second how far DuckDB is through the statement running
   * on the main connection (0-100; DuckDB starts to estimate once a statement has run a while).
   */
  async tracking<T>(report: (percent: number) => void, work: () => Promise<T>): Promise<T> {
    const timer = setInterval(() => {
      const p = this.conn.progress.percentage;
      if (p >= 0) report(Math.min(p, 100));
    }, 250);
    try {
      return await work();
    } finally {
      clearInterval(timer);
    }
  }

  async run(sql: string, params?: DuckDBValue[]): Promise<void> {
    await this.exclusive(() => this.conn.run(sql, params));
  }

  /** Rows as plain JS objects; BIGINT/HUGEINT become numbers so results serialise as JSON. */
  /** Appends rows to a table with DuckDB's appender, holding the connection (a temp table of the import's). */
  async append(table: string, fill: (appender: DuckDBAppender) => void): Promise<void> {
    await this.exclusive(async () => {
      const appender = await this.conn.createAppender(table);
      try {
        fill(appender);
        appender.flushSync();
      } finally {
        appender.closeSync();
      }
    });
  }

  async all<T = Row>(sql: string, params?: DuckDBValue[]): Promise<T[]> {
    const reader = await this.exclusive(() => this.conn.runAndReadAll(sql, params));
    const rows = reader.getRowObjectsJS() as Row[];
    for (const r of rows) for (const k in r) if (typeof r[k] === 'bigint') r[k] = Number(r[k]);
    return rows as T[];
  }

  async one<T = Row>(sql: string, params?: DuckDBValue[]): Promise<T | undefined> {
    return (await this.all<T>(sql, params))[0];
  }

  /**
   * Runs `work` with the main connection to itself: no other caller's statement comes in between.
   * (An import builds its temp tables before its transaction: DuckDB scans a temp table made in
   * the open transaction on one thread only.)
   */
  async session<T>(work: () => Promise<T>): Promise<T> {
    return this.exclusive(() => this.holding.run(true, work));
  }

  /** Runs `work` in one transaction: all of it is committed, or none of it. */
  async transaction<T>(work: () => Promise<T>): Promise<T> {
    return this.session(async () => {
      await this.conn.run('BEGIN TRANSACTION');
      try {
        const out = await work();
        await this.conn.run('COMMIT');
        this.commits++;
        return out;
      } catch (e) {
        await this.conn.run('ROLLBACK').catch(() => undefined);
        throw e;
      }
    });
  }

  /**
   * Runs work on a connection of its own. Temp tables are per connection, so concurrent requests
   * that build them cannot collide; reads see a consistent snapshot.
   */
  async withConnection<T>(work: (conn: DuckDBConnection) => Promise<T>): Promise<T> {
    if (this.state !== 'open') throw this.refusal();
    const conn = await this.instance.connect();
    this.side.add(conn);
    try {
      await conn.run("SET TimeZone = 'UTC'");
      return await work(conn);
    } catch (e) {
      throw this.aborted() ? this.refusal() : e;
    } finally {
      this.side.delete(conn);
      conn.closeSync();
    }
  }

  /**
   * Stops all work at once: the statements running are interrupted and no other runs, so an open
   * transaction rolls back (a shutdown's last resort when work does not finish in time).
   */
  abort(): void {
    this.state = 'aborted';
    this.conn.interrupt();
    for (const c of this.side) c.interrupt();
  }

  /**
   * Closes when the work under way is done (after abort(), at once): no new work starts, the
   * transaction running commits or rolls back, then the log is checkpointed into the file.
   */
  async shutdown(): Promise<void> {
    if (this.state === 'open') this.state = 'closing';
    await this.lock;
    while (this.side.size) await new Promise((r) => setTimeout(r, 20));
    // an aborted transaction has rolled back by now; what was committed goes into the file
    if (this.path !== ':memory:') await this.conn.run('CHECKPOINT');
    this.close();
  }

  close(): void {
    this.conn.closeSync();
    this.instance.closeSync();
  }
}
