import { readdir, readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { BerthError } from '../../../shared/error';

/** TLS material for one registry, read from its certs.d folder. */
export interface RegistryCertificates {
  /** The folder the files came from, or undefined when no folder exists for the registry. */
  dir?: string;
  /** Extra CA certificates (PEM), trusted in addition to the system roots. */
  ca: string[];
  /** A client certificate and its key (PEM), for mutual TLS. */
  client?: { cert: string; key: string };
}

/** certs.d roots in the order they are searched, as podman and docker use them. */
export function defaultCertsDirs(env: NodeJS.ProcessEnv = process.env, home = homedir()): string[] {
  const configHome =
    env.XDG_CONFIG_HOME && env.XDG_CONFIG_HOME.startsWith('/') ? env.XDG_CONFIG_HOME : join(home, '.config');
  return [join(configHome, 'containers', 'certs.d'), '/etc/containers/certs.d', '/etc/docker/certs.d'];
}

/**
 * Reads `<root>/<host:port>/` from the first root that has a folder for `registry`: every `*.crt` is a CA,
 * every `*.cert` a client certificate whose key is the `*.key` of the same name. A certificate without its
 * key (or the reverse) is an error naming the file, as is a second client pair.
 */
export async function findRegistryCertificates(
  registry: string,
  roots: string[] = defaultCertsDirs(),
): Promise<RegistryCertificates> {
  if (registry === '' || registry.includes('/') || registry === '.' || registry === '..') {
    throw new BerthError('BAD_REQUEST', `invalid registry host ${JSON.stringify(registry)}`);
  }
  for (const root of roots) {
    const dir = join(root, registry);
    let names: string[];
    try {
      names = (await readdir(dir)).sort();
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') continue;
      throw err;
    }
    const result: RegistryCertificates = { dir, ca: [] };
    for (const name of names) {
      if (name.endsWith('.crt')) result.ca.push(await readFile(join(dir, name), 'utf8'));
    }
    for (const name of names) {
      if (name.endsWith('.cert')) {
        const keyName = `${name.slice(0, -'.cert'.length)}.key`;
        if (!names.includes(keyName)) throw missingPair(join(dir, name), keyName);
        if (result.client) {
          throw new BerthError(
            'BAD_REQUEST',
            `${dir} holds more than one client certificate; keep one *.cert/*.key pair`,
          );
        }
        result.client = {
          cert: await readFile(join(dir, name), 'utf8'),
          key: await readFile(join(dir, keyName), 'utf8'),
        };
      } else if (name.endsWith('.key')) {
        const certName = `${name.slice(0, -'.key'.length)}.cert`;
        if (!names.includes(certName)) throw missingPair(join(dir, name), certName);
      }
    }
    return result;
  }
  return { ca: [] };
}

function missingPair(file: string, wanted: string): BerthError {
  return new BerthError('BAD_REQUEST', `${file} has no matching ${wanted} in the same certs.d folder`, {
    file,
  });
}
