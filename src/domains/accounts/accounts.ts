import { z } from 'zod';
import { UserError } from '../../platform/errors.ts';
import type { Store } from '../../platform/db.ts';
import { hashPassword, needsRehash, newSecret, secretHash, verifyPassword } from './secrets.ts';

/** Roles: admin manages everything, analyst explores and exports, viewer reads; ingest only posts CAD events. */
export const USER_ROLES = ['admin', 'analyst', 'viewer'] as const;
export const TOKEN_ROLES = [...USER_ROLES, 'ingest'] as const;
export type Role = (typeof TOKEN_ROLES)[number];

export const SESSION_HOURS = 12;

const username = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]{1,63}$/i, 'letters, digits, dot, dash or underscore (2–64)');

export interface Principal {
  name: string;
  role: Role;
  kind: 'user' | 'token';
}

export async function addUser(
  store: Store,
  name: string,
  role: string,
  password: string,
): Promise<void> {
  const n = username.safeParse(name);
  if (!n.success) throw new UserError(`User name "${name}": ${n.error.issues[0]!.message}`);
  if (!(USER_ROLES as readonly string[]).includes(role))
    throw new UserError(`Unknown role "${role}". Roles: ${USER_ROLES.join(', ')}`);
  if (password.length < 10) throw new UserError('The password must have at least 10 characters.');
  const exists = await store.one('SELECT 1 FROM users WHERE username = $1', [name]);
  if (exists) throw new UserError(`User "${name}" exists already.`);
  await store.run('INSERT INTO users (username, password_hash, role) VALUES ($1, $2, $3)', [
    name,
    await hashPassword(password),
    role,
  ]);
}

export async function createToken(store: Store, name: string, role: string): Promise<string> {
  if (!(TOKEN_ROLES as readonly string[]).includes(role))
    throw new UserError(`Unknown role "${role}". Roles: ${TOKEN_ROLES.join(', ')}`);
  if (!name.trim()) throw new UserError('A token needs a --name saying what uses it.');
  const token = newSecret('cot_');
  await store.run('INSERT INTO api_tokens (token_hash, name, role) VALUES ($1, $2, $3)', [
    secretHash(token),
    name,
    role,
  ]);
  return token;
}

/**
 * Recently verified tokens and sessions, so that authenticating a request never waits behind a
 * running write (a CAD feed posts many times a second). Entries live 30 s; sign-out drops its own.
 */
const CACHE_MS = 30_000;
const MAX_CACHED = 10_000;
/** One cache per open database, so a database reopened after a CLI change starts fresh. */
const caches = new WeakMap<Store, Map<string, { principal: Principal | null; until: number }>>();

function cacheOf(store: Store) {
  let cache = caches.get(store);
  if (!cache) caches.set(store, (cache = new Map()));
  return cache;
}

async function cached(
  store: Store,
  hash: string,
  load: () => Promise<Principal | null>,
): Promise<Principal | null> {
  const cache = cacheOf(store);
  const hit = cache.get(hash);
  if (hit && hit.until > Date.now()) return hit.principal;
  const principal = await load();
  if (cache.size >= MAX_CACHED) cache.clear();
  cache.set(hash, { principal, until: Date.now() + CACHE_MS });
  return principal;
}

export async function principalForToken(store: Store, token: string): Promise<Principal | null> {
  const hash = secretHash(token);
  return cached(store, hash, async () => {
    const row = await store.one<{ name: string; role: Role }>(
      'SELECT name, role FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL',
      [hash],
    );
    return row ? { name: row.name, role: row.role, kind: 'token' } : null;
  });
}

/** Checks a password; on success opens a session and returns its secret id (for the cookie). */
export async function signIn(
  store: Store,
  name: string,
  password: string,
): Promise<{ sessionId: string; principal: Principal } | null> {
  const row = await store.one<{ password_hash: string; role: Role }>(
    'SELECT password_hash, role FROM users WHERE username = $1',
    [name],
  );
  // verify against a dummy hash when the user is unknown, so timing does not reveal which names exist
  const ok = await verifyPassword(password, row?.password_hash ?? (await dummyHash()));
  if (!row || !ok) return null;
  if (needsRehash(row.password_hash)) {
    await store.run('UPDATE users SET password_hash = $1 WHERE username = $2', [
      await hashPassword(password),
      name,
    ]);
  }
  const sessionId = await openSession(store, name, row.role, SESSION_HOURS * 60);
  return { sessionId, principal: { name, role: row.role, kind: 'user' } };
}

/** Opens a session and returns its secret id (also used for the report renderer's short-lived browser). */
export async function openSession(
  store: Store,
  name: string,
  role: Role,
  minutes: number,
): Promise<string> {
  const sessionId = newSecret();
  await store.run(
    `INSERT INTO sessions (session_hash, username, role, expires_at) VALUES ($1, $2, $3, now() + to_minutes($4::BIGINT))`,
    [secretHash(sessionId), name, role, minutes],
  );
  return sessionId;
}

/** A hash made with today's parameters, so an unknown name costs what a known one does. */
let dummy: Promise<string> | null = null;
const dummyHash = () => (dummy ??= hashPassword(newSecret()));

export async function principalForSession(
  store: Store,
  sessionId: string,
): Promise<Principal | null> {
  const hash = secretHash(sessionId);
  return cached(store, hash, async () => {
    const row = await store.one<{ username: string; role: Role }>(
      'SELECT username, role FROM sessions WHERE session_hash = $1 AND expires_at > now()',
      [hash],
    );
    return row ? { name: row.username, role: row.role, kind: 'user' } : null;
  });
}

export async function signOut(store: Store, sessionId: string): Promise<void> {
  cacheOf(store).delete(secretHash(sessionId));
  await store.run('DELETE FROM sessions WHERE session_hash = $1', [secretHash(sessionId)]);
}

/** Deletes a user and every session of theirs. */
export async function deleteUser(store: Store, name: string): Promise<void> {
  const exists = await store.one('SELECT 1 FROM users WHERE username = $1', [name]);
  if (!exists) throw new UserError(`No user "${name}". See cityops user list.`);
  await store.transaction(async () => {
    await store.run('DELETE FROM sessions WHERE username = $1', [name]);
    await store.run('DELETE FROM users WHERE username = $1', [name]);
  });
  cacheOf(store).clear();
}

export async function listUsers(
  store: Store,
): Promise<{ name: string; role: Role; created: string; sessions: number }[]> {
  return store.all(`SELECT u.username AS name, u.role, strftime(u.created_at, '%Y-%m-%d %H:%M') AS created,
      (SELECT count(*) FROM sessions s WHERE s.username = u.username AND s.expires_at > now())::INTEGER AS sessions
    FROM users u ORDER BY u.username`);
}

/** A token is named in lists and on revocation by the first 12 hex digits of its hash (the token itself is never stored). */
const TOKEN_ID_LENGTH = 12;

export async function listTokens(
  store: Store,
): Promise<{ id: string; name: string; role: Role; created: string; revoked: string | null }[]> {
  return store.all(`SELECT left(token_hash, ${TOKEN_ID_LENGTH}) AS id, name, role, strftime(created_at, '%Y-%m-%d %H:%M') AS created,
      strftime(revoked_at, '%Y-%m-%d %H:%M') AS revoked FROM api_tokens ORDER BY created_at, name`);
}

/** Revokes the token with this id (from `token list`) or this exact token; answers what was revoked. */
export async function revokeToken(
  store: Store,
  idOrToken: string,
): Promise<{ id: string; name: string }> {
  const prefix = idOrToken.startsWith('cot_') ? secretHash(idOrToken) : idOrToken.toLowerCase();
  if (!/^[0-9a-f]{12,64}$/.test(prefix))
    throw new UserError(
      `"${idOrToken}" is neither a token id (12 hex digits, from cityops token list) nor a token.`,
    );
  const rows = await store.all<{ token_hash: string; name: string }>(
    'SELECT token_hash, name FROM api_tokens WHERE starts_with(token_hash, $1) AND revoked_at IS NULL',
    [prefix],
  );
  if (rows.length === 0)
    throw new UserError(`No active token ${idOrToken}. See cityops token list.`);
  if (rows.length > 1)
    throw new UserError(`${rows.length} tokens start with ${idOrToken}: give more digits.`);
  await store.run('UPDATE api_tokens SET revoked_at = now() WHERE token_hash = $1', [
    rows[0]!.token_hash,
  ]);
  cacheOf(store).clear();
  return { id: rows[0]!.token_hash.slice(0, TOKEN_ID_LENGTH), name: rows[0]!.name };
}

/**
 * Failed sign-ins per account name, on top of the per-address limit: an attacker spreading guesses
 * over many addresses still gets MAX_FAILURES per name per window. Names that do not exist count
 * the same way, so the answer reveals nothing. Bounded: the oldest names are forgotten first.
 */
export class SignInGuard {
  private failures = new Map<string, number[]>();
  constructor(
    private readonly maxFailures = 10,
    private readonly windowMs = 15 * 60_000,
    private readonly maxNames = 10_000,
  ) {}

  /** Milliseconds until this name may try again, or 0. */
  lockedFor(name: string, now = Date.now()): number {
    const recent = this.recent(name.toLowerCase(), now);
    return recent.length >= this.maxFailures ? recent[0]! + this.windowMs - now : 0;
  }

  failed(name: string, now = Date.now()): void {
    const key = name.toLowerCase();
    const recent = [...this.recent(key, now), now];
    this.failures.delete(key);
    this.failures.set(key, recent);
    if (this.failures.size > this.maxNames)
      this.failures.delete(this.failures.keys().next().value!);
  }

  succeeded(name: string): void {
    this.failures.delete(name.toLowerCase());
  }

  private recent(key: string, now: number): number[] {
    return (this.failures.get(key) ?? []).filter((t) => t > now - this.windowMs);
  }
}

export async function userCount(store: Store): Promise<number> {
  return (await store.one<{ n: number }>('SELECT count(*)::INTEGER AS n FROM users'))!.n;
}

/** Deletes the user only if its password is this one (the published demo password); true if deleted. */
export async function deleteUserWithPassword(
  store: Store,
  name: string,
  password: string,
): Promise<boolean> {
  const row = await store.one<{ password_hash: string }>(
    'SELECT password_hash FROM users WHERE username = $1',
    [name],
  );
  if (!row || !(await verifyPassword(password, row.password_hash))) return false;
  await deleteUser(store, name);
  return true;
}
