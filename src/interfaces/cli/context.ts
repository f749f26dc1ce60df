import { FireService, loadConfig } from '../../domains/fire/index.ts';
import { resolveDbPath, Store } from '../../platform/db.ts';

export interface DbOptions {
  db?: string;
  config?: string;
}

/** Opens the database for one command and closes it afterwards, whatever happens. */
export async function withStore<T>(
  opts: DbOptions,
  work: (store: Store) => Promise<T>,
): Promise<T> {
  const store = await Store.open(resolveDbPath(opts.db));
  try {
    return await work(store);
  } finally {
    store.close();
  }
}

export async function withFire<T>(
  opts: DbOptions,
  work: (fire: FireService, store: Store) => Promise<T>,
): Promise<T> {
  const config = loadConfig(opts.config);
  return withStore(opts, (store) => work(new FireService(store, config), store));
}
