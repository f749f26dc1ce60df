import type { Command } from 'commander';
import { UserError } from '../../platform/errors.ts';
import { loadReplay, play } from '../../domains/fire/index.ts';

export function registerReplay(program: Command): void {
  program
    .command('replay')
    .description(
      'replay a San Francisco-format CAD file as a live feed to a CityOps server, shifted to the present',
    )
    .argument('<file>', 'CAD file (CSV, one row per unit response)')
    .option('--speed <x>', 'times faster than real time', '60')
    .option('--url <url>', 'server', 'http://127.0.0.1:3000')
    .requiredOption(
      '--token <token>',
      'a token with the ingest role (cityops token create --role ingest)',
    )
    .option('--loop', 'start again at the end')
    .option('--warmup <minutes>', 'data minutes to send at once, so the board starts busy', '120')
    .action(
      async (
        file: string,
        opts: { speed: string; url: string; token: string; loop?: boolean; warmup: string },
      ) => {
        const speed = Number(opts.speed);
        if (!(speed > 0)) throw new UserError('--speed must be a positive number');
        const events = await loadReplay(file);
        process.stdout.write(
          `Replaying ${events.length} status events from ${file} at ${speed}× to ${opts.url}\n`,
        );
        let sent = 0;
        await play(events, {
          speed,
          warmup: Number(opts.warmup) * 60,
          loop: !!opts.loop,
          send: async (batch) => {
            const r = await fetch(new URL('/api/v1/cad/events?source=replay', opts.url), {
              method: 'POST',
              headers: {
                authorization: `Bearer ${opts.token}`,
                'content-type': 'application/json',
              },
              body: JSON.stringify(batch),
            });
            if (!r.ok)
              throw new UserError(
                `The server answered ${r.status}: ${(await r.text()).slice(0, 500)}`,
              );
            sent += batch.length;
            if (process.stdout.isTTY) process.stdout.write(`\r${sent} events sent`);
          },
        });
        process.stdout.write(`\nDone: ${sent} events.\n`);
      },
    );
}
