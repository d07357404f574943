import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  defaultRegistriesConfPaths,
  emptyRegistriesConf,
  loadRegistriesConf,
  mergeRegistriesConf,
  parseRegistriesConf,
  type RegistriesConf,
} from '../../../electron/core/reference/registries-conf';
import {
  findRegistryEntry,
  isInsecureRegistry,
  pullSources,
} from '../../../electron/core/reference/registry-rules';
import { resolveShortName } from '../../../electron/core/reference/short-name';
import { formatReference, parseReference } from '../../../shared/reference';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-regconf-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function conf(text: string): RegistriesConf {
  const c = emptyRegistriesConf();
  const file = parseRegistriesConf(text, 'test.conf');
  Object.assign(c, {
    aliases: file.aliases,
    registries: file.registries,
    insecureRegistries: file.insecureRegistries,
    ...(file.unqualifiedSearchRegistries
      ? { unqualifiedSearchRegistries: file.unqualifiedSearchRegistries }
      : {}),
    ...(file.shortNameMode ? { shortNameMode: file.shortNameMode } : {}),
  });
  return c;
}

const sample = `
unqualified-search-registries = ["registry.example.com", "docker.io", "quay.io"]
short-name-mode = "enforcing"

[aliases]
"fedora" = "registry.fedoraproject.org/fedora"
"blocked-alias" = "evil.example.com/app"

[[registry]]
prefix = "docker.io"
location = "docker.io"
[[registry.mirror]]
location = "mirror.example.com:5000"
insecure = true
[[registry.mirror]]
location = "digests.example.com"
pull-from-mirror = "digest-only"

[[registry]]
location = "evil.example.com"
blocked = true

[[registry]]
prefix = "quay.io"
location = "quay.io"
blocked = true

[[registry]]
prefix = "example.com/team"
location = "internal.example.com:8443/team-mirror"

[[registry]]
location = "10.1.2.3:5000"
insecure = true
`;

describe('parseRegistriesConf', () => {
  it('reads search registries, mode, aliases, registries and mirrors', () => {
    const c = conf(sample);
    expect(c.unqualifiedSearchRegistries).toEqual(['registry.example.com', 'docker.io', 'quay.io']);
    expect(c.shortNameMode).toBe('enforcing');
    expect(c.aliases.fedora).toBe('registry.fedoraproject.org/fedora');
    expect(c.registries.find((r) => r.prefix === 'docker.io')?.mirrors).toEqual([
      { location: 'mirror.example.com:5000', insecure: true, pullFromMirror: 'all' },
      { location: 'digests.example.com', insecure: false, pullFromMirror: 'digest-only' },
    ]);
    expect(c.registries.find((r) => r.location === 'evil.example.com')).toMatchObject({
      prefix: 'evil.example.com',
      blocked: true,
    });
  });

  it('reads the v1 format lists', () => {
    const v1 = parseRegistriesConf(
      '[registries.search]\nregistries = ["a.example"]\n[registries.insecure]\nregistries = ["b.example:5000", "10.0.0.0/8"]\n[registries.block]\nregistries = ["c.example"]\n',
    );
    expect(v1.unqualifiedSearchRegistries).toEqual(['a.example']);
    expect(v1.insecureRegistries).toEqual(['b.example:5000', '10.0.0.0/8']);
    expect(v1.registries).toEqual([
      {
        prefix: 'c.example',
        location: 'c.example',
        insecure: false,
        secure: false,
        blocked: true,
        mirrors: [],
      },
    ]);
  });

  it('names the file and the problem for malformed input', () => {
    expect(() => parseRegistriesConf('unqualified-search-registries = "docker.io"', '/etc/x.conf')).toThrow(
      '/etc/x.conf is not a valid registries.conf: unqualified-search-registries must be an array of strings',
    );
    expect(() => parseRegistriesConf('[[registry]]\ninsecure = true', 'f')).toThrow(
      /needs a prefix or a location/,
    );
    expect(() => parseRegistriesConf('short-name-mode = "loose"', 'f')).toThrow(/short-name-mode/);
    expect(() => parseRegistriesConf('this is = = not toml', 'f')).toThrow(
      /^f is not a valid registries.conf/,
    );
  });
});

describe('loadRegistriesConf', () => {
  it('prefers the user file over the system file and applies drop-ins in name order', async () => {
    const root = join(dir, 'layered');
    await mkdir(join(root, 'system.d'), { recursive: true });
    await mkdir(join(root, 'user.d'), { recursive: true });
    await writeFile(join(root, 'system.conf'), 'unqualified-search-registries = ["system.example"]');
    await writeFile(
      join(root, 'user.conf'),
      'unqualified-search-registries = ["user.example"]\n[aliases]\n"a" = "x.example/a"',
    );
    await writeFile(
      join(root, 'system.d', '10-one.conf'),
      '[aliases]\n"a" = "system.example/a"\n"b" = "system.example/b"',
    );
    await writeFile(
      join(root, 'system.d', '20-two.conf'),
      'unqualified-search-registries = ["dropin.example"]',
    );
    await writeFile(
      join(root, 'user.d', '20-two.conf'),
      '[[registry]]\nlocation = "blocked.example"\nblocked = true',
    );
    await writeFile(join(root, 'system.d', 'ignored.txt'), 'not toml at all = =');
    const paths = {
      user: join(root, 'user.conf'),
      system: join(root, 'system.conf'),
      dropInDirs: [join(root, 'system.d'), join(root, 'user.d')],
    };
    const c = await loadRegistriesConf(paths);
    expect(c.sources).toEqual([
      join(root, 'user.conf'),
      join(root, 'system.d', '10-one.conf'),
      join(root, 'user.d', '20-two.conf'),
    ]);
    expect(c.unqualifiedSearchRegistries).toEqual(['user.example']);
    expect(c.aliases).toEqual({ a: 'system.example/a', b: 'system.example/b' });
    expect(c.registries.map((r) => r.prefix)).toEqual(['blocked.example']);

    const system = await loadRegistriesConf({ ...paths, user: join(root, 'missing.conf') });
    expect(system.unqualifiedSearchRegistries).toEqual(['system.example']);
    const systemOnly = await loadRegistriesConf({
      ...paths,
      user: join(root, 'missing.conf'),
      dropInDirs: [join(root, 'system.d')],
    });
    expect(systemOnly.unqualifiedSearchRegistries).toEqual(['dropin.example']);
  });

  it('reads only the override file when one is given, and nothing when files are missing', async () => {
    const file = join(dir, 'override.conf');
    await writeFile(file, 'unqualified-search-registries = ["only.example"]');
    const c = await loadRegistriesConf({
      override: file,
      user: '/nonexistent',
      system: '/nonexistent',
      dropInDirs: ['/nonexistent'],
    });
    expect(c.sources).toEqual([file]);
    expect(
      (await loadRegistriesConf({ user: '/nonexistent/a', system: '/nonexistent/b', dropInDirs: [] }))
        .sources,
    ).toEqual([]);
  });

  it('knows the usual paths', () => {
    const paths = defaultRegistriesConfPaths({ CONTAINERS_REGISTRIES_CONF: '/x.conf' }, '/home/u');
    expect(paths).toEqual({
      override: '/x.conf',
      user: '/home/u/.config/containers/registries.conf',
      system: '/etc/containers/registries.conf',
      dropInDirs: ['/etc/containers/registries.conf.d', '/home/u/.config/containers/registries.conf.d'],
    });
  });
});

describe('resolveShortName', () => {
  const c = conf(sample);
  const names = (input: string, cf = c): string[] =>
    resolveShortName(cf, input).candidates.map((x) => formatReference(x.reference));

  it('uses an alias first, keeping the tag or digest', () => {
    const r = resolveShortName(c, 'fedora:40');
    expect(r.candidates).toEqual([
      { reference: parseReference('registry.fedoraproject.org/fedora:40'), origin: 'alias' },
    ]);
    expect(r.summary).toBe('fedora:40 → registry.fedoraproject.org/fedora:40 (alias)');
    const digest = `sha256:${'1'.repeat(64)}`;
    expect(names(`fedora@${digest}`)).toEqual([`registry.fedoraproject.org/fedora@${digest}`]);
  });

  it('tries each search registry in order, skipping blocked ones, with docker.io library/ rules', () => {
    const r = resolveShortName(c, 'alpine');
    expect(r.candidates.map((x) => formatReference(x.reference))).toEqual([
      'registry.example.com/alpine:latest',
      'docker.io/library/alpine:latest',
    ]);
    expect(r.blocked).toEqual(['quay.io']);
    expect(r.ambiguous).toBe(true);
    expect(r.mode).toBe('enforcing');
    expect(r.summary).toContain('blocked: quay.io');
    expect(names('myorg/app:1')).toEqual(['registry.example.com/myorg/app:1', 'docker.io/myorg/app:1']);
  });

  it('searches docker.io when nothing is configured', () => {
    const r = resolveShortName(emptyRegistriesConf(), 'alpine:3.20');
    expect(r.candidates.map((x) => formatReference(x.reference))).toEqual(['docker.io/library/alpine:3.20']);
    expect(r.ambiguous).toBe(false);
    expect(r.summary).toBe('alpine:3.20 → docker.io/library/alpine:3.20 (search registry)');
  });

  it('passes fully qualified names through, refusing blocked registries', () => {
    expect(names('ghcr.io/org/app')).toEqual(['ghcr.io/org/app:latest']);
    expect(() => resolveShortName(c, 'evil.example.com/app:1')).toThrow(
      expect.objectContaining({ code: 'REGISTRY_BLOCKED' }),
    );
    expect(() => resolveShortName(c, 'blocked-alias')).toThrow(/blocked in registries.conf/);
    const allBlocked = conf(
      'unqualified-search-registries = ["quay.io"]\n[[registry]]\nlocation = "quay.io"\nblocked = true',
    );
    expect(() => resolveShortName(allBlocked, 'alpine')).toThrow(
      expect.objectContaining({ code: 'REGISTRY_BLOCKED' }),
    );
  });

  it('refuses invalid names and an empty search list', () => {
    expect(() => resolveShortName(c, 'Alpine')).toThrow(
      expect.objectContaining({ code: 'INVALID_REFERENCE' }),
    );
    expect(() => resolveShortName(conf('unqualified-search-registries = []'), 'alpine')).toThrow(
      /no unqualified-search-registries/,
    );
  });
});

describe('registry rules', () => {
  const c = conf(sample);

  it('matches the longest prefix at a path boundary only', () => {
    expect(findRegistryEntry(c, 'example.com/team/app:1')?.prefix).toBe('example.com/team');
    expect(findRegistryEntry(c, 'example.com/teamwork/app')).toBeUndefined();
    expect(findRegistryEntry(c, 'docker.io/library/alpine:3')?.prefix).toBe('docker.io');
    expect(
      findRegistryEntry(conf('[[registry]]\nlocation = "example.com"\nblocked = true'), 'example.com:5000/x'),
    ).toBeUndefined();
    const wildcard = conf('[[registry]]\nprefix = "*.example.org"\nblocked = true');
    expect(findRegistryEntry(wildcard, 'a.b.example.org:443/x')?.blocked).toBe(true);
    expect(findRegistryEntry(wildcard, 'example.org/x')).toBeUndefined();
  });

  it('lists mirrors before the registry, honouring pull-from-mirror', () => {
    const tagged = pullSources(c, parseReference('docker.io/library/alpine:3'));
    expect(tagged.map((s) => [formatReference(s.reference), s.insecure, s.mirror])).toEqual([
      ['mirror.example.com:5000/library/alpine:3', true, true],
      ['docker.io/library/alpine:3', false, false],
    ]);
    const digest = `sha256:${'2'.repeat(64)}`;
    const pinned = pullSources(c, parseReference(`docker.io/library/alpine@${digest}`));
    expect(pinned.map((s) => s.registry)).toEqual([
      'mirror.example.com:5000',
      'digests.example.com',
      'docker.io',
    ]);
    expect(
      pullSources(c, parseReference('example.com/team/app:1')).map((s) => formatReference(s.reference)),
    ).toEqual(['internal.example.com:8443/team-mirror/app:1']);
    expect(() => pullSources(c, parseReference('quay.io/a/b'))).toThrow(
      expect.objectContaining({ code: 'REGISTRY_BLOCKED' }),
    );
  });

  it('treats loopback, configured hosts and CIDRs as insecure, nothing else', () => {
    const plain = emptyRegistriesConf();
    for (const host of ['localhost', 'localhost:5000', '127.0.0.1:5000', '127.9.9.9', '[::1]:5000', '::1']) {
      expect(isInsecureRegistry(plain, host)).toBe(true);
    }
    for (const host of ['docker.io', '128.0.0.1', '10.1.2.3:5000', 'localhost.example.com']) {
      expect(isInsecureRegistry(plain, host)).toBe(false);
    }
    expect(isInsecureRegistry(c, '10.1.2.3:5000')).toBe(true);
    expect(isInsecureRegistry(c, 'mirror.example.com:5000')).toBe(true);
    const cidr = {
      ...plain,
      insecureRegistries: ['192.168.0.0/16', 'fd00::/8', 'reg.lan:5000', 'other.lan'],
    };
    expect(isInsecureRegistry(cidr, '192.168.4.5:5000')).toBe(true);
    expect(isInsecureRegistry(cidr, '192.169.4.5:5000')).toBe(false);
    expect(isInsecureRegistry(cidr, '[fd00::1]:5000')).toBe(true);
    expect(isInsecureRegistry(cidr, 'reg.lan:5000')).toBe(true);
    expect(isInsecureRegistry(cidr, 'reg.lan:6000')).toBe(false);
    expect(isInsecureRegistry(cidr, 'other.lan:1234')).toBe(true);
  });

  it('verifies TLS on a loopback registry whose [[registry]] says insecure = false outright', () => {
    const conf = emptyRegistriesConf();
    mergeRegistriesConf(
      conf,
      parseRegistriesConf(
        '[[registry]]\nlocation = "127.0.0.1:5000"\ninsecure = false\n[[registry]]\nlocation = "127.0.0.1:6000"\n',
      ),
    );
    expect(isInsecureRegistry(conf, '127.0.0.1:5000')).toBe(false);
    expect(isInsecureRegistry(conf, '127.0.0.1:6000')).toBe(true);
    expect(isInsecureRegistry(conf, '127.0.0.1:7000')).toBe(true);
  });
});
