import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import {
  importFireFile,
  incidentCount,
  loadConfig,
  loadReplay,
  play,
  REPLAY_SOURCE,
} from '../../domains/fire/index.ts';
import { addUser, deleteUserWithPassword, userCount } from '../../domains/accounts/index.ts';
import { UserError } from '../../platform/errors.ts';
import { importBudgetFile } from '../../domains/budget/index.ts';
import { importCollisionsFile } from '../../domains/collisions/index.ts';
import {
  calibrate,
  importLayerFile,
  importRoadsFile,
  importStationsFile,
  loadCoverageContext,
} from '../../domains/coverage/index.ts';
import { hasPlan, loadPlanIntoStore } from '../../domains/strategy/index.ts';
import { resolveDbPath, Store } from '../../platform/db.ts';
import { printImportSummary } from './output.ts';

export const SAMPLES_DIR = resolve(import.meta.dirname, '../../../samples');
const DEMO_USER = 'demo';
const DEMO_PASSWORD = 'cityops-demo';

/** True for addresses only this machine can reach. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/**
 * The demo account's password is printed in the README, so it may exist only while a demo runs on
 * loopback: any other start removes it.
 */
const removeDemoAccount = (store: Store) => deleteUserWithPassword(store, DEMO_USER, DEMO_PASSWORD);

/** The bundled cities: a configuration in samples/cities/ and the samples it loads. */
export const SAMPLE_CITIES = ['san-francisco', 'slo-county'] as const;
export type SampleCity = (typeof SAMPLE_CITIES)[number];
export const sampleCityConfig = (city: SampleCity) => join(SAMPLES_DIR, 'cities', `${city}.yaml`);

/** Imports a bundled city's samples; re-running changes nothing. */
export async function loadSamples(
  store: Store,
  quiet = false,
  city: SampleCity = 'san-francisco',
): Promise<void> {
  if (city === 'slo-county') {
    const crashes = await importCollisionsFile(
      store,
      join(SAMPLES_DIR, 'collisions', 'slo_county_tims_crashes_2011_2020.csv.gz'),
    );
    if (!quiet)
      process.stdout.write(
        `Imported the SLO County collisions: ${crashes.rowsRead} crashes (${crashes.inserted} new)\n`,
      );
    return;
  }
  const fireDir = join(SAMPLES_DIR, 'fire');
  for (const name of readdirSync(fireDir)
    .filter((f) => f.endsWith('.csv'))
    .sort()) {
    const summary = await importFireFile(store, join(fireDir, name), { profile: 'sf-fire-calls' });
    if (!quiet) printImportSummary(summary);
  }
  const budget = await importBudgetFile(
    store,
    join(SAMPLES_DIR, 'budget', 'oakland_budget_line_items.csv.gz'),
    { profile: 'oakland' },
  );
  if (!quiet)
    process.stdout.write(
      `Imported the Oakland budget: ${budget.rowsRead} lines (${budget.inserted} new)\n`,
    );
  const crashes = await importCollisionsFile(
    store,
    join(SAMPLES_DIR, 'collisions', 'slo_county_tims_crashes_2011_2020.csv.gz'),
  );
  if (!quiet)
    process.stdout.write(
      `Imported the SLO County collisions: ${crashes.rowsRead} crashes (${crashes.inserted} new)\n`,
    );
  const geo = join(SAMPLES_DIR, 'geo');
  const roads = await importRoadsFile(store, join(geo, 'sf-ne-osm-2026-drive.geojson.gz'), {
    source: 'sf-ne-osm-2026',
  });
  const stations = await importStationsFile(store, join(geo, 'sf-fire-stations.geojson'));
  for (const [file, layer] of [
    ['sf-boundary.geojson', 'boundary'],
    ['sf-tracts-2020.geojson', 'tracts'],
  ] as const)
    await importLayerFile(store, join(geo, file), layer);
  if (!quiet)
    process.stdout.write(
      `Imported the SF north-east road network (${roads.segments} ways), ${stations.stations} fire stations, the city boundary and census tracts\n`,
    );
  // drive times are calibrated from the CAD travel times before anything uses them
  const fit = await calibrate(store, await loadCoverageContext(store));
  if (!quiet)
    process.stdout.write(
      `Calibrated drive times: apparatus at ${(fit.factor * 100).toFixed(0)}% of posted speed (${fit.n} responses; p90 observed ${Math.round(fit.observedP90)} s, predicted ${Math.round(fit.predictedP90)} s)\n`,
    );
  if (!(await hasPlan(store)))
    await loadPlanIntoStore(store, join(SAMPLES_DIR, 'strategy', 'example-plan.yaml'));
}

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('run the HTTP API (and web pages) over the database')
    .option('--db <path>', 'database file (default $CITYOPS_DB or ./data/cityops.duckdb)')
    .option('--config <file>', 'analysis settings (JSON or YAML)')
    .option('--port <n>', 'port', process.env.PORT ?? '3000')
    .option('--host <addr>', 'address to listen on (loopback by default)', '127.0.0.1')
    .option(
      '--secure-cookies',
      'mark the session cookie Secure (the default when --host is not loopback; always for HTTPS requests)',
    )
    .option('--no-secure-cookies', 'never mark it Secure (plain HTTP on a trusted network)')
    .option(
      '--trust-proxy',
      'believe X-Forwarded-For/-Proto from a reverse proxy (for HTTPS detection and rate limits)',
    )
    .option(
      '--demo',
      'loopback only: load the bundled samples if the database is empty, add a demo user, and replay the SF file as a live feed',
    )
    .option('--speed <x>', 'demo replay speed, times real time', '10')
    .action(
      async (opts: {
        db?: string;
        config?: string;
        port: string;
        host: string;
        demo?: boolean;
        speed: string;
        secureCookies?: boolean;
        trustProxy?: boolean;
      }) => {
        if (opts.demo && !isLoopback(opts.host)) {
          throw new UserError(
            `--demo creates an admin whose password is published, so it listens on loopback only; drop --host ${opts.host} or --demo.`,
          );
        }
        // the demo is the bundled San Francisco configuration plus its samples
        const config = loadConfig(
          opts.config ?? (opts.demo ? sampleCityConfig('san-francisco') : undefined),
        );
        const [{ buildApp }, { LiveService }, { stopServing, SHUTDOWN_LIMIT_MS }] =
          await Promise.all([
            import('../http/app.ts'),
            import('../../domains/fire/index.ts'),
            import('../http/shutdown.ts'),
          ]);
        const store = await Store.open(resolveDbPath(opts.db));
        if (opts.demo) {
          if ((await incidentCount(store)) === 0) {
            process.stdout.write('Loading the bundled San Francisco samples…\n');
            await loadSamples(store);
          }
        }
        if (!opts.demo && (await removeDemoAccount(store)))
          process.stdout.write('Removed the demo account (its password is published).\n');
        const live = await LiveService.open(store, config.timeZone);
        const secureCookies = opts.secureCookies ?? !isLoopback(opts.host);
        const app = await buildApp({
          store,
          config,
          logger: true,
          live,
          secureCookies,
          trustProxy: opts.trustProxy ?? false,
        });
        const stopReplay = new AbortController();
        let stopping = false;
        const stop = (signal: NodeJS.Signals) => {
          if (stopping) return;
          stopping = true;
          process.stdout.write(`${signal}: stopping (streams end, the work under way finishes)…\n`);
          setTimeout(() => {
            process.stderr.write(
              `cityops: still stopping after ${SHUTDOWN_LIMIT_MS / 1000} s: exiting now (an unfinished transaction is not kept)\n`,
            );
            process.exit(1);
          }, SHUTDOWN_LIMIT_MS).unref();
          stopReplay.abort();
          stopServing(app, store).then(
            () => {
              process.stdout.write('Stopped: the database is checkpointed and closed.\n');
              process.exit(0);
            },
            (e: Error) => {
              process.stderr.write(`cityops: stopping failed: ${e.message}\n`);
              process.exit(1);
            },
          );
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
        const address = await app.listen({ port: Number(opts.port), host: opts.host });
        process.stdout.write(`CityOps is serving ${store.path} at ${address}/\n`);
        if (opts.demo) {
          if ((await userCount(store)) === 0)
            await addUser(store, DEMO_USER, 'admin', DEMO_PASSWORD);
          process.stdout.write(
            `Demo: sign in as ${DEMO_USER} / ${DEMO_PASSWORD} (loopback only; create real users with cityops user add).\n`,
          );
          const events = await loadReplay(
            join(SAMPLES_DIR, 'fire', 'sf_fire_calls_2020-04-07_to_2020-04-20.csv'),
          );
          process.stdout.write(
            `Demo: replaying ${events.length} status events as a live feed at ${opts.speed}×.\n`,
          );
          void play(events, {
            speed: Number(opts.speed),
            warmup: 7200,
            loop: true,
            signal: stopReplay.signal,
            send: async (batch) => {
              await live.ingest(batch, 'demo replay', REPLAY_SOURCE);
            },
          }).catch((e: Error) => app.log.error(e, 'demo replay stopped'));
        }
      },
    );

  const samples = program.command('samples').description('the bundled real sample data');
  samples
    .command('load')
    .description(
      "load a bundled city's samples into the database (san-francisco: fire CAD calls, stations, roads, with the Oakland budget and SLO collisions; slo-county: collisions only)",
    )
    .option('--db <path>', 'database file')
    .option(
      '--city <name>',
      `${SAMPLE_CITIES.join(' or ')}; serve it with --config samples/cities/<name>.yaml`,
      'san-francisco',
    )
    .action(async (opts: { db?: string; city: string }) => {
      if (!(SAMPLE_CITIES as readonly string[]).includes(opts.city))
        throw new UserError(
          `Unknown sample city "${opts.city}". Cities: ${SAMPLE_CITIES.join(', ')}`,
        );
      const store = await Store.open(resolveDbPath(opts.db));
      try {
        await loadSamples(store, false, opts.city as SampleCity);
      } finally {
        store.close();
      }
    });
}
