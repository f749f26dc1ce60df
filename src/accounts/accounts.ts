import { z } from 'zod';
import { UserError } from '../core/errors.ts';
import type { Store } from '../store/db.ts';
import { hashPassword, newSecret, secretHash, verifyPassword } from './secrets.ts';

/** Roles: admin manages everything, analyst explores and exports, viewer reads; ingest only posts CAD events. */
export const USER_ROLES = ['admin', 'analyst', 'viewer'] as const;
export const TOKEN_ROLES = [...USER_ROLES, 'ingest'] as const;
export type Role = (typeof TOKEN_ROLES)[number];

export const SESSION_HOURS = 12;

const username = z.string().regex(/^[a-z0-9][a-z0-9._-]{1,63}$/i, 'letters, digits, dot, dash or underscore (2–64)');

export interface Principal {
  name: string;
  role: Role;
  kind: 'user' | 'token';
}

export async function addUser(store: Store, name: string, role: string, password: string): Promise<void> {
  const n = username.safeParse(name);
  if (!n.success) throw new UserError(`User name "${name}": ${n.error.issues[0]!.message}`);
  if (!(USER_ROLES as readonly string[]).includes(role)) throw new UserError(`Unknown role "${role}". Roles: ${USER_ROLES.join(', ')}`);
  if (password.length < 10) throw new UserError('The password must have at least 10 characters.');
  const exists = await store.one('SELECT 1 FROM users WHERE username = $1', [name]);
  if (exists) throw new UserError(`User "${name}" exists already.`);
  await store.run('INSERT INTO users (username, password_hash, role) VALUES ($1, $2, $3)', [name, await hashPassword(password), role]);
}

export async function createToken(store: Store, name: string, role: string): Promise<string> {
  if (!(TOKEN_ROLES as readonly string[]).includes(role)) throw new UserError(`Unknown role "${role}". Roles: ${TOKEN_ROLES.join(', ')}`);
  if (!name.trim()) throw new UserError('A token needs a --name saying what uses it.');
  const token = newSecret('cot_');
  await store.run('INSERT INTO api_tokens (token_hash, name, role) VALUES ($1, $2, $3)', [secretHash(token), name, role]);
  return token;
}

/**
 * Recently verified tokens and sessions, so that authenticating a request never waits behind a
 * running write (a CAD feed posts many times a second). Entries live 30 s; sign-out drops its own.
 */
const CACHE_MS = 30_000;
const principals = new Map<string, { principal: Principal | null; until: number }>();

async function cached(hash: string, load: () => Promise<Principal | null>): Promise<Principal | null> {
  const hit = principals.get(hash);
  if (hit && hit.until > Date.now()) return hit.principal;
  const principal = await load();
  if (principals.size > 10000) principals.clear();
  principals.set(hash, { principal, until: Date.now() + CACHE_MS });
  return principal;
}

export async function principalForToken(store: Store, token: string): Promise<Principal | null> {
  const hash = secretHash(token);
  return cached(hash, async () => {
    const row = await store.one<{ name: string; role: Role }>('SELECT name, role FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL', [hash]);
    return row ? { name: row.name, role: row.role, kind: 'token' } : null;
  });
}

/** Checks a password; on success opens a session and returns its secret id (for the cookie). */
export async function signIn(store: Store, name: string, password: string): Promise<{ sessionId: string; principal: Principal } | null> {
  const row = await store.one<{ password_hash: string; role: Role }>('SELECT password_hash, role FROM users WHERE username = $1', [name]);
  // verify against a dummy hash when the user is unknown, so timing does not reveal which names exist
  const ok = await verifyPassword(password, row?.password_hash ?? DUMMY_HASH);
  if (!row || !ok) return null;
  const sessionId = await openSession(store, name, row.role, SESSION_HOURS * 60);
  return { sessionId, principal: { name, role: row.role, kind: 'user' } };
}

/** Opens a session and returns its secret id (also used for the report renderer's short-lived browser). */
export async function openSession(store: Store, name: string, role: Role, minutes: number): Promise<string> {
  const sessionId = newSecret();
  await store.run(`INSERT INTO sessions (session_hash, username, role, expires_at) VALUES ($1, $2, $3, now() + to_minutes($4::BIGINT))`,
    [secretHash(sessionId), name, role, minutes]);
  return sessionId;
}

const DUMMY_HASH = 'scrypt$32768$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';

export async function principalForSession(store: Store, sessionId: string): Promise<Principal | null> {
  const hash = secretHash(sessionId);
  return cached(hash, async () => {
    const row = await store.one<{ username: string; role: Role }>('SELECT username, role FROM sessions WHERE session_hash = $1 AND expires_at > now()', [hash]);
    return row ? { name: row.username, role: row.role, kind: 'user' } : null;
  });
}

export async function signOut(store: Store, sessionId: string): Promise<void> {
  principals.delete(secretHash(sessionId));
  await store.run('DELETE FROM sessions WHERE session_hash = $1', [secretHash(sessionId)]);
}
