import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import {
  addUser,
  createToken,
  deleteUser,
  listTokens,
  listUsers,
  newSecret,
  revokeToken,
  TOKEN_ROLES,
  USER_ROLES,
} from '../../domains/accounts/index.ts';
import { withStore } from './context.ts';
import { table } from './output.ts';

async function readFirstLine(): Promise<string> {
  const rl = createInterface({ input: process.stdin });
  for await (const line of rl) {
    rl.close();
    return line;
  }
  return '';
}

export function registerAccounts(program: Command): void {
  const user = program
    .command('user')
    .description('staff accounts (passwords stored as scrypt hashes)');
  user
    .command('add')
    .description(
      'add a user; without --password-stdin a strong password is generated and printed once',
    )
    .argument('<name>', 'user name')
    .requiredOption('--role <role>', `one of ${USER_ROLES.join(', ')}`)
    .option('--password-stdin', 'read the password from the first line of standard input')
    .option('--db <path>', 'database file')
    .action(async (name: string, opts: { role: string; passwordStdin?: boolean; db?: string }) => {
      const generated = !opts.passwordStdin;
      const password = generated ? newSecret().slice(0, 20) : await readFirstLine();
      await withStore(opts, (store) => addUser(store, name, opts.role, password));
      process.stdout.write(
        `Added ${name} (${opts.role}).${generated ? `\nPassword (shown once): ${password}` : ''}\n`,
      );
    });

  user
    .command('delete')
    .description('delete a user and end their sessions')
    .argument('<name>', 'user name')
    .option('--db <path>', 'database file')
    .action(async (name: string, opts: { db?: string }) => {
      await withStore(opts, (store) => deleteUser(store, name));
      process.stdout.write(`Deleted ${name} and their sessions.\n`);
    });
  user
    .command('list')
    .description('users with their role and open sessions')
    .option('--db <path>', 'database file')
    .action(async (opts: { db?: string }) => {
      const users = await withStore(opts, listUsers);
      const rows = users.map((u) => [u.name, u.role, u.created, u.sessions]);
      process.stdout.write(
        users.length
          ? `${table(['user', 'role', 'created', 'open sessions'], rows)}\n`
          : 'No users.\n',
      );
    });

  const token = program
    .command('token')
    .description('API tokens for machines (stored as SHA-256 hashes)');
  token
    .command('create')
    .description('create a bearer token and print it once')
    .requiredOption('--name <name>', 'what uses it, e.g. "CAD feed"')
    .requiredOption(
      '--role <role>',
      `one of ${TOKEN_ROLES.join(', ')} (ingest may only post CAD events)`,
    )
    .option('--db <path>', 'database file')
    .action(async (opts: { name: string; role: string; db?: string }) => {
      const t = await withStore(opts, (store) => createToken(store, opts.name, opts.role));
      process.stdout.write(`${t}\n`);
    });
  token
    .command('list')
    .description('tokens by id (the start of their hash), name, role and whether revoked')
    .option('--db <path>', 'database file')
    .action(async (opts: { db?: string }) => {
      const tokens = await withStore(opts, listTokens);
      const rows = tokens.map((t) => [t.id, t.name, t.role, t.created, t.revoked ?? 'active']);
      process.stdout.write(
        tokens.length
          ? `${table(['id', 'name', 'role', 'created', 'revoked'], rows)}\n`
          : 'No tokens.\n',
      );
    });
  token
    .command('revoke')
    .description('revoke a token at once; it answers 401 from then on')
    .argument('<id>', 'the id from cityops token list, or the token itself')
    .option('--db <path>', 'database file')
    .action(async (id: string, opts: { db?: string }) => {
      const t = await withStore(opts, (store) => revokeToken(store, id));
      process.stdout.write(`Revoked token ${t.id} (${t.name}).\n`);
    });
}
