import { readdir, readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { BerthError } from '../../../shared/error';

/** Which mirrors a `[[registry.mirror]]` entry serves: any reference, digests only, or tags only. */
export type PullFromMirror = 'all' | 'digest-only' | 'tag-only';

/** One `[[registry.mirror]]` entry. */
export interface RegistryMirror {
  location: string;
  insecure: boolean;
  pullFromMirror: PullFromMirror;
}

/** One `[[registry]]` table: how references under `prefix` are reached. */
export interface RegistryEntry {
  /** What references it applies to: `host[:port][/path]`, or `*.domain` for every subdomain. */
  prefix: string;
  /** Where the registry really is: the prefix is replaced by this (defaults to the prefix). */
  location: string;
  insecure: boolean;
  /** `insecure = false` written out: the user wants TLS verified here, even on loopback. */
  secure: boolean;
  blocked: boolean;
  mirrors: RegistryMirror[];
}

/** How strictly ambiguous short names are treated (`short-name-mode`); Berth reports it, it never prompts. */
export type ShortNameMode = 'enforcing' | 'permissive' | 'disabled';

/** The merged registries.conf in effect, with the files it was read from. */
export interface RegistriesConf {
  /** Registries tried in order for short names; undefined when no file set the key. */
  unqualifiedSearchRegistries?: string[];
  /** Short name (no tag or digest) to fully qualified repository. */
  aliases: Record<string, string>;
  registries: RegistryEntry[];
  /** Extra `host[:port]` entries and CIDRs that may use plain HTTP or skip TLS verification (CRI-O style). */
  insecureRegistries: string[];
  shortNameMode?: ShortNameMode;
  /** Every file that contributed, in the order they were applied. */
  sources: string[];
}

/** Where registries.conf and its drop-in folders are looked for; every path can be replaced in tests. */
export interface RegistriesConfPaths {
  /** When set (from `$CONTAINERS_REGISTRIES_CONF`), the only file read. */
  override?: string;
  /** `~/.config/containers/registries.conf`, used instead of the system file when it exists. */
  user: string;
  /** `/etc/containers/registries.conf`. */
  system: string;
  /** Drop-in folders, lowest priority first; a same-named file in a later folder replaces an earlier one. */
  dropInDirs: string[];
}

/** The usual paths, as containers/image reads them. */
export function defaultRegistriesConfPaths(
  env: NodeJS.ProcessEnv = process.env,
  home = homedir(),
): RegistriesConfPaths {
  const configHome =
    env.XDG_CONFIG_HOME && env.XDG_CONFIG_HOME.startsWith('/') ? env.XDG_CONFIG_HOME : join(home, '.config');
  const paths: RegistriesConfPaths = {
    user: join(configHome, 'containers', 'registries.conf'),
    system: '/etc/containers/registries.conf',
    dropInDirs: ['/etc/containers/registries.conf.d', join(configHome, 'containers', 'registries.conf.d')],
  };
  if (env.CONTAINERS_REGISTRIES_CONF) paths.override = env.CONTAINERS_REGISTRIES_CONF;
  return paths;
}

/** An empty configuration: docker.io is searched, nothing is blocked or mirrored. */
export function emptyRegistriesConf(): RegistriesConf {
  return { aliases: {}, registries: [], insecureRegistries: [], sources: [] };
}

/**
 * Reads and merges registries.conf: the override file alone when given, else the user file (or the system
 * file when there is none), then every `*.conf` drop-in in name order. Later files replace the search list,
 * `[[registry]]` entries with the same prefix, and aliases with the same name. Missing files are skipped;
 * a malformed one is an error naming it.
 */
export async function loadRegistriesConf(
  paths: RegistriesConfPaths = defaultRegistriesConfPaths(),
): Promise<RegistriesConf> {
  const files: string[] = [];
  if (paths.override !== undefined) {
    files.push(paths.override);
  } else {
    files.push((await readOptional(paths.user)) !== undefined ? paths.user : paths.system);
    const dropIns = new Map<string, string>();
    for (const dir of paths.dropInDirs) {
      for (const name of await listConfFiles(dir)) dropIns.set(name, join(dir, name));
    }
    for (const name of [...dropIns.keys()].sort()) files.push(dropIns.get(name) as string);
  }
  const conf = emptyRegistriesConf();
  for (const file of files) {
    const text = await readOptional(file);
    if (text === undefined) continue;
    mergeRegistriesConf(conf, parseRegistriesConf(text, file));
    conf.sources.push(file);
  }
  return conf;
}

/** One file's settings before merging; fields a file does not set stay undefined. */
export interface RegistriesConfFile {
  unqualifiedSearchRegistries?: string[];
  aliases: Record<string, string>;
  registries: RegistryEntry[];
  insecureRegistries: string[];
  shortNameMode?: ShortNameMode;
}

/** Parses one registries.conf (v2, plus the v1 `[registries.search/insecure/block]` lists); `file` names it in errors. */
export function parseRegistriesConf(text: string, file = 'registries.conf'): RegistriesConfFile {
  let doc: Record<string, unknown>;
  try {
    doc = parseToml(text);
  } catch (err) {
    throw invalid(file, (err as Error).message.split('\n')[0] ?? 'malformed TOML');
  }
  const out: RegistriesConfFile = { aliases: {}, registries: [], insecureRegistries: [] };
  const search = doc['unqualified-search-registries'];
  if (search !== undefined)
    out.unqualifiedSearchRegistries = stringList(search, 'unqualified-search-registries', file);
  const mode = doc['short-name-mode'];
  if (mode !== undefined) {
    if (mode !== 'enforcing' && mode !== 'permissive' && mode !== 'disabled') {
      throw invalid(
        file,
        `short-name-mode must be enforcing, permissive or disabled, got ${JSON.stringify(mode)}`,
      );
    }
    out.shortNameMode = mode;
  }
  const aliases = doc.aliases;
  if (aliases !== undefined) {
    for (const [name, target] of Object.entries(table(aliases, 'aliases', file))) {
      if (typeof target !== 'string') throw invalid(file, `alias ${JSON.stringify(name)} must be a string`);
      out.aliases[name] = target;
    }
  }
  const registries = doc.registry;
  if (registries !== undefined) {
    if (!Array.isArray(registries)) throw invalid(file, '[[registry]] must be an array of tables');
    for (const entry of registries) out.registries.push(registryEntry(entry, file));
  }
  const v1 = doc.registries;
  if (v1 !== undefined) {
    const lists = table(v1, 'registries', file);
    const listOf = (key: string): string[] => {
      const section = lists[key];
      if (section === undefined) return [];
      const value = table(section, `registries.${key}`, file).registries;
      return value === undefined ? [] : stringList(value, `registries.${key}.registries`, file);
    };
    const v1Search = listOf('search');
    if (v1Search.length > 0) out.unqualifiedSearchRegistries = v1Search;
    out.insecureRegistries.push(...listOf('insecure'));
    for (const location of listOf('block')) {
      out.registries.push({
        prefix: location,
        location,
        insecure: false,
        secure: false,
        blocked: true,
        mirrors: [],
      });
    }
  }
  return out;
}

/** Applies `file` on top of `conf` in place, with the replace rules loadRegistriesConf documents. */
export function mergeRegistriesConf(conf: RegistriesConf, file: RegistriesConfFile): void {
  if (file.unqualifiedSearchRegistries !== undefined)
    conf.unqualifiedSearchRegistries = file.unqualifiedSearchRegistries;
  if (file.shortNameMode !== undefined) conf.shortNameMode = file.shortNameMode;
  Object.assign(conf.aliases, file.aliases);
  for (const entry of file.registries) {
    const at = conf.registries.findIndex((r) => r.prefix === entry.prefix);
    if (at >= 0) conf.registries[at] = entry;
    else conf.registries.push(entry);
  }
  conf.insecureRegistries.push(...file.insecureRegistries);
}

function registryEntry(value: unknown, file: string): RegistryEntry {
  const t = table(value, '[[registry]]', file);
  const location = optionalString(t.location, 'registry.location', file) ?? '';
  const prefix = optionalString(t.prefix, 'registry.prefix', file) ?? location;
  if (prefix === '') throw invalid(file, '[[registry]] needs a prefix or a location');
  if (location === '' && !prefix.startsWith('*.')) {
    throw invalid(file, `[[registry]] with prefix ${JSON.stringify(prefix)} needs a location`);
  }
  const mirrors: RegistryMirror[] = [];
  const byDigestOnly =
    optionalBoolean(t['mirror-by-digest-only'], 'registry.mirror-by-digest-only', file) ?? false;
  if (t.mirror !== undefined) {
    if (!Array.isArray(t.mirror)) throw invalid(file, '[[registry.mirror]] must be an array of tables');
    for (const m of t.mirror) {
      const mt = table(m, '[[registry.mirror]]', file);
      const mirrorLocation = optionalString(mt.location, 'registry.mirror.location', file);
      if (!mirrorLocation) throw invalid(file, `a mirror of ${JSON.stringify(prefix)} needs a location`);
      const pull = optionalString(mt['pull-from-mirror'], 'registry.mirror.pull-from-mirror', file);
      if (pull !== undefined && pull !== 'all' && pull !== 'digest-only' && pull !== 'tag-only') {
        throw invalid(
          file,
          `pull-from-mirror must be all, digest-only or tag-only, got ${JSON.stringify(pull)}`,
        );
      }
      mirrors.push({
        location: mirrorLocation,
        insecure: optionalBoolean(mt.insecure, 'registry.mirror.insecure', file) ?? false,
        pullFromMirror: pull ?? (byDigestOnly ? 'digest-only' : 'all'),
      });
    }
  }
  return {
    prefix,
    location,
    insecure: optionalBoolean(t.insecure, 'registry.insecure', file) ?? false,
    secure: optionalBoolean(t.insecure, 'registry.insecure', file) === false,
    blocked: optionalBoolean(t.blocked, 'registry.blocked', file) ?? false,
    mirrors,
  };
}

function table(value: unknown, key: string, file: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw invalid(file, `${key} must be a table`);
  return value as Record<string, unknown>;
}

function stringList(value: unknown, key: string, file: string): string[] {
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) {
    throw invalid(file, `${key} must be an array of strings`);
  }
  return value;
}

function optionalString(value: unknown, key: string, file: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw invalid(file, `${key} must be a string`);
  return value;
}

function optionalBoolean(value: unknown, key: string, file: string): boolean | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') throw invalid(file, `${key} must be true or false`);
  return value;
}

function invalid(file: string, problem: string): BerthError {
  return new BerthError('BAD_REQUEST', `${file} is not a valid registries.conf: ${problem}`, { file });
}

async function readOptional(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw err;
  }
}

async function listConfFiles(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).filter((name) => name.endsWith('.conf'));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return [];
    throw err;
  }
}
