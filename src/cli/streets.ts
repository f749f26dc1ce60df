import type { Command } from 'commander';
import { UserError } from '../core/errors.ts';
import { describeZodError } from '../fire/mapping.ts';
import { COLLISION_PROFILES, importCollisionsFile } from '../streets/import.ts';
import { streetsSummary, StreetsSummaryQuerySchema, WEIGHT_SETS } from '../streets/summary.ts';
import { withStore } from './context.ts';
import { printJson, table } from './output.ts';

export function registerStreets(program: Command, imp: Command): void {
  imp.command('collisions')
    .description('import road collisions (TIMS/SWITRS export; .gz accepted)')
    .argument('<file>', 'CSV file')
    .option('--profile <name>', `profile: ${COLLISION_PROFILES.join(', ')} (default tims)`)
    .option('--db <path>', 'database file')
    .option('--json', 'print the summary as JSON')
    .action(async (file: string, opts: { profile?: string; db?: string; json?: boolean }) => {
      await withStore(opts, async (store) => {
        const s = await importCollisionsFile(store, file, { profile: opts.profile });
        if (opts.json) return printJson(s);
        process.stdout.write(`Imported ${s.file} (batch ${s.batchId}): read ${s.rowsRead}, inserted ${s.inserted}, updated ${s.updated}, unchanged ${s.unchanged}, ` +
          `quarantined ${s.quarantined}${Object.keys(s.warnings).length ? `; ${Object.entries(s.warnings).map(([k, v]) => `${k} ${v}`).join(', ')}` : ''}\n`);
      });
    });
  const streets = program.command('streets').description('road safety: collisions, severity, EPDO');
  streets.command('summary')
    .description('crashes by KABCO severity with an EPDO score; per year, severity or mode with --by')
    .option('--by <key>', 'year, severity or mode')
    .option('--weights <set>', `EPDO weights: ${Object.keys(WEIGHT_SETS).join(', ')}`, 'hsm')
    .option('--db <path>', 'database file')
    .option('--json', 'print JSON')
    .action(async (opts: { by?: string; weights: string; db?: string; json?: boolean }) => {
      const q = StreetsSummaryQuerySchema.safeParse({ by: opts.by, weights: opts.weights });
      if (!q.success) throw new UserError(`Invalid options:\n${describeZodError(q.error)}`);
      await withStore(opts, async (store) => {
        const s = await streetsSummary(store, q.data);
        if (opts.json) return printJson(s);
        const rows = s.groups ?? [{ key: 'all', ...s }];
        process.stdout.write(table([q.data.by ?? '', 'crashes', 'K', 'A', 'B', 'C', 'O', 'killed', 'injured', `EPDO (${q.data.weights})`],
          rows.map((g) => [g.key, g.crashes, g.bySeverity.K, g.bySeverity.A, g.bySeverity.B, g.bySeverity.C, g.bySeverity.O, g.killed, g.injured, g.epdo.value])) + '\n');
      });
    });
}
