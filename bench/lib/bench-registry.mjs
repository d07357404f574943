// The real docker-registry on loopback, with its storage kept in the bench cache so pushes happen once.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { request } from 'undici';

/** The CNCF distribution registry from Debian's docker-registry package. */
export const REGISTRY_BINARY = process.env.BERTH_REGISTRY_BINARY ?? '/usr/bin/docker-registry';

/** Starts docker-registry on 127.0.0.1:<free port> over `storageDir`; resolves once `/v2/` answers. */
export async function startBenchRegistry(storageDir, configDir) {
  await mkdir(storageDir, { recursive: true });
  await mkdir(configDir, { recursive: true });
  const config = {
    version: '0.1',
    log: { level: 'info', formatter: 'text', accesslog: { disabled: true } },
    storage: {
      filesystem: { rootdirectory: storageDir },
      maintenance: { uploadpurging: { enabled: false } },
    },
    http: { addr: '127.0.0.1:0', secret: randomUUID() },
  };
  const configPath = join(configDir, 'registry.yml');
  // YAML is a superset of JSON.
  await writeFile(configPath, JSON.stringify(config, null, 2));
  const child = spawn(REGISTRY_BINARY, ['serve', configPath], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: configDir },
  });
  let output = '';
  const listening = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`docker-registry did not start:\n${output}`)), 15_000);
    const onData = (chunk) => {
      output += chunk.toString('utf8');
      const match = /listening on 127\.0\.0\.1:(\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`docker-registry exited (${code}):\n${output}`));
    });
  });
  let port;
  try {
    port = await listening;
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  const host = `127.0.0.1:${port}`;
  const url = `http://${host}`;
  for (let attempt = 0; ; attempt++) {
    try {
      const response = await request(`${url}/v2/`);
      await response.body.dump();
      if (response.statusCode === 200) break;
    } catch (error) {
      if (attempt > 200) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  process.once('exit', () => child.kill('SIGKILL'));
  return {
    host,
    url,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

async function expectStatus(response, statuses, what) {
  if (statuses.includes(response.statusCode)) {
    await response.body.dump();
    return response;
  }
  throw new Error(`${what}: HTTP ${response.statusCode} ${(await response.body.text()).slice(0, 300)}`);
}

/** Uploads one blob from a file (monolithic POST + streamed PUT) unless the registry has it. */
async function pushBlobFile(registry, repo, digest, size, file) {
  const head = await request(`${registry.url}/v2/${repo}/blobs/${digest}`, { method: 'HEAD' });
  await head.body.dump();
  if (head.statusCode === 200) return false;
  const start = await expectStatus(
    await request(`${registry.url}/v2/${repo}/blobs/uploads/`, { method: 'POST' }),
    [202],
    `start upload ${digest}`,
  );
  const location = new URL(start.headers.location, registry.url);
  location.searchParams.set('digest', digest);
  await expectStatus(
    await request(location, {
      method: 'PUT',
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(size) },
      body: createReadStream(file),
    }),
    [201],
    `upload ${digest}`,
  );
  return true;
}

async function pushManifestBlob(registry, repo, reference, mediaType, file) {
  await expectStatus(
    await request(`${registry.url}/v2/${repo}/manifests/${reference}`, {
      method: 'PUT',
      headers: { 'content-type': mediaType },
      body: await readFile(file),
    }),
    [201],
    `put manifest ${repo}:${reference}`,
  );
}

/** Pushes every workload (layers, configs, manifests, index) under its repo:tag; returns bytes uploaded. */
export async function pushWorkloads(registry, images) {
  let uploaded = 0;
  const blob = (digest) => join(images.blobsDir, digest.slice('sha256:'.length));
  const pushManifest = async (repo, reference, manifest) => {
    for (const d of [manifest.config, ...manifest.layers]) {
      if (await pushBlobFile(registry, repo, d.digest, d.size, blob(d.digest))) uploaded += d.size;
    }
    await pushManifestBlob(registry, repo, reference, manifest.mediaType, blob(manifest.digest));
  };
  for (const workload of Object.values(images.workloads)) {
    if (workload.kind === 'index') {
      for (const child of workload.children) await pushManifest(workload.repo, child.digest, child);
      await pushManifestBlob(
        registry,
        workload.repo,
        workload.tag,
        workload.mediaType,
        blob(workload.digest),
      );
    } else {
      await pushManifest(workload.repo, workload.tag, workload);
    }
  }
  return uploaded;
}
