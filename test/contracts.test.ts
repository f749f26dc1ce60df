import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { GetPath } from '../src/contracts/index.ts';
import { type AnyRoute, defineRoute } from '../src/interfaces/http/route.ts';
import { ROUTES } from '../src/interfaces/http/routes.ts';
import { ROOT } from './helpers.ts';

/**
 * src/contracts names what each GET the web app reads answers; the route declarations are held to
 * it by their type (tsc checks this file in `npm test`), and every path it names is a route.
 */
type DeclaredGet = Extract<(typeof ROUTES)[number], { method: 'GET' }>['url'];
// a contract path no GET route declares fails to compile here
const undeclared: Exclude<GetPath, DeclaredGet>[] = [];

// a GET the contract names must answer the contract's type: this handler's answer is not FireErf
defineRoute({
  method: 'GET',
  url: '/api/v1/fire/erf',
  tag: 'fire',
  access: 'public',
  summary: 'wrong on purpose',
  // @ts-expect-error persons is a number in the contract, and the curve is missing
  handle: async () => ({ persons: 'many' }),
});
// a path the contract does not name keeps its handler's own answer
defineRoute({
  method: 'GET',
  url: '/api/v1/not-in-the-contract',
  tag: 'fire',
  access: 'public',
  summary: 'free',
  handle: async () => ({ anything: true }),
});

describe('the API contract', () => {
  it('every path it names is declared as a JSON GET route', () => {
    const text = readFileSync(join(ROOT, 'src/contracts/index.ts'), 'utf8');
    const body = text.slice(text.indexOf('export interface GetAnswers'));
    const paths = [...body.matchAll(/^\s+'(\/[^']+)':/gm)].map((m) => m[1]!);
    expect(paths.length).toBeGreaterThan(20);
    const gets = new Map<string, AnyRoute>(
      ROUTES.filter((r) => r.method === 'GET').map((r) => [r.url, r]),
    );
    expect(paths.filter((p) => !gets.has(p))).toEqual(undeclared);
    expect(
      paths.filter((p) => !['json', 'geojson', undefined].includes(gets.get(p)?.reply)),
    ).toEqual([]);
  });
});
