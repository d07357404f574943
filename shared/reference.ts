import { digestProblem, elideInput, isBareSha256, parseDigest, quoteInput } from './digest';
import { BerthError } from './error';

/*
 * Grammar (distribution/reference, the one docker uses), checked by the hand-written scanners below so
 * that every input is handled in linear time:
 *
 *   reference  := name [ ":" tag ] [ "@" digest ]
 *   name       := [ domain "/" ] path
 *   domain     := host [ ":" port ]        host := domain-name | "[" ipv6 "]"
 *   domain-name:= component ( "." component )*   component := [A-Za-z0-9] | [A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9]
 *   ipv6       := [A-Fa-f0-9:]+            port := [0-9]+
 *   path       := path-component ( "/" path-component )*   (at most 255 characters after normalization)
 *   path-component := [a-z0-9]+ ( separator [a-z0-9]+ )*   separator := "." | "_" | "__" | "-"+
 *   tag        := [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}
 *   digest     := "sha256:" 64 lowercase hex | "sha512:" 128 lowercase hex
 *
 * Normalization follows docker: the first "/"-separated component is a domain only when it is "localhost",
 * contains "." or ":", or contains an uppercase letter; otherwise the domain is docker.io. "index.docker.io"
 * becomes "docker.io", and a single-component path on docker.io gains the "library/" prefix. An input that
 * is exactly 64 lowercase hex characters is refused, because docker reads it as an image ID.
 */

/** A fully qualified image reference: `domain/path[:tag][@digest]`, as parseReference returns it. */
export interface Reference {
  domain: string;
  path: string;
  tag?: string;
  digest?: string;
}

/** The registry domain docker assumes when a reference names none. */
export const defaultDomain = 'docker.io';

/** The tag normalizeReference adds when a reference has neither tag nor digest. */
export const defaultTag = 'latest';

/** Maximum length of a repository path (after normalization), per distribution/reference. */
export const repositoryPathMax = 255;

/** Maximum length of a tag. */
export const tagMax = 128;

const legacyDefaultDomain = 'index.docker.io';
const officialRepositoryPrefix = 'library/';

/** Parses a reference the way docker does (domain and `library/` filled in) without adding a default tag. */
export function parseReference(input: string): Reference {
  // Callers across IPC and the WebSocket are typed only by convention; refuse non-strings the same way.
  if (typeof input !== 'string') fail(`<${typeof input}>`, `expected a string, got ${typeof input}`);
  if (input === '') fail(input, 'reference is empty');
  if (isBareSha256(input)) {
    fail(input, 'a 64-character hexadecimal string is an image ID, not a repository name');
  }
  const split = splitDomain(input);
  const at = split.remainder.indexOf('@');
  const named = at < 0 ? split.remainder : split.remainder.slice(0, at);
  const digest = at < 0 ? undefined : split.remainder.slice(at + 1);
  const colon = named.indexOf(':');
  const path = colon < 0 ? named : named.slice(0, colon);
  const tag = colon < 0 ? undefined : named.slice(colon + 1);

  const nameProblem =
    (split.explicit ? domainProblem(split.domain) : undefined) ?? pathProblem(path) ?? lengthProblem(path);
  if (nameProblem !== undefined) {
    // An uppercase first component counts as a domain only as a fallback; if the name then fails, the
    // likelier mistake is an uppercase repository name.
    fail(input, split.byUppercase ? 'repository name must be lowercase' : nameProblem);
  }
  if (tag !== undefined) {
    const problem = tagProblem(tag);
    if (problem !== undefined) fail(input, problem);
  }
  if (digest !== undefined) {
    const problem = digestProblem(digest);
    if (problem !== undefined) fail(input, `invalid digest ${quoteInput(digest)}: ${problem}`);
  }

  const ref: Reference = { domain: split.domain, path };
  if (tag !== undefined) ref.tag = tag;
  if (digest !== undefined) ref.digest = digest;
  return ref;
}

/** parseReference, then `:latest` when the reference has neither a tag nor a digest. */
export function normalizeReference(input: string): Reference {
  const ref = parseReference(input);
  return ref.tag === undefined && ref.digest === undefined ? { ...ref, tag: defaultTag } : ref;
}

/** The canonical string form: `domain/path[:tag][@digest]`. */
export function formatReference(ref: Reference): string {
  let out = repositoryOf(ref);
  if (ref.tag !== undefined) out += `:${ref.tag}`;
  if (ref.digest !== undefined) out += `@${ref.digest}`;
  return out;
}

/** The repository a reference points into, without tag or digest: `domain/path`. */
export function repositoryOf(ref: Reference): string {
  return `${ref.domain}/${ref.path}`;
}

/** The short form docker shows (its FamiliarString): docker.io and a lone `library/` are dropped. */
export function familiarName(refOrString: Reference | string): string {
  const ref = typeof refOrString === 'string' ? parseReference(refOrString) : refOrString;
  let name = repositoryOf(ref);
  if (ref.domain === defaultDomain) {
    const rest = ref.path.startsWith(officialRepositoryPrefix)
      ? ref.path.slice(officialRepositoryPrefix.length)
      : undefined;
    name = rest !== undefined && !rest.includes('/') ? rest : ref.path;
  }
  if (ref.tag !== undefined) name += `:${ref.tag}`;
  if (ref.digest !== undefined) name += `@${ref.digest}`;
  return name;
}

/**
 * True when `input` names no registry domain (its first component is not a domain by docker's rule), so a
 * registries.conf short-name lookup applies. Says nothing about validity; never throws.
 */
export function isShortName(input: string): boolean {
  return typeof input === 'string' && !splitDomain(input).explicit;
}

/** True when `tag` is a valid tag. */
export function isTag(tag: string): boolean {
  return tagProblem(tag) === undefined;
}

/** A copy of `ref` with `tag` (any digest is kept); throws INVALID_REFERENCE for an invalid tag. */
export function withTag(ref: Reference, tag: string): Reference {
  const problem = tagProblem(tag);
  if (problem !== undefined) fail(`${repositoryOf(ref)}:${tag}`, problem);
  return { ...ref, tag };
}

/** A copy of `ref` with `digest` (any tag is kept); throws INVALID_DIGEST for an invalid digest. */
export function withDigest(ref: Reference, digest: string): Reference {
  parseDigest(digest);
  return { ...ref, digest };
}

interface DomainSplit {
  domain: string;
  remainder: string;
  /** The input named its domain (rather than docker.io being assumed). */
  explicit: boolean;
  /** The first component was taken as a domain only because it has uppercase letters. */
  byUppercase: boolean;
}

function splitDomain(input: string): DomainSplit {
  const slash = input.indexOf('/');
  if (slash < 0) {
    return {
      domain: defaultDomain,
      remainder: officialRepositoryPrefix + input,
      explicit: false,
      byUppercase: false,
    };
  }
  const first = input.slice(0, slash);
  const rest = input.slice(slash + 1);
  let split: DomainSplit;
  if (first === legacyDefaultDomain) {
    split = { domain: defaultDomain, remainder: rest, explicit: true, byUppercase: false };
  } else if (first === 'localhost' || first.includes('.') || first.includes(':')) {
    split = { domain: first, remainder: rest, explicit: true, byUppercase: false };
  } else if (first.toLowerCase() !== first) {
    split = { domain: first, remainder: rest, explicit: true, byUppercase: true };
  } else {
    split = { domain: defaultDomain, remainder: input, explicit: false, byUppercase: false };
  }
  if (split.domain === defaultDomain && !split.remainder.includes('/')) {
    split.remainder = officialRepositoryPrefix + split.remainder;
  }
  return split;
}

function domainProblem(domain: string): string | undefined {
  const problem = hostAndPortProblem(domain);
  return problem === undefined ? undefined : `invalid domain ${quoteInput(domain)}: ${problem}`;
}

function hostAndPortProblem(domain: string): string | undefined {
  let portStart: number;
  if (domain.startsWith('[')) {
    const close = domain.indexOf(']');
    if (close < 0) return 'IPv6 address has no closing "]"';
    if (close === 1) return 'IPv6 address is empty';
    for (let i = 1; i < close; i++) {
      const c = domain.charCodeAt(i);
      if (!(isDigit(c) || isHexLetter(c) || c === 0x3a)) {
        return `IPv6 address may hold only hex digits and ":", found ${JSON.stringify(domain.charAt(i))}`;
      }
    }
    if (close + 1 < domain.length && domain.charCodeAt(close + 1) !== 0x3a) {
      return 'only a ":port" may follow the IPv6 address';
    }
    portStart = close + 1;
  } else {
    const colon = domain.indexOf(':');
    const host = colon < 0 ? domain : domain.slice(0, colon);
    const problem = hostNameProblem(host);
    if (problem !== undefined) return problem;
    portStart = colon < 0 ? domain.length : colon;
  }
  if (portStart === domain.length) return undefined;
  const port = domain.slice(portStart + 1);
  if (port === '') return 'port is empty';
  for (let i = 0; i < port.length; i++) {
    if (!isDigit(port.charCodeAt(i))) return `port ${quoteInput(port)} must be decimal digits`;
  }
  return undefined;
}

function hostNameProblem(host: string): string | undefined {
  if (host === '') return 'host name is empty';
  for (const label of host.split('.')) {
    if (label === '') return 'host name has an empty label';
    for (let i = 0; i < label.length; i++) {
      const c = label.charCodeAt(i);
      if (!(isDigit(c) || isLetter(c) || c === 0x2d)) {
        return `invalid character ${JSON.stringify(label.charAt(i))} in host name`;
      }
    }
    if (label.startsWith('-') || label.endsWith('-')) {
      return `host name label ${quoteInput(label)} must not start or end with "-"`;
    }
  }
  return undefined;
}

function pathProblem(path: string): string | undefined {
  if (path === '') return 'repository path is empty';
  for (let i = 0; i < path.length; i++) {
    const c = path.charCodeAt(i);
    if (c >= 0x41 && c <= 0x5a) return 'repository name must be lowercase';
  }
  for (const component of path.split('/')) {
    const problem = pathComponentProblem(component);
    if (problem !== undefined) return problem;
  }
  return undefined;
}

function pathComponentProblem(component: string): string | undefined {
  if (component === '') return 'empty path component';
  const shown = quoteInput(component);
  let i = 0;
  while (i < component.length) {
    const c = component.charCodeAt(i);
    if (isDigit(c) || isLowerLetter(c)) {
      i++;
      continue;
    }
    if (!isSeparatorChar(c)) {
      return `invalid character ${JSON.stringify(component.charAt(i))} in path component ${shown}`;
    }
    const start = i;
    while (i < component.length && isSeparatorChar(component.charCodeAt(i))) i++;
    if (start === 0) return `path component ${shown} must start with a lowercase letter or digit`;
    if (i === component.length) return `path component ${shown} must end with a lowercase letter or digit`;
    const run = component.slice(start, i);
    if (!isSeparator(run)) {
      return `path component ${shown} has invalid separator ${JSON.stringify(run)} (allowed: ".", "_", "__", or dashes)`;
    }
  }
  return undefined;
}

function lengthProblem(path: string): string | undefined {
  return path.length > repositoryPathMax
    ? `repository name must be at most ${repositoryPathMax} characters, got ${path.length}`
    : undefined;
}

function tagProblem(tag: string): string | undefined {
  if (tag === '') return 'tag is empty';
  if (tag.length > tagMax) return `tag must be at most ${tagMax} characters, got ${tag.length}`;
  for (let i = 0; i < tag.length; i++) {
    const c = tag.charCodeAt(i);
    if (isWordChar(c)) continue;
    if (i > 0 && (c === 0x2e || c === 0x2d)) continue;
    return i === 0
      ? `tag ${quoteInput(tag)} must start with a letter, digit or "_"`
      : `invalid character ${JSON.stringify(tag.charAt(i))} in tag ${quoteInput(tag)}`;
  }
  return undefined;
}

function isSeparator(run: string): boolean {
  if (run === '.' || run === '_' || run === '__') return true;
  for (let i = 0; i < run.length; i++) if (run.charCodeAt(i) !== 0x2d) return false;
  return true;
}

function isSeparatorChar(c: number): boolean {
  return c === 0x2e || c === 0x5f || c === 0x2d;
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function isLowerLetter(c: number): boolean {
  return c >= 0x61 && c <= 0x7a;
}

function isLetter(c: number): boolean {
  return isLowerLetter(c) || (c >= 0x41 && c <= 0x5a);
}

function isHexLetter(c: number): boolean {
  return (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);
}

function isWordChar(c: number): boolean {
  return isDigit(c) || isLetter(c) || c === 0x5f;
}

function fail(input: string, problem: string): never {
  throw new BerthError('INVALID_REFERENCE', `invalid reference ${quoteInput(input)}: ${problem}`, {
    input: elideInput(input),
    problem,
  });
}
