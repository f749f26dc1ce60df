import type { Command } from 'commander';
import {
  importFireFile,
  PROFILES,
  type ImportStage,
  type ImportSummary,
} from '../../domains/fire/index.ts';
import { withStore } from './context.ts';
import { printJson, progressBar } from './output.ts';

export function printImportSummary(s: ImportSummary): void {
  const warnings = Object.entries(s.warnings);
  process.stdout.write(
    [
      `Imported ${s.file} (batch ${s.batchId}, profile ${s.profile})`,
      `  read         ${s.rowsRead}`,
      `  inserted     ${s.inserted}`,
      `  updated      ${s.updated}`,
      `  unchanged    ${s.unchanged}`,
      `  quarantined  ${s.quarantined}${s.quarantined ? `   (see: cityops quarantine list --batch ${s.batchId})` : ''}`,
      `  warnings     ${warnings.length ? warnings.map(([k, v]) => `${k} ${v}`).join(', ') : 'none'}`,
      ...(s.notes ?? []).map((n) => `  note         ${n}`),
      '',
    ].join('\n'),
  );
}

export function registerImport(program: Command): Command {
  const imp = program.command('import').description('import source data into the database');
  imp
    .command('fire')
    .description(
      'import a CAD export: SF open data, narrow status events, NERIS JSON, or any export through a mapping file',
    )
    .argument('<file>', 'CSV or JSON file')
    .option(
      '--profile <name>',
      `built-in profile: ${Object.keys(PROFILES).join(', ')} (detected from the columns if omitted)`,
    )
    .option('--mapping <file>', 'mapping file (JSON or YAML) describing another export')
    .option('--db <path>', 'database file (default $CITYOPS_DB or ./data/cityops.duckdb)')
    .option('--json', 'print the summary as JSON')
    .addHelpText(
      'after',
      `
Re-importing a file changes nothing; rows that changed since (a later Available stamp, say) are updated.
Rows that cannot be read go to the quarantine with file, line, field and reason: cityops quarantine list.
One import is one transaction: if it fails or is killed, the database is as it was.`,
    )
    .action(
      async (
        file: string,
        opts: { profile?: string; mapping?: string; db?: string; json?: boolean },
      ) => {
        await withStore(opts, async (store) => {
          // a bar for reading the file, then one for writing it, on files over 2 MB
          let bar: ReturnType<typeof progressBar> | null = null;
          let stage: ImportStage | null = null;
          let large = false;
          const summary = await importFireFile(store, file, {
            profile: opts.profile,
            mappingFile: opts.mapping,
            onProgress: (done, total, next) => {
              if (next !== stage) {
                bar?.stop();
                if (next === 'reading') large = total > 2e6;
                stage = next;
                bar = !large
                  ? null
                  : next === 'reading'
                    ? progressBar('Reading', total)
                    : progressBar('Writing', total, 'steps');
              }
              bar?.update(done);
            },
          });
          (bar as ReturnType<typeof progressBar> | null)?.stop();
          if (opts.json) printJson(summary);
          else printImportSummary(summary);
        });
      },
    );
  return imp;
}
