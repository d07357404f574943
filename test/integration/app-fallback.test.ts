import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';

const berth = resolve(import.meta.dirname, '..', '..', 'bin', 'berth');
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-app-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

// `npm start` runs `berth app`; with no Electron binary it must say so in one line and serve the UI instead.
it('falls back to berth serve with one clear line when Electron is missing', async () => {
  const child = spawn(process.execPath, [berth, '--store', join(dir, 'store'), 'app'], {
    env: { ...process.env, ELECTRON_SKIP_BINARY_DOWNLOAD: '1', ELECTRON_OVERRIDE_DIST_PATH: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const url = await new Promise<string>((done, fail) => {
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
      const match = /(http:\/\/127\.0\.0\.1:\d+\/\?token=\S+)/.exec(stdout);
      if (match?.[1]) done(match[1]);
    });
    child.once('exit', (code) => fail(new Error(`exited ${String(code)}: ${stderr}`)));
  });
  try {
    const lines = stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^Electron is not installed here .*starting `berth serve` instead\.$/);
    expect(stderr).not.toMatch(/at .*\(.*:\d+:\d+\)/); // no stack trace
    const first = await fetch(url, { redirect: 'manual' });
    expect(first.status).toBe(303);
    const cookie = (first.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    const page = await fetch(new URL('/', url), { headers: { cookie } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<div id="root">');
  } finally {
    const exited = new Promise((done) => child.once('exit', done));
    child.kill('SIGTERM');
    await exited;
  }
});
