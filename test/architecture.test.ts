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
