// What the figures were measured on: CPU, memory, kernel, Node, and the version of every tool involved.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';

function firstLine(command, args) {
  const result = spawnSync(command, args, { encoding: 'utf8', timeout: 30_000 });
  if (result.error || result.status !== 0) return null;
  return (result.stdout || result.stderr).trim().split('\n')[0] ?? null;
}

function osName() {
  try {
    return /^PRETTY_NAME="?([^"\n]*)"?/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** Machine facts and tool versions for the results file. */
export function machineFacts() {
  const tools = {
    skopeo: firstLine('skopeo', ['--version'])?.replace(/^skopeo version /, ''),
    podman: firstLine('podman', ['--version'])?.replace(/^podman version /, ''),
    'docker-registry': firstLine('docker-registry', ['--version'])?.split(' ').pop(),
    gzip: firstLine('gzip', ['--version'])?.replace(/^gzip /, ''),
    sha256sum: firstLine('sha256sum', ['--version'])?.replace(/^sha256sum \(GNU coreutils\) /, ''),
    'GNU time':
      firstLine('dpkg-query', ['-W', '-f', '${Version}', 'time']) ??
      firstLine('/usr/bin/time', ['--version']),
  };
  return {
    cpuModel: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGB: Math.round(totalmem() / 1024 ** 3),
    kernel: release(),
    os: osName(),
    node: process.version,
    tools: Object.fromEntries(Object.entries(tools).map(([k, v]) => [k, v ?? 'missing'])),
  };
}
