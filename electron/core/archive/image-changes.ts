import { posix } from 'node:path';
import { DockerfileParser, type Instruction } from 'dockerfile-ast';
import { quoteInput } from '../../../shared/digest';
import { changeInstructions } from '../../../shared/change-instructions';
import { BerthError } from '../../../shared/error';

/** The `config` block of an image config that `--change` instructions may set (OCI/Docker field names). */
export interface ContainerConfig {
  User?: string;
  ExposedPorts?: Record<string, Record<string, never>>;
  Env?: string[];
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  Volumes?: Record<string, Record<string, never>>;
  WorkingDir?: string;
  Labels?: Record<string, string>;
  [field: string]: unknown;
}

/** The instructions `--change` accepts (one list, shared with the UI's inline check). */
export { changeInstructions };

/** JSON-array form when the text parses as an array of strings, else shell form, as Docker decides. */
function commandOf(text: string): string[] {
  const trimmed = text.trim();
  if (trimmed.startsWith('[')) {
    try {
      const parsed: unknown = JSON.parse(trimmed);
      if (Array.isArray(parsed) && parsed.every((p) => typeof p === 'string')) return parsed;
    } catch {
      // Not JSON: Docker then runs the text through a shell.
    }
  }
  return ['/bin/sh', '-c', trimmed];
}

function listOf(text: string, instruction: Instruction): string[] {
  const trimmed = text.trim();
  if (trimmed.startsWith('[')) {
    try {
      const parsed: unknown = JSON.parse(trimmed);
      if (Array.isArray(parsed) && parsed.every((p) => typeof p === 'string')) return parsed;
    } catch {
      // Falls through to the space-separated form.
    }
  }
  return instruction.getArguments().map((a) => a.getValue());
}

function bad(change: string, why: string): BerthError {
  return new BerthError('BAD_REQUEST', `--change ${quoteInput(change)}: ${why}`, { change });
}

function setEnv(env: string[], name: string, value: string): string[] {
  return [...env.filter((e) => e.split('=', 1)[0] !== name), `${name}=${value}`];
}

function properties(instruction: Instruction, change: string): [string, string][] {
  const withProps = instruction as Instruction & {
    getProperties?: () => { getName(): string; getValue(): string | null }[];
  };
  const props = withProps.getProperties?.() ?? [];
  if (props.length === 0) throw bad(change, `${instruction.getKeyword()} needs at least one key=value`);
  return props.map((p) => {
    const value = p.getValue();
    if (p.getName() === '' || value === null)
      throw bad(change, `${instruction.getKeyword()} needs key=value (or "ENV key value")`);
    return [p.getName(), value];
  });
}

function portOf(spec: string, change: string): string {
  const m = /^(\d{1,5})(?:-(\d{1,5}))?(?:\/(tcp|udp|sctp))?$/i.exec(spec);
  if (!m) throw bad(change, `${quoteInput(spec)} is not a port (e.g. 80, 8080/tcp, 53/udp)`);
  const port = Number(m[1]);
  if (port < 1 || port > 65535) throw bad(change, `port ${port} is out of range`);
  return `${m[1]}${m[2] !== undefined ? `-${m[2]}` : ''}/${(m[3] ?? 'tcp').toLowerCase()}`;
}

function applyOne(config: ContainerConfig, instruction: Instruction, change: string): ContainerConfig {
  const keyword = instruction.getKeyword().toUpperCase();
  const text = instruction.getArgumentsContent() ?? '';
  const next: ContainerConfig = { ...config };
  switch (keyword) {
    case 'CMD':
      if (text.trim() === '') throw bad(change, 'CMD needs a command');
      next.Cmd = commandOf(text);
      return next;
    case 'ENTRYPOINT':
      if (text.trim() === '') throw bad(change, 'ENTRYPOINT needs a command');
      next.Entrypoint = commandOf(text);
      return next;
    case 'ENV': {
      let env = next.Env ?? [];
      for (const [name, value] of properties(instruction, change)) env = setEnv(env, name, value);
      next.Env = env;
      return next;
    }
    case 'LABEL': {
      const labels = { ...next.Labels };
      for (const [name, value] of properties(instruction, change)) labels[name] = value;
      next.Labels = labels;
      return next;
    }
    case 'EXPOSE': {
      const ports = listOf(text, instruction);
      if (ports.length === 0) throw bad(change, 'EXPOSE needs at least one port');
      const exposed = { ...next.ExposedPorts };
      for (const spec of ports) exposed[portOf(spec, change)] = {};
      next.ExposedPorts = exposed;
      return next;
    }
    case 'VOLUME': {
      const paths = listOf(text, instruction).filter((p) => p !== '');
      if (paths.length === 0) throw bad(change, 'VOLUME needs at least one path');
      const volumes = { ...next.Volumes };
      for (const path of paths) volumes[path] = {};
      next.Volumes = volumes;
      return next;
    }
    case 'USER': {
      const user = text.trim();
      if (user === '') throw bad(change, 'USER needs a user name or ID');
      next.User = user;
      return next;
    }
    case 'WORKDIR': {
      const dir = text.trim();
      if (dir === '') throw bad(change, 'WORKDIR needs a path');
      next.WorkingDir = posix.isAbsolute(dir) ? dir : posix.join(next.WorkingDir ?? '/', dir);
      return next;
    }
    default:
      throw bad(
        change,
        `${keyword || 'an empty instruction'} cannot be used with import; allowed: ${changeInstructions.join(', ')}`,
      );
  }
}

/**
 * Applies `docker import --change` instructions to a container config, in order: CMD and ENTRYPOINT in
 * JSON-array or shell form, `ENV k=v …` or `ENV k v`, `LABEL k=v …` (quotes and escapes as a Dockerfile
 * reads them), EXPOSE ports (default tcp), VOLUME paths, USER, WORKDIR (relative to the previous one).
 * Any other instruction is BAD_REQUEST naming it; nothing is applied then.
 */
export function applyChanges(config: ContainerConfig, changes: readonly string[]): ContainerConfig {
  let result = { ...config };
  for (const change of changes) {
    const instructions = DockerfileParser.parse(change).getInstructions();
    if (instructions.length === 0) throw bad(change, 'no instruction given');
    for (const instruction of instructions) result = applyOne(result, instruction, change);
  }
  return result;
}
