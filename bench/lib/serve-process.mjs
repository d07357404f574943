// Starts and stops `berth serve` for the probes that drive the app through its browser host.
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

/** Spawns `berth --store STORE serve`; resolves { child, url, started } once it printed its `?token=` URL. */
export async function startServe(repoRoot, store) {
  const started = performance.now();
  const child = spawn(process.execPath, [join(repoRoot, 'bin', 'berth'), '--store', store, 'serve'], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`berth serve printed no URL:\n${output}`)), 60_000);
    const onData = (chunk) => {
      output += chunk.toString('utf8');
      const match = /(http:\/\/\S+\?token=\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`berth serve exited ${code}:\n${output}`));
    });
  });
  return { child, url, started };
}

/** Stops a `berth serve` child: SIGTERM, then SIGKILL after 5 s. */
export async function stopServe(child) {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

/** The peak RSS of a live process so far, in MB (`VmHWM`), or null once it is gone. */
export async function peakRssOf(pid) {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const kb = Number(/^VmHWM:\s+(\d+) kB/m.exec(status)?.[1]);
  return Number.isFinite(kb) && kb > 0 ? kb / 1024 : null;
}
