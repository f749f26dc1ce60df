import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { openSession } from '../../domains/accounts/index.ts';
import { UserError } from '../../platform/errors.ts';
import { loadConfig } from '../../domains/fire/index.ts';
import { withStore } from './context.ts';

export function registerReport(program: Command): void {
  const report = program
    .command('report')
    .description('printable reports (PDF, via headless Chromium)');
  report
    .command('fire')
    .description(
      'monthly Standards-of-Cover-style fire report: baseline vs benchmark, charts, by station, data quality',
    )
    .requiredOption('--month <YYYY-MM>', 'the month')
    .requiredOption('--out <file.pdf>', 'where to write the PDF')
    .option('--db <path>', 'database file')
    .option('--config <file>', 'analysis settings')
    .action(async (opts: { month: string; out: string; db?: string; config?: string }) => {
      if (!/^\d{4}-(0[1-9]|1[0-2])$/.test(opts.month))
        throw new UserError('--month must be YYYY-MM');
      // the server, Vite and Chromium's driver load only for the commands that use them
      const [{ buildApp, ensureWebBuilt }, { renderFireReport }, { SESSION_COOKIE }] =
        await Promise.all([
          import('../http/app.ts'),
          import('../reports/pdf.ts'),
          import('../http/auth.ts'),
        ]);
      await ensureWebBuilt();
      await withStore(opts, async (store) => {
        const app = await buildApp({ store, config: loadConfig(opts.config) });
        const base = await app.listen({ port: 0, host: '127.0.0.1' });
        try {
          const session = await openSession(store, 'report-renderer', 'viewer', 10);
          const pdf = await renderFireReport({
            baseUrl: base,
            sessionCookie: { name: SESSION_COOKIE, value: session },
            month: opts.month,
          });
          writeFileSync(opts.out, pdf);
          process.stdout.write(`Wrote ${opts.out} (${Math.round(pdf.length / 1024)} KB)\n`);
        } finally {
          await app.close();
        }
      });
    });
}
