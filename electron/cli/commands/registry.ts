import type { Command } from 'commander';
import { BerthError } from '../../../shared/error';
import { resolveShortName } from '../../core/reference/short-name';
import type { RegistryEnvironment } from '../../core/registry/connect';
import { parsePlatform } from '../../core/registry/platform';
import type { RegistryClient } from '../../core/registry/client';
import { globalOptions, print } from '../program';

/** The registry client (undici), loaded by the commands that reach a registry rather than by every command. */
const connect = () => import('../../core/registry/connect');

/** Reads all of stdin as text (for `--password-stdin`), without the trailing newline. */
async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

/** Opens a client for the first registry a (possibly short) name resolves to; the caller closes it. */
async function clientFor(
  name: string,
  environment: RegistryEnvironment,
): Promise<{ client: RegistryClient; repository: string; reference: string }> {
  const candidate = resolveShortName(environment.conf, name).candidates[0];
  if (!candidate) throw new BerthError('BAD_REQUEST', `cannot resolve ${name}`);
  const ref = candidate.reference;
  const client = await (await connect()).openRegistry(ref.domain, environment);
  return { client, repository: ref.path, reference: ref.digest ?? ref.tag ?? 'latest' };
}

/** Runs `use` with a client for `name` and closes the client afterwards. */
async function withClient<T>(
  name: string,
  use: (client: RegistryClient, repository: string, reference: string) => Promise<T>,
): Promise<T> {
  const environment = await (await connect()).loadRegistryEnvironment();
  const { client, repository, reference } = await clientFor(name, environment);
  try {
    return await use(client, repository, reference);
  } finally {
    await client.close();
  }
}

/** Inspects an image in its registry without pulling it: what `berth inspect --remote` prints. */
export async function inspectRemoteReference(name: string, platform?: string): Promise<unknown> {
  const { inspectRemote } = await import('../../core/registry/inspect');
  return withClient(name, (client, repository, reference) =>
    inspectRemote(
      client,
      repository,
      reference,
      platform === undefined ? {} : { platform: parsePlatform(platform) },
    ),
  );
}

/** `berth login`, `logout` and `tags` (alias `search-tags`): talking to registries without pulling. */
export function registerRegistry(program: Command): void {
  program
    .command('login')
    .description('verify credentials for a registry and save them to auth.json (mode 0600)')
    .argument('<registry>', 'registry host, e.g. ghcr.io or localhost:5000')
    .option('-u, --username <user>', 'user name')
    .option('--password-stdin', 'read the password from stdin')
    .action(
      async (registry: string, opts: { username?: string; passwordStdin?: boolean }, command: Command) => {
        const options = globalOptions(command);
        if (opts.username === undefined) throw new BerthError('BAD_REQUEST', 'login needs --username');
        if (opts.passwordStdin !== true) {
          throw new BerthError('BAD_REQUEST', 'login needs --password-stdin (the password is never a flag)');
        }
        const password = await readStdin();
        const [{ login }, { loadRegistryEnvironment }] = await Promise.all([
          import('../../core/registry/login'),
          connect(),
        ]);
        const result = await login(
          { registry, username: opts.username, password },
          await loadRegistryEnvironment(),
        );
        print(options, result, () => `Login succeeded: ${result.registry} (saved to ${result.file})`);
      },
    );

  program
    .command('logout')
    .description('remove saved credentials for a registry')
    .argument('<registry>', 'registry host')
    .action(async (registry: string, _opts: unknown, command: Command) => {
      const options = globalOptions(command);
      const [{ logout }, { loadRegistryEnvironment }] = await Promise.all([
        import('../../core/registry/login'),
        connect(),
      ]);
      const result = await logout(registry, await loadRegistryEnvironment());
      print(options, result, () =>
        result.removed
          ? `Removed login credentials for ${result.registry}`
          : `Not logged in to ${result.registry} in ${result.file}` +
            (result.elsewhere === undefined ? '' : ` (credentials remain in ${result.elsewhere})`),
      );
    });

  program
    .command('tags')
    .alias('search-tags')
    .description("list a repository's tags in its registry")
    .argument('<repository>', 'repository, e.g. alpine or ghcr.io/org/app')
    .action(async (name: string, _opts: unknown, command: Command) => {
      const options = globalOptions(command);
      const tags = await withClient(name, (client, repository) => client.listTags(repository));
      print(options, tags, () => tags.join('\n'));
    });
}
