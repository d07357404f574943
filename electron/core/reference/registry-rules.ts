import { BlockList, isIP } from 'node:net';
import { BerthError } from '../../../shared/error';
import { formatReference, parseReference, type Reference } from '../../../shared/reference';
import type { RegistriesConf, RegistryEntry } from './registries-conf';

/** One place a reference can be pulled from: a mirror or the registry itself, in the order to try them. */
export interface PullSource {
  /** The reference as that endpoint names it (prefix rewritten to the location). */
  reference: Reference;
  /** `host[:port]` of the endpoint. */
  registry: string;
  /** The endpoint may use plain HTTP or an unverified certificate. */
  insecure: boolean;
  mirror: boolean;
}

/** The `[[registry]]` entry whose prefix matches `ref` longest, if any. */
export function findRegistryEntry(conf: RegistriesConf, ref: Reference | string): RegistryEntry | undefined {
  const name = typeof ref === 'string' ? ref : formatReference(ref);
  let best: RegistryEntry | undefined;
  let bestLength = -1;
  for (const entry of conf.registries) {
    const length = prefixMatchLength(name, entry.prefix);
    if (length > bestLength) {
      best = entry;
      bestLength = length;
    }
  }
  return best;
}

/** Throws REGISTRY_BLOCKED when registries.conf blocks the registry `ref` lives in. */
export function assertNotBlocked(conf: RegistriesConf, ref: Reference): void {
  const entry = findRegistryEntry(conf, ref);
  if (entry?.blocked) {
    throw new BerthError(
      'REGISTRY_BLOCKED',
      `registry ${entry.prefix} is blocked in registries.conf; ${formatReference(ref)} cannot be pulled`,
      { registry: ref.domain, prefix: entry.prefix },
    );
  }
}

/**
 * Where to pull `ref` from, best first: the mirrors that serve it (`pull-from-mirror` decides whether a
 * tag or a digest reference may come from a mirror), then the registry's own location.
 */
export function pullSources(conf: RegistriesConf, ref: Reference): PullSource[] {
  assertNotBlocked(conf, ref);
  const entry = findRegistryEntry(conf, ref);
  if (entry === undefined || entry.location === '') {
    return [
      { reference: ref, registry: ref.domain, insecure: isInsecureRegistry(conf, ref.domain), mirror: false },
    ];
  }
  const name = formatReference(ref);
  const rest = name.slice(entry.prefix.length);
  const sources: PullSource[] = [];
  for (const m of entry.mirrors) {
    if (m.pullFromMirror === 'digest-only' && ref.digest === undefined) continue;
    if (m.pullFromMirror === 'tag-only' && ref.digest !== undefined) continue;
    const reference = parseReference(m.location + rest);
    sources.push({
      reference,
      registry: reference.domain,
      insecure: m.insecure || isInsecureRegistry(conf, reference.domain),
      mirror: true,
    });
  }
  const reference = parseReference(entry.location + rest);
  sources.push({
    reference,
    registry: reference.domain,
    insecure: entry.insecure || isInsecureRegistry(conf, reference.domain),
    mirror: false,
  });
  return sources;
}

/**
 * True when `registry` (`host[:port]`) may use plain HTTP or skip TLS verification: loopback
 * (`localhost`, 127.0.0.0/8, ::1) always, plus `[[registry]] insecure = true` locations and the extra
 * `host[:port]` entries and CIDRs in `conf.insecureRegistries` (CRI-O's rule). A `[[registry]]` whose
 * location says `insecure = false` outright is always verified.
 */
export function isInsecureRegistry(conf: RegistriesConf, registry: string): boolean {
  const { hostname } = splitHostPort(registry);
  // An explicit `insecure = false` beats the loopback default: the user asked for verified TLS there.
  if (conf.registries.some((e) => e.secure && e.location !== '' && hostOf(e.location) === registry))
    return false;
  if (hostname === 'localhost' || hostname.endsWith('.localhost')) return true;
  const loopback = new BlockList();
  loopback.addSubnet('127.0.0.0', 8, 'ipv4');
  loopback.addAddress('::1', 'ipv6');
  if (ipIn(loopback, hostname)) return true;
  for (const entry of conf.registries) {
    if (entry.insecure && entry.location !== '' && hostOf(entry.location) === registry) return true;
    for (const m of entry.mirrors) if (m.insecure && hostOf(m.location) === registry) return true;
  }
  const cidrs = new BlockList();
  for (const item of conf.insecureRegistries) {
    const slash = item.indexOf('/');
    if (slash > 0) {
      const address = item.slice(0, slash);
      const bits = Number(item.slice(slash + 1));
      const family = isIP(address);
      if (family !== 0 && Number.isInteger(bits))
        cidrs.addSubnet(address, bits, family === 6 ? 'ipv6' : 'ipv4');
      continue;
    }
    if (item === registry || item === hostname) return true;
  }
  return ipIn(cidrs, hostname);
}

/** Splits `host[:port]` (IPv6 in brackets) into a bare hostname and an optional port. */
export function splitHostPort(registry: string): { hostname: string; port?: number } {
  if (registry.startsWith('[')) {
    const close = registry.indexOf(']');
    const hostname = registry.slice(1, close < 0 ? undefined : close);
    const port = close >= 0 && registry[close + 1] === ':' ? Number(registry.slice(close + 2)) : undefined;
    return port === undefined ? { hostname } : { hostname, port };
  }
  const colon = registry.lastIndexOf(':');
  if (colon < 0 || registry.indexOf(':') !== colon) return { hostname: registry };
  return { hostname: registry.slice(0, colon), port: Number(registry.slice(colon + 1)) };
}

function ipIn(list: BlockList, hostname: string): boolean {
  const family = isIP(hostname);
  if (family === 0) return false;
  return list.check(hostname, family === 6 ? 'ipv6' : 'ipv4');
}

function hostOf(location: string): string {
  const slash = location.indexOf('/');
  return slash < 0 ? location : location.slice(0, slash);
}

/**
 * Length of `prefix` when it matches `name` at a boundary, else -1. A host-only prefix matches the whole
 * host (a `:` after it would be a port, so it does not match); a prefix with a path also matches before a
 * tag or digest. `*.example.com` matches any subdomain of example.com.
 */
function prefixMatchLength(name: string, prefix: string): number {
  if (prefix.startsWith('*.')) {
    const { hostname } = splitHostPort(hostOf(name));
    return hostname.endsWith(prefix.slice(1)) ? prefix.length : -1;
  }
  if (!name.startsWith(prefix)) return -1;
  if (name.length === prefix.length) return prefix.length;
  const next = name[prefix.length];
  if (next === '/' || next === '@') return prefix.length;
  if (next === ':' && prefix.includes('/')) return prefix.length;
  return -1;
}
