import type { Command } from 'commander';
import { QuarantineQuerySchema } from '../../domains/fire/index.ts';
import { UserError } from '../../platform/errors.ts';
import { describeZodError } from '../../platform/validation.ts';
import { withFire } from './context.ts';
import { printJson, table } from './output.ts';

export function registerQuarantine(program: Command): void {
  const q = program.command('quarantine').description('rows that imports could not accept');
  q.command('list')
    .description('list quarantined rows with file, line, field and reason')
    .option('--batch <n>', 'only this import batch')
    .option('--limit <n>', 'rows to show', '100')
    .option('--offset <n>', 'rows to skip', '0')
    .option('--db <path>', 'database file')
    .option('--json', 'print JSON (includes the raw rows)')
    .action(
      async (opts: {
        batch?: string;
        limit: string;
        offset: string;
        db?: string;
        json?: boolean;
      }) => {
        const parsed = QuarantineQuerySchema.safeParse({
          batch: opts.batch,
          limit: opts.limit,
          offset: opts.offset,
        });
        if (!parsed.success)
          throw new UserError(`Invalid options:\n${describeZodError(parsed.error)}`);
        await withFire({ db: opts.db }, async (svc) => {
          const r = await svc.quarantine(parsed.data);
          if (opts.json) return printJson(r);
          if (r.total === 0) return void process.stdout.write('The quarantine is empty.\n');
          process.stdout.write(
            table(
              ['id', 'batch', 'file:line', 'field', 'reason'],
              r.rows.map((x) => [
                x.id as number,
                x.batch as number,
                `${x.file}:${x.line}`,
                (x.field as string) ?? '–',
                x.reason as string,
              ]),
            ) + '\n',
          );
          process.stdout.write(`${r.rows.length} of ${r.total} shown\n`);
        });
      },
    );
  program
    .command('imports')
    .description('list import batches with their counts')
    .option('--db <path>', 'database file')
    .option('--json', 'print JSON')
    .action(async (opts: { db?: string; json?: boolean }) => {
      await withFire({ db: opts.db }, async (svc) => {
        const rows = await svc.imports();
        if (opts.json) return printJson(rows);
        process.stdout.write(
          table(
            ['batch', 'file', 'profile', 'read', 'inserted', 'updated', 'unchanged', 'quarantined'],
            rows.map((r) => [
              r.batch,
              r.file,
              r.profile,
              r.rowsRead,
              r.inserted,
              r.updated,
              r.unchanged,
              r.quarantined,
            ]),
          ) + '\n',
        );
      });
    });
}
