import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importBudgetFile } from '../src/domains/budget/import.ts';
import { importCollisionsFile } from '../src/domains/collisions/import.ts';
import { importRoadsFile } from '../src/domains/coverage/roads.ts';
import { importLayerFile, importStationsFile } from '../src/domains/coverage/stations.ts';
import { importFireFile } from '../src/domains/fire/import.ts';
import type { Store } from '../src/platform/db.ts';
import type { BatchSummary } from '../src/platform/staging.ts';
import { FIXTURES, openTemp, tempDir } from './helpers.ts';

/**
 * Issue 14, item 2: a file whose every row is rejected gives the normal summary (read N, quarantined
 * N) and a quarantine the user can list, in every domain; nothing else is written. (Collisions and
 * budget once aborted with DuckDB's "Error when sniffing file …/raw.tsv" here.) N is counted from the
 * file itself: its data lines, or its features.
 */
const BAD = join(FIXTURES, 'bad', 'import');
const dataLines = (file: string) =>
  readFileSync(file, 'utf8')
    .split(/\r?\n/)
    .filter((l) => l.trim()).length - 1;
const featureCount = (file: string) => JSON.parse(readFileSync(file, 'utf8')).features.length;

function pointsOnly(): string {
  const file = join(tempDir(), 'points.geojson');
  const point = (x: number) => ({
    type: 'Feature',
    properties: { id: `p${x}` },
    geometry: { type: 'Point', coordinates: [-122.4 + x / 100, 37.7] },
  });
  writeFileSync(
    file,
    JSON.stringify({ type: 'FeatureCollection', features: [1, 2, 3].map(point) }),
  );
  return file;
}

const domains: {
  domain: string;
  file: () => string;
  count: (file: string) => number;
  /** the domain's own tables, which must stay empty */
  tables: string[];
  run: (store: Store, file: string) => Promise<BatchSummary>;
}[] = [
  {
    domain: 'fire',
    file: () => join(BAD, 'fire/all-rows-rejected.csv'),
    count: dataLines,
    tables: ['incidents', 'unit_responses'],
    run: (s, f) => importFireFile(s, f),
  },
  {
    domain: 'collisions',
    file: () => join(BAD, 'collisions/all-rows-rejected.csv'),
    count: dataLines,
    tables: ['collisions'],
    run: (s, f) => importCollisionsFile(s, f),
  },
  {
    domain: 'budget',
    file: () => join(BAD, 'budget/all-rows-rejected.csv'),
    count: dataLines,
    tables: ['budget_lines'],
    run: (s, f) => importBudgetFile(s, f),
  },
  {
    domain: 'stations',
    file: () => join(BAD, 'stations/all-out-of-range.geojson'),
    count: featureCount,
    tables: ['stations'],
    run: (s, f) => importStationsFile(s, f),
  },
  {
    domain: 'layers',
    file: pointsOnly,
    count: featureCount,
    tables: ['map_layers'],
    run: (s, f) => importLayerFile(s, f, 'boundary'),
  },
  {
    domain: 'roads',
    file: pointsOnly,
    count: featureCount,
    tables: ['road_segments'],
    run: (s, f) => importRoadsFile(s, f),
  },
];

describe('a file whose every row is rejected imports with the normal summary, in every domain', () => {
  for (const d of domains) {
    it(`${d.domain}: read N, quarantined N, nothing else written, the quarantine lists them`, async () => {
      const { store, fire } = await openTemp();
      try {
        const file = d.file();
        const n = d.count(file);
        expect(n).toBeGreaterThan(0);
        const s = await d.run(store, file);
        expect([s.rowsRead, s.quarantined, s.inserted, s.updated, s.unchanged]).toEqual([
          n,
          n,
          0,
          0,
          0,
        ]);
        for (const t of [...d.tables, 'source_rows'])
          expect(
            (await store.one<{ n: number }>(`SELECT count(*)::INTEGER AS n FROM ${t}`))!.n,
            t,
          ).toBe(0);
        const batch = await store.one(
          'SELECT rows_read, quarantined, finished_at IS NOT NULL AS finished FROM import_batches WHERE batch_id = $1',
          [s.batchId],
        );
        expect(batch).toEqual({ rows_read: n, quarantined: n, finished: true });
        const listed = await fire.quarantine({ batch: s.batchId, limit: 100, offset: 0 });
        expect(listed.total).toBe(n);
        for (const r of listed.rows as { file: string; line: number; reason: string }[]) {
          expect(r.file).toBe(file);
          expect(r.line).toBeGreaterThan(0);
          expect(r.reason).not.toMatch(/sniffing|Error:/);
        }
      } finally {
        store.close();
      }
    });
  }
});
