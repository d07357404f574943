// The least a freshly started Node process does for a pull: fetch the host platform's manifest, config and
// layers with node:http (built in, nothing to load) and check each against its digest. No store opened, no
// layer indexed. A Berth CLI pull does all this and more in a process as fresh, so where this probe is slower
// than a peer, no `berth pull` started for the one pull can beat that peer on this machine.
//
// Usage: node node-transfer.mjs [--write] HOST REPOSITORY TAG DIR. Without --write no file is written; blobs
// named in DIR/have (one digest a line, written by an earlier run on the same DIR) are skipped, as a store
// that holds them would. With --write it also does the disk work of `skopeo copy … oci:DIR`: each blob streamed
// into a temporary file, fsynced and renamed into DIR/blobs/sha256 (blobs already there are skipped), then
// DIR/oci-layout and DIR/index.json written. Prints `verified` at the end.
import { createHash } from 'node:crypto';
import { appendFileSync, createWriteStream, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { join } from 'node:path';

const write = process.argv[2] === '--write';
const [host, repository, tag, dir] = process.argv.slice(write ? 3 : 2);
if (!dir) throw new Error('usage: node node-transfer.mjs [--write] HOST REPOSITORY TAG DIR');
const [hostname, port] = host.split(':');
const agent = new http.Agent({ keepAlive: true, maxSockets: 6 });
const accept = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');
const haveFile = join(dir, 'have');
const blobs = join(dir, 'blobs', 'sha256');
if (write) mkdirSync(blobs, { recursive: true });
const have = new Set(
  write
    ? readdirSync(blobs).map((hex) => `sha256:${hex}`)
    : readFileSync(haveFile, { encoding: 'utf8', flag: 'a+' }).split('\n').filter(Boolean),
);

/**
 * GETs `path` from the registry; resolves the body's sha256 digest, and the body itself when `keep`. With `file`
 * the body is also streamed into it and fsynced before this resolves; a 1 MiB high-water mark keeps the socket
 * from being paused around every 16 KiB write (as Berth's blob writer does).
 */
function get(path, keep, file) {
  return new Promise((resolve, reject) => {
    const request = http.get({ hostname, port, path, agent, headers: { accept } }, (response) => {
      if (response.statusCode !== 200) {
        response.resume();
        reject(new Error(`GET ${path}: HTTP ${response.statusCode}`));
        return;
      }
      const hash = createHash('sha256');
      const parts = [];
      response.on('data', (chunk) => {
        hash.update(chunk);
        if (keep) parts.push(chunk);
      });
      const settle = () => resolve({ digest: `sha256:${hash.digest('hex')}`, body: Buffer.concat(parts) });
      if (file) {
        const out = createWriteStream(file, { flush: true, highWaterMark: 1 << 20 });
        out.on('close', settle).on('error', reject);
        response.pipe(out);
      } else response.on('end', settle);
      response.on('error', reject);
    });
    request.on('error', reject);
  });
}

/** Fetches `digest` from `kind` (manifests or blobs) and fails unless the bytes hash to it; stores it with --write. */
async function verified(kind, digest, keep) {
  const target = join(blobs, digest.slice('sha256:'.length));
  const fetched = await get(`/v2/${repository}/${kind}/${digest}`, keep, write && `${target}.part`);
  if (fetched.digest !== digest) throw new Error(`${kind} ${digest} arrived as ${fetched.digest}`);
  if (write) await rename(`${target}.part`, target);
  return fetched.body;
}

await get('/v2/', false);
const top = await get(`/v2/${repository}/manifests/${tag}`, true);
let manifest = JSON.parse(top.body);
let stored = { mediaType: manifest.mediaType, digest: top.digest, size: top.body.length };
if (manifest.manifests) {
  const child = manifest.manifests.find(
    (m) => m.platform?.os === 'linux' && m.platform?.architecture === 'amd64',
  );
  if (!child) throw new Error(`${repository}:${tag} has no linux/amd64 manifest`);
  manifest = JSON.parse(await verified('manifests', child.digest, true));
  stored = { mediaType: child.mediaType, digest: child.digest, size: child.size };
} else if (write) await writeFile(join(blobs, top.digest.slice('sha256:'.length)), top.body);
const moving = [manifest.config, ...manifest.layers].filter((d) => !have.has(d.digest));
await Promise.all(moving.map((d) => verified('blobs', d.digest, false)));
if (write) {
  await writeFile(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  await writeFile(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [stored] }));
} else appendFileSync(haveFile, moving.map((d) => `${d.digest}\n`).join(''));
process.stdout.write('verified\n');
agent.destroy();
