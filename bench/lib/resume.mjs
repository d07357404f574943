// Interrupt-and-resume: a byte-counting proxy in front of the registry, a client killed once half of the
// big layer went through, then the same pull again; the figure is what the second pull had to transfer.
import { spawn } from 'node:child_process';
import { createServer, request } from 'node:http';

/** Starts an HTTP proxy to `target` ("host:port") that counts blob body bytes per digest. */
export async function startCountingProxy(target) {
  const [targetHost, targetPort] = target.split(':');
  const counts = new Map();
  const ranges = [];
  const watchers = new Set();
  const server = createServer((req, res) => {
    const digest = /\/blobs\/(sha256:[0-9a-f]{64})/.exec(req.url ?? '')?.[1];
    if (digest && req.headers.range) ranges.push({ digest, range: req.headers.range });
    const upstream = request(
      { host: targetHost, port: Number(targetPort), path: req.url, method: req.method, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.on('data', (chunk) => {
          if (digest && req.method === 'GET') {
            counts.set(digest, (counts.get(digest) ?? 0) + chunk.length);
            for (const watcher of watchers) watcher();
          }
        });
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    res.on('close', () => upstream.destroy());
    req.pipe(upstream);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    host: `127.0.0.1:${server.address().port}`,
    bytes: (digest) => counts.get(digest) ?? 0,
    total: () => [...counts.values()].reduce((a, b) => a + b, 0),
    ranges: () => ranges.slice(),
    reset: () => {
      counts.clear();
      ranges.length = 0;
    },
    /** Resolves once `digest` has passed `bytes` bytes. */
    whenPassed: (digest, bytes) =>
      new Promise((resolve) => {
        const check = () => {
          if ((counts.get(digest) ?? 0) >= bytes) {
            watchers.delete(check);
            resolve();
          }
        };
        watchers.add(check);
        check();
      }),
    stop: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Spawns `command` in its own process group and SIGKILLs the group once `until` resolves (or it exits). */
async function runUntil(command, args, options, until) {
  const child = spawn(command, args, { ...options, detached: true, stdio: 'ignore' });
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const outcome = await Promise.race([until.then(() => 'interrupt'), exited.then(() => 'exited')]);
  if (outcome === 'interrupt') {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  const status = await exited;
  return { interrupted: outcome === 'interrupt', ...status };
}

/**
 * Measures one client's resume: pull through the proxy, kill at `fraction` of `layer`, pull again into the
 * same target (the client's context is kept between the two pulls).
 */
export async function measureResume({ proxy, client, ref, layer, fraction, scratch }) {
  const context = await client.prepare(scratch);
  try {
    proxy.reset();
    const { command, args, env, cwd } = client.command(context, ref, 'resume');
    const options = { env: env ?? process.env, cwd };
    const first = await runUntil(
      command,
      args,
      options,
      proxy.whenPassed(layer.digest, Math.floor(layer.size * fraction)),
    );
    if (!first.interrupted)
      throw new Error(`${client.name} finished before it was interrupted (${JSON.stringify(first)})`);
    const firstBytes = proxy.bytes(layer.digest);
    proxy.reset();
    const second = await runUntil(command, args, options, new Promise(() => {}));
    if (second.code !== 0)
      throw new Error(
        `${client.name} failed to pull again after the interruption (exit ${second.code ?? second.signal})`,
      );
    return {
      interruptedAtBytes: firstBytes,
      layerBytesOnResume: proxy.bytes(layer.digest),
      totalBytesOnResume: proxy.total(),
      rangeRequests: proxy.ranges().length,
    };
  } finally {
    await client.cleanup(context);
  }
}
