import type { Command } from 'commander';
import { importFireFile, PROFILES } from '../../domains/fire/index.ts';
import { withStore } from './context.ts';
import { importProgress, printImportSummary, printJson } from './output.ts';

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
          const progress = importProgress();
          const summary = await importFireFile(store, file, {
            profile: opts.profile,
            mappingFile: opts.mapping,
            onProgress: progress.onProgress,
          });
          progress.stop();
          if (opts.json) printJson(summary);
          else printImportSummary(summary);
        });
      },
    );
  return imp;
}
