import { createHash, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { Gate } from '../../platform/gate.ts';

const scryptAsync = promisify(scrypt) as (
  pw: string,
  salt: Buffer,
  len: number,
  opts: { N: number; r: number; p: number; maxmem: number },
) => Promise<Buffer>;

/**
 * scrypt parameters: N = 2^17, r = 8, p = 1 (OWASP's minimum). Each hash needs 128 MiB and a few
 * hundred milliseconds, so at most two run at once: a burst of sign-ins queues instead of
 * taking the server's memory.
 */
export const SCRYPT_N = 2 ** 17;
const R = 8,
  P = 1,
  LEN = 32;
const MAXMEM = 256 * 1024 * 1024;
/** The largest N a stored hash may name (a forged hash must not make us allocate gigabytes). */
const MAX_N = 2 ** 18;
const hashing = new Gate(2);

const derive = (password: string, salt: Buffer, len: number, n: number, r: number, p: number) =>
  hashing.run(() => scryptAsync(password, salt, len, { N: n, r, p, maxmem: MAXMEM }));

/** A self-describing hash: scrypt$N$r$p$salt$key (base64url). */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, LEN, SCRYPT_N, R, P);
  return ['scrypt', SCRYPT_N, R, P, salt.toString('base64url'), key.toString('base64url')].join(
    '$',
  );
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [kind, n, r, p, salt, key] = stored.split('$');
  if (kind !== 'scrypt' || !salt || !key) return false;
  const [cost, blocks, lanes] = [Number(n), Number(r), Number(p)];
  if (!(cost >= 2 && cost <= MAX_N && blocks >= 1 && blocks <= 16 && lanes >= 1 && lanes <= 4))
    return false;
  const expected = Buffer.from(key, 'base64url');
  const actual = await derive(
    password,
    Buffer.from(salt, 'base64url'),
    expected.length,
    cost,
    blocks,
    lanes,
  );
  return timingSafeEqual(actual, expected);
}

/** True when a stored hash was made with weaker parameters than today's (it is re-hashed at the next sign-in). */
export function needsRehash(stored: string): boolean {
  const [kind, n, r] = stored.split('$');
  return kind !== 'scrypt' || Number(n) < SCRYPT_N || Number(r) < R;
}

/** A random secret for tokens and sessions (256 bits, URL-safe). */
export function newSecret(prefix = ''): string {
  return prefix + randomBytes(32).toString('base64url');
}

/** Tokens and session ids are high-entropy, so a plain SHA-256 is the right hash to store them under. */
export function secretHash(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}
