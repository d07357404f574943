import type { Platform } from '../../../shared/contract';
import { BerthError } from '../../../shared/error';
import type { Descriptor } from './manifest';

const archAliases: Record<string, { architecture: string; variant?: string }> = {
  x86_64: { architecture: 'amd64' },
  'x86-64': { architecture: 'amd64' },
  aarch64: { architecture: 'arm64' },
  armhf: { architecture: 'arm', variant: 'v7' },
  armel: { architecture: 'arm', variant: 'v6' },
  i386: { architecture: '386' },
  i686: { architecture: '386' },
};

/** The platform of the running process, as OCI names it (e.g. linux/amd64, linux/arm64/v8). */
export function hostPlatform(
  platform: NodeJS.Platform = process.platform,
  arch: string = process.arch,
): Platform {
  const os = platform === 'win32' ? 'windows' : platform;
  switch (arch) {
    case 'x64':
      return { os, architecture: 'amd64' };
    case 'ia32':
      return { os, architecture: '386' };
    case 'arm64':
      return { os, architecture: 'arm64', variant: 'v8' };
    case 'arm':
      return { os, architecture: 'arm', variant: 'v7' };
    default:
      return { os, architecture: arch };
  }
}

/**
 * Parses `os/arch[/variant]` (or `arch` alone, meaning linux) into a normalized platform: lowercase,
 * common aliases folded (`x86_64` → amd64, `aarch64` → arm64), `arm64` given variant v8 and `arm` v7 when
 * none is named. Throws BAD_REQUEST naming the input otherwise.
 */
export function parsePlatform(input: string): Platform {
  const parts = input.trim().toLowerCase().split('/');
  if (parts.length > 3 || parts.some((p) => !/^[a-z0-9._-]+$/.test(p))) {
    throw new BerthError(
      'BAD_REQUEST',
      `invalid platform ${JSON.stringify(input)}: expected os/arch[/variant], e.g. linux/arm64`,
    );
  }
  const [first, second, third] = parts as [string, string?, string?];
  const platform: Platform =
    second === undefined ? { os: 'linux', architecture: first } : { os: first, architecture: second };
  if (third !== undefined) platform.variant = third;
  return normalizePlatform(platform);
}

/** Folds architecture aliases and fills the default variant of arm (v7) and arm64 (v8). */
export function normalizePlatform(platform: Platform): Platform {
  const alias = archAliases[platform.architecture.toLowerCase()];
  const architecture = alias?.architecture ?? platform.architecture.toLowerCase();
  const variant = platform.variant?.toLowerCase() || alias?.variant || defaultVariant(architecture);
  const out: Platform = { os: platform.os.toLowerCase(), architecture };
  if (variant !== undefined) out.variant = variant;
  return out;
}

/** `os/arch[/variant]`. */
export function formatPlatform(platform: Platform): string {
  return [platform.os, platform.architecture, platform.variant]
    .filter((p) => p !== undefined && p !== '')
    .join('/');
}

/**
 * The platforms a request can use, best first: itself, then older variants of the same architecture
 * (arm v7 → v6 → v5, amd64 v3 → v2 → v1), then compatible architectures (amd64 → 386). Built on the ideas
 * of Docker's OnlyPlatformWithFallback and containerd's platform matcher.
 */
export function compatiblePlatforms(requested: Platform): Platform[] {
  const want = normalizePlatform(requested);
  const out: Platform[] = [];
  const add = (architecture: string, variant?: string): void => {
    out.push(variant === undefined ? { os: want.os, architecture } : { os: want.os, architecture, variant });
  };
  const level = (v: string | undefined): number => Number(/^v(\d+)$/.exec(v ?? '')?.[1] ?? NaN);
  if (want.architecture === 'arm' && Number.isFinite(level(want.variant))) {
    for (let v = level(want.variant); v >= 5; v--) add('arm', `v${v}`);
  } else if (want.architecture === 'amd64') {
    const top = Number.isFinite(level(want.variant)) ? level(want.variant) : 1;
    for (let v = top; v >= 1; v--) add('amd64', v === 1 ? undefined : `v${v}`);
    add('386');
  } else {
    add(want.architecture, want.variant);
  }
  return out;
}

/**
 * Picks the manifest for `requested` from an index's descriptors: the best-ranked compatible platform wins,
 * and for one platform an exact variant beats an entry that names none. Entries without a platform and
 * attestation entries (`unknown/unknown`) never match. No match: PLATFORM_UNAVAILABLE listing what is there.
 */
export function selectPlatform(manifests: Descriptor[], requested: Platform, where: string): Descriptor {
  const targets = compatiblePlatforms(requested);
  let best: { descriptor: Descriptor; rank: number } | undefined;
  for (const descriptor of manifests) {
    if (!descriptor.platform || isAttestation(descriptor)) continue;
    const have = normalizePlatform(descriptor.platform);
    const named = descriptor.platform.variant !== undefined && descriptor.platform.variant !== '';
    for (let i = 0; i < targets.length; i++) {
      const target = targets[i] as Platform;
      if (have.os !== target.os || have.architecture !== target.architecture) continue;
      const exact =
        (have.variant ?? '') === (target.variant ?? '') && (named || target.variant === undefined);
      const loose = !named;
      if (!exact && !loose) continue;
      const rank = i * 2 + (exact ? 0 : 1);
      if (best === undefined || rank < best.rank) best = { descriptor, rank };
      break;
    }
  }
  if (best) return best.descriptor;
  const present = platformsOf(manifests).map(formatPlatform);
  throw new BerthError(
    'PLATFORM_UNAVAILABLE',
    `${where} has no image for ${formatPlatform(normalizePlatform(requested))}; it has: ${present.length > 0 ? present.join(', ') : 'no platforms'}`,
    { requested: formatPlatform(normalizePlatform(requested)), available: present },
  );
}

/** The platforms an index offers, in its order, without attestation entries. */
export function platformsOf(manifests: Descriptor[]): Platform[] {
  return manifests.flatMap((m) => (m.platform && !isAttestation(m) ? [stripPlatform(m.platform)] : []));
}

function stripPlatform(p: Platform): Platform {
  return p.variant
    ? { os: p.os, architecture: p.architecture, variant: p.variant }
    : { os: p.os, architecture: p.architecture };
}

function isAttestation(d: Descriptor): boolean {
  return (
    (d.platform?.os === 'unknown' && d.platform.architecture === 'unknown') ||
    d.annotations?.['vnd.docker.reference.type'] === 'attestation-manifest'
  );
}

function defaultVariant(architecture: string): string | undefined {
  if (architecture === 'arm64') return 'v8';
  if (architecture === 'arm') return 'v7';
  return undefined;
}
