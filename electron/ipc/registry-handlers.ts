import type { Handlers, RegistriesOverview, RemoteImageSummary, UpdateCheck } from '../../shared/contract';
import { BerthError } from '../../shared/error';
import { formatReference, parseReference, repositoryOf, type Reference } from '../../shared/reference';
import { listCredentials } from '../core/reference/credentials';
import { resolveShortName } from '../core/reference/short-name';
import type { RegistryEnvironment, SavedLogins } from '../core/registry/connect';
import { parsePlatform } from '../core/registry/platform';
import type { RegistryClient } from '../core/registry/client';
import type { ImageStore } from '../core/store/image-store';

/** The operations that talk to registries or registries.conf without pulling. */
export type RegistryOperations =
  | 'reference:resolve'
  | 'remote:tags'
  | 'remote:inspect'
  | 'registries:list'
  | 'registries:login'
  | 'registries:logout'
  | 'images:check-update';

/**
 * Handlers for resolving names, listing remote tags, inspecting remote images, reading registries.conf,
 * logging in and out, and checking a stored image against its registry. `env` is asked on each call, so
 * edits to registries.conf and auth files show at once.
 */
export function createRegistryHandlers(
  env: () => Promise<RegistryEnvironment>,
  images: () => Promise<ImageStore>,
): Pick<Handlers, RegistryOperations> {
  return {
    'reference:resolve': async ({ reference }) => {
      const resolution = resolveShortName((await env()).conf, text(reference, 'reference'));
      return {
        input: resolution.input,
        shortName: resolution.shortName,
        candidates: resolution.candidates.map((c) => ({
          reference: formatReference(c.reference),
          origin: c.origin,
        })),
        blocked: resolution.blocked,
        ambiguous: resolution.ambiguous,
        summary: resolution.summary,
      };
    },
    'remote:tags': async ({ repository }) => {
      const name = text(repository, 'repository');
      if (/[:@]/.test(name.slice(name.lastIndexOf('/') + 1))) {
        throw new BerthError('BAD_REQUEST', `${JSON.stringify(name)} is a repository with no tag or digest`);
      }
      return withRemote(await env(), name, async (client, ref) => ({
        repository: `${ref.domain}/${ref.path}`,
        tags: await client.listTags(ref.path),
      }));
    },
    'remote:inspect': async ({ reference, platform }) => {
      const chosen =
        platform === undefined || platform === '' ? undefined : parsePlatform(text(platform, 'platform'));
      return withRemote(await env(), text(reference, 'reference'), async (client, ref) => {
        const { inspectRemote } = await import('../core/registry/inspect');
        const remote = await inspectRemote(
          client,
          ref.path,
          ref.digest ?? ref.tag ?? 'latest',
          chosen ? { platform: chosen } : {},
        );
        const summary: RemoteImageSummary = {
          name: remote.name,
          digest: remote.digest,
          mediaType: remote.mediaType,
          platforms: remote.platforms,
          size: remote.size,
        };
        if (remote.created !== undefined) summary.created = remote.created;
        return summary;
      });
    },
    'registries:list': async () => overview(await env()),
    'registries:login': async ({ registry, username, password }) =>
      (await import('../core/registry/login')).login(
        {
          registry: text(registry, 'registry'),
          username: typeof username === 'string' ? username : '',
          password: typeof password === 'string' ? password : '',
        },
        await env(),
      ),
    'registries:logout': async ({ registry }) =>
      (await import('../core/registry/login')).logout(text(registry, 'registry'), await env()),
    'images:check-update': async ({ image, name }) => {
      const details = await (await images()).inspect(text(image, 'image'));
      const chosen = name === undefined ? details.repoTags[0] : text(name, 'name');
      if (chosen === undefined) {
        throw new BerthError(
          'BAD_REQUEST',
          `image ${details.id.slice(7, 19)} has no name, so there is nothing to check in a registry`,
        );
      }
      return withRemote(await env(), chosen, async (client, ref): Promise<UpdateCheck> => {
        const tag = ref.digest ?? ref.tag ?? 'latest';
        const head = await client.headManifest(ref.path, tag).catch(() => undefined);
        const remoteDigest = head?.digest ?? (await client.resolveManifest(ref.path, tag)).digest;
        const repository = repositoryOf(ref);
        const known = [details.digest, ...details.repoDigests.filter((d) => d.startsWith(`${repository}@`))];
        return {
          name: formatReference(ref),
          localDigest: details.digest,
          remoteDigest,
          upToDate: known.some((d) => d === remoteDigest || d.endsWith(`@${remoteDigest}`)),
        };
      });
    },
  };
}

/** A non-empty string param, or BAD_REQUEST naming the field. */
function text(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new BerthError('BAD_REQUEST', `${field} must be a non-empty string`);
  }
  return value.trim();
}

/** Runs `use` with a client for the first registry `name` resolves to, and closes the client after. */
async function withRemote<T>(
  environment: RegistryEnvironment,
  name: string,
  use: (client: RegistryClient, ref: Reference) => Promise<T>,
): Promise<T> {
  parseReference(name);
  const first = resolveShortName(environment.conf, name).candidates[0];
  if (!first) throw new BerthError('INVALID_REFERENCE', `cannot resolve ${JSON.stringify(name)}`);
  const { openRegistry } = await import('../core/registry/connect');
  const client = await openRegistry(first.reference.domain, environment);
  try {
    return await use(client, first.reference);
  } finally {
    await client.close();
  }
}

async function overview(environment: RegistryEnvironment): Promise<RegistriesOverview> {
  const { conf, auth } = environment;
  const sealedHosts = new Set((await environment.savedLogins?.registries()) ?? []);
  return {
    sources: conf.sources,
    searchRegistries: conf.unqualifiedSearchRegistries ?? ['docker.io'],
    aliases: conf.aliases,
    shortNameMode: conf.shortNameMode ?? 'permissive',
    registries: conf.registries.map((r) => ({
      prefix: r.prefix,
      location: r.location,
      insecure: r.insecure,
      blocked: r.blocked,
      mirrors: r.mirrors.map((m) => ({
        location: m.location,
        insecure: m.insecure,
        pullFromMirror: m.pullFromMirror,
      })),
    })),
    insecureRegistries: conf.insecureRegistries,
    credentials: [
      ...(await sealedLogins(environment)),
      ...(await listCredentials(auth)).filter((c) => !sealedHosts.has(c.registry)),
    ],
    authFile: auth.write,
  };
}

/** The host's sealed logins as the Registries view lists them: registry, username, where they are kept. */
async function sealedLogins(
  environment: RegistryEnvironment,
): Promise<{ registry: string; username?: string; source: string }[]> {
  const saved = environment.savedLogins;
  if (!saved) return [];
  const source = `desktop keychain (${saved.file})`;
  return Promise.all(
    (await saved.registries()).map(async (registry) => {
      const found = await saved.find(registry).catch(() => undefined);
      return found?.kind === 'basic' ? { registry, username: found.username, source } : { registry, source };
    }),
  );
}

/**
 * How registries are reached: the host's fixed environment or the user's registries.conf, certs.d and auth
 * files read afresh, plus the desktop app's sealed logins (asked first, and where its UI logs in).
 */
export async function registryEnvironmentFor(ctx: {
  registryEnvironment?: RegistryEnvironment;
  savedLogins?: SavedLogins;
}): Promise<RegistryEnvironment> {
  // The registry client (undici) loads with the first call that needs it, not when a host starts.
  const loaded =
    ctx.registryEnvironment ?? (await (await import('../core/registry/connect')).loadRegistryEnvironment());
  return ctx.savedLogins ? { ...loaded, savedLogins: ctx.savedLogins } : loaded;
}
