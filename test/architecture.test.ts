import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers.ts';

/**
 * The import rules of docs/ARCHITECTURE.md, checked on every source file:
 * platform knows no domain and no interface; a domain never uses an interface, and uses another
 * domain only through that domain's index.ts; SQL lives in platform and domains, never in interfaces.
 */
const SRC = join(ROOT, 'src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? sourceFiles(p) : /\.tsx?$/.test(name) ? [p] : [];
  });
}

/** platform, interfaces/<name>, domains/<name> */
function area(file: string): { layer: string; name: string } {
  const [layer = '', name = ''] = relative(SRC, file).split('/');
  return { layer, name: layer === 'platform' ? '' : name };
}

function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)].map((m) =>
    resolve(dirname(file), m[1]!),
  );
}

const files = sourceFiles(SRC);

describe('architecture: the folders keep to their import rules', () => {
  it('every source file is in platform, a domain or an interface', () => {
    const stray = files
      .filter((f) => !['platform', 'domains', 'interfaces', 'contracts'].includes(area(f).layer))
      .map((f) => relative(ROOT, f));
    expect(stray).toEqual([]);
  });

  it('platform imports no domain and no interface', () => {
    const bad = files
      .filter((f) => area(f).layer === 'platform')
      .flatMap((f) =>
        imports(f)
          .filter((t) => ['domains', 'interfaces'].includes(area(t).layer))
          .map((t) => `${relative(SRC, f)} -> ${relative(SRC, t)}`),
      );
    expect(bad).toEqual([]);
  });

  it('no domain imports an interface', () => {
    const bad = files
      .filter((f) => area(f).layer === 'domains')
      .flatMap((f) =>
        imports(f)
          .filter((t) => area(t).layer === 'interfaces')
          .map((t) => `${relative(SRC, f)} -> ${relative(SRC, t)}`),
      );
    expect(bad).toEqual([]);
  });

  it('a folder reaches another domain only through its index.ts', () => {
    const bad = files.flatMap((f) =>
      imports(f)
        .filter(
          (t) =>
            area(t).layer === 'domains' &&
            (area(f).layer !== 'domains' || area(f).name !== area(t).name),
        )
        .filter((t) => relative(join(SRC, 'domains', area(t).name), t) !== 'index.ts')
        .map((t) => `${relative(SRC, f)} -> ${relative(SRC, t)}`),
    );
    expect(bad).toEqual([]);
  });

  it('no SQL in interfaces: HTTP and CLI call domain functions', () => {
    const sql =
      /\b(SELECT\s+[\w*(]|INSERT\s+INTO\b|UPDATE\s+\w+\s+SET\b|DELETE\s+FROM\b|CREATE\s+TABLE\b)/;
    const bad = files
      .filter((f) => area(f).layer === 'interfaces' && sql.test(readFileSync(f, 'utf8')))
      .map((f) => relative(SRC, f));
    expect(bad).toEqual([]);
  });

  it('the demo replay is left out of analyses in one place (the analytic views), not by hand', () => {
    // analyses read analytic_incidents / analytic_unit_responses / analytic_batches; only the live
    // feed's own code names the replay source
    const allowed = ['platform/migrations.ts', 'domains/fire/live.ts', 'domains/fire/index.ts'];
    const bad = files
      .filter((f) => area(f).layer !== 'interfaces' && !allowed.includes(relative(SRC, f)))
      .filter((f) => /REPLAY_SOURCE|'replay'/.test(readFileSync(f, 'utf8')))
      .map((f) => relative(SRC, f));
    expect(bad).toEqual([]);
  });

  it('the code cites specifications in the repository, not files elsewhere', () => {
    const outside = /\b(fire|streets|routing|strategy-budget)\.md\b|shared\/docs/;
    const bad = files
      .filter((f) =>
        readFileSync(f, 'utf8')
          .split('\n')
          .some((l) => outside.test(l.replace(/docs\/[\w-]+\.md/g, ''))),
      )
      .map((f) => relative(SRC, f));
    expect(bad).toEqual([]);
  });
});

/**
 * The web app reads the API through src/contracts (docs/ARCHITECTURE.md, "the web client"): the
 * answer types are declared there once, the server's routes are checked against them, and the
 * web app neither re-declares nor casts them.
 */
const WEB = join(ROOT, 'web', 'src');
const CONTRACTS = join(SRC, 'contracts');
const webFiles = sourceFiles(WEB);
const contractFiles = files.filter((f) => area(f).layer === 'contracts');
const contractTypes = new Set(
  contractFiles.flatMap((f) =>
    [...readFileSync(f, 'utf8').matchAll(/export (?:interface|type) (\w+)/g)].map((m) => m[1]!),
  ),
);

/** Each import or re-export with its specifier, and whether it brings types only. */
function statements(file: string): { spec: string; typeOnly: boolean; target: string | null }[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/^(?:import|export)(\s+type)?\b[^;]*?\bfrom\s*'([^']+)'/gms)].map(
    (m) => ({
      spec: m[2]!,
      typeOnly: m[1] !== undefined || /^export type \*/.test(m[0]),
      target: m[2]!.startsWith('.') ? resolve(dirname(file), m[2]!) : null,
    }),
  );
}

describe('architecture: the web app reads the API through src/contracts', () => {
  it('src/contracts is pure types: it imports only other contracts and GeoJSON types', () => {
    expect(contractFiles.length).toBeGreaterThan(0);
    const bad = contractFiles.flatMap((f) =>
      statements(f)
        .filter(
          (s) =>
            !s.typeOnly ||
            (s.target ? !s.target.startsWith(CONTRACTS + '/') : s.spec !== 'geojson'),
        )
        .map((s) => `${relative(SRC, f)} -> ${s.spec}`),
    );
    expect(bad).toEqual([]);
  });

  it('web/ takes nothing from the server but the contracts, and only their types', () => {
    const bad = webFiles.flatMap((f) =>
      statements(f)
        .filter((s) => s.target && !s.target.startsWith(WEB + '/'))
        .filter((s) => !s.typeOnly || !s.target!.startsWith(CONTRACTS + '/'))
        .map((s) => `${relative(ROOT, f)} -> ${s.spec}`),
    );
    expect(bad).toEqual([]);
  });

  it('web/ declares no answer type of its own and casts no answer', () => {
    const names = [...contractTypes].join('|');
    const rules: [string, RegExp][] = [
      ['re-declares a contract type', new RegExp(`\\b(?:interface|type) (?:${names})\\b`)],
      ['casts to a contract type', new RegExp(`\\bas (?:${names})\\b`)],
      ['casts fetched JSON', /\.json\(\)\s*as\b/],
      ['forces an answer into GeoJSON', /\bas (?:unknown as )?GeoJSON\./],
      // the path decides the answer's type; a type argument would override it
      ['names the answer type of a request', /(?<!function )\b(?:api|get|useQuery)<[^>(]/],
    ];
    const bad = webFiles.flatMap((f) => {
      const text = readFileSync(f, 'utf8');
      return rules.filter(([, re]) => re.test(text)).map(([why]) => `${relative(ROOT, f)} ${why}`);
    });
    expect(bad).toEqual([]);
  });
});
