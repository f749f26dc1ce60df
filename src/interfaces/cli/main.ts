import { Command } from 'commander';
import { registerAccounts } from './accounts.ts';
import { registerBudget } from './budget.ts';
import { registerStrategy } from './strategy.ts';
import { registerStreets } from './collisions.ts';
import { registerCoverage } from './coverage.ts';
import { registerReplay } from './replay.ts';
import { registerReport } from './report.ts';
import { UserError } from '../../platform/errors.ts';
import { DEFAULT_MEMORY_LIMIT } from '../../platform/db.ts';
import { registerFire } from './fire.ts';
import { registerImport } from './import.ts';
import { registerQuarantine } from './quarantine.ts';
import { registerServe } from './serve.ts';

const program = new Command('cityops')
  .description(
    'CityOps: operations intelligence for city governments: fire and EMS response, budget and strategy',
  )
  .version('0.1.0')
  .showHelpAfterError('(run with --help for usage)')
  .addHelpText(
    'after',
    `
Environment:
  CITYOPS_DB             database file when --db is not given (default ./data/cityops.duckdb)
  CITYOPS_MEMORY_LIMIT   DuckDB's memory limit, such as 512MB or 8GB (default ${DEFAULT_MEMORY_LIMIT}); past it,
                         DuckDB spills to a folder beside the database, so imports of any size stay bounded`,
  );

const imp = registerImport(program);
registerBudget(program, imp);
registerStrategy(program);
registerStreets(program, imp);
registerCoverage(program, imp);
registerFire(program);
registerQuarantine(program);
registerServe(program);
registerAccounts(program);
registerReplay(program);
registerReport(program);

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof UserError) {
    process.stderr.write(`cityops: ${e.message}\n`);
    process.exit(e.exitCode);
  }
  process.stderr.write(`cityops: unexpected error: ${(e as Error).stack ?? e}\n`);
  process.exit(1);
}
