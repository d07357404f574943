import { BerthError } from '../../../shared/error';
import {
  defaultDomain,
  formatReference,
  isShortName,
  normalizeReference,
  type Reference,
} from '../../../shared/reference';
import type { RegistriesConf, ShortNameMode } from './registries-conf';
import { findRegistryEntry } from './registry-rules';

/** Why a candidate is on the list. */
export type CandidateOrigin = 'qualified' | 'alias' | 'search';

/** One reference a name may mean, in the order to try them. */
export interface ShortNameCandidate {
  reference: Reference;
  origin: CandidateOrigin;
}

/** How a name resolves: what the UI shows before a pull and what the pull engine tries. */
export interface ShortNameResolution {
  input: string;
  /** The input named no registry, so registries.conf decided. */
  shortName: boolean;
  /** References to try in order; never empty. */
  candidates: ShortNameCandidate[];
  /** Search registries skipped because registries.conf blocks them. */
  blocked: string[];
  /** More than one registry could serve the name (the user may want to qualify it). */
  ambiguous: boolean;
  mode: ShortNameMode;
  /** One sentence for the UI, e.g. `alpine → docker.io/library/alpine:latest (alias)`. */
  summary: string;
}

/**
 * Resolves `input` to candidate references: a fully qualified name stands as is; a short name uses its
 * `[aliases]` entry, else each `unqualified-search-registries` entry in order (docker.io when none is set).
 * A default `:latest` is added when the input has neither tag nor digest. Blocked registries are dropped
 * from the search; when nothing is left (or the name or its alias is itself blocked) REGISTRY_BLOCKED is thrown.
 */
export function resolveShortName(conf: RegistriesConf, input: string): ShortNameResolution {
  const mode = conf.shortNameMode ?? 'permissive';
  if (!isShortName(input)) {
    const reference = normalizeReference(input);
    rejectBlocked(conf, reference, input);
    return resolution(input, false, [{ reference, origin: 'qualified' }], [], mode);
  }
  normalizeReference(input);
  const { name, suffix } = splitSuffix(input);
  const alias = conf.aliases[name] ?? conf.aliases[`${defaultDomain}/${name}`];
  if (alias !== undefined && mode !== 'disabled') {
    if (isShortName(alias)) {
      throw new BerthError(
        'BAD_REQUEST',
        `alias for ${JSON.stringify(name)} must be fully qualified, got ${JSON.stringify(alias)}`,
      );
    }
    const reference = normalizeReference(alias + suffix);
    rejectBlocked(conf, reference, input);
    return resolution(input, true, [{ reference, origin: 'alias' }], [], mode);
  }
  const search = conf.unqualifiedSearchRegistries ?? [defaultDomain];
  if (search.length === 0) {
    throw new BerthError(
      'INVALID_REFERENCE',
      `short name ${JSON.stringify(input)} cannot be resolved: registries.conf sets no unqualified-search-registries; use a fully qualified name`,
      { input },
    );
  }
  const candidates: ShortNameCandidate[] = [];
  const blocked: string[] = [];
  for (const registry of search) {
    const reference = normalizeReference(`${registry}/${name}${suffix}`);
    if (findRegistryEntry(conf, reference)?.blocked) blocked.push(registry);
    else candidates.push({ reference, origin: 'search' });
  }
  if (candidates.length === 0) {
    throw new BerthError(
      'REGISTRY_BLOCKED',
      `short name ${JSON.stringify(input)} cannot be resolved: every search registry is blocked (${blocked.join(', ')})`,
      { input, blocked },
    );
  }
  return resolution(input, true, candidates, blocked, mode);
}

function resolution(
  input: string,
  shortName: boolean,
  candidates: ShortNameCandidate[],
  blocked: string[],
  mode: ShortNameMode,
): ShortNameResolution {
  const names = candidates.map((c) => formatReference(c.reference));
  const first = candidates[0] as ShortNameCandidate;
  let summary: string;
  if (!shortName) summary = `${input} → ${names[0]}`;
  else if (first.origin === 'alias') summary = `${input} → ${names[0]} (alias)`;
  else if (names.length === 1) summary = `${input} → ${names[0]} (search registry)`;
  else summary = `${input} → first of ${names.join(', ')} (search registries, in order)`;
  if (blocked.length > 0) summary += `; blocked: ${blocked.join(', ')}`;
  return { input, shortName, candidates, blocked, ambiguous: candidates.length > 1, mode, summary };
}

function rejectBlocked(conf: RegistriesConf, reference: Reference, input: string): void {
  const entry = findRegistryEntry(conf, reference);
  if (entry?.blocked) {
    throw new BerthError(
      'REGISTRY_BLOCKED',
      `${JSON.stringify(input)} resolves to ${formatReference(reference)}, but registry ${entry.prefix} is blocked in registries.conf`,
      { input, registry: reference.domain, prefix: entry.prefix },
    );
  }
}

/** Splits a short name (which has no port) into the name and its `:tag`/`@digest` suffix. */
function splitSuffix(input: string): { name: string; suffix: string } {
  const at = input.indexOf('@');
  const named = at < 0 ? input : input.slice(0, at);
  const colon = named.indexOf(':');
  const end = colon >= 0 ? colon : named.length;
  return { name: input.slice(0, end), suffix: input.slice(end) };
}
