// The least a freshly started Node process does for a pull: fetch the host platform's manifest, config and
// layers with node:http (built in, nothing to load) and check each against its digest. No file is written, no
// store opened, no layer indexed. A Berth CLI pull does all this and more in a process as fresh, so where this
// probe is slower than a peer, no `berth pull` started for the one pull can beat that peer on this machine.
//
// Usage: node node-transfer.mjs HOST REPOSITORY TAG DIR. Blobs named in DIR/have (one digest a line, written
// by an earlier run on the same DIR) are skipped, as a store that holds them would; prints `verified` at the end.
import { createHash } from 'node:crypto';
import { appendFileSync, readFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';

const [host, repository, tag, dir] = process.argv.slice(2);
if (!dir) throw new Error('usage: node node-transfer.mjs HOST REPOSITORY TAG DIR');
const [hostname, port] = host.split(':');
const agent = new http.Agent({ keepAlive: true, maxSockets: 6 });
const accept = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');
const haveFile = join(dir, 'have');
const have = new Set(readFileSync(haveFile, { encoding: 'utf8', flag: 'a+' }).split('\n').filter(Boolean));

/** GETs `path` from the registry; resolves the body's sha256 digest, and the body itself when `keep`. */
function get(path, keep) {
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
      response.on('end', () =>
        resolve({ digest: `sha256:${hash.digest('hex')}`, body: Buffer.concat(parts) }),
      );
      response.on('error', reject);
    });
    request.on('error', reject);
  });
}

/** Fetches `digest` from `kind` (manifests or blobs) and fails unless the bytes hash to it. */
async function verified(kind, digest, keep) {
  const fetched = await get(`/v2/${repository}/${kind}/${digest}`, keep);
  if (fetched.digest !== digest) throw new Error(`${kind} ${digest} arrived as ${fetched.digest}`);
  return fetched.body;
}

await get('/v2/', false);
let manifest = JSON.parse((await get(`/v2/${repository}/manifests/${tag}`, true)).body);
if (manifest.manifests) {
  const child = manifest.manifests.find(
    (m) => m.platform?.os === 'linux' && m.platform?.architecture === 'amd64',
  );
  if (!child) throw new Error(`${repository}:${tag} has no linux/amd64 manifest`);
  manifest = JSON.parse(await verified('manifests', child.digest, true));
}
const moving = [manifest.config, ...manifest.layers].filter((d) => !have.has(d.digest));
await Promise.all(moving.map((d) => verified('blobs', d.digest, false)));
process.stdout.write('verified\n');
appendFileSync(haveFile, moving.map((d) => `${d.digest}\n`).join(''));
agent.destroy();
