import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { chromium, _electron, type Browser, type ElectronApplication, type Page } from '@playwright/test';

/** Which host a test runs against. */
export type HostKind = 'serve' | 'electron';

/** A running Berth with a page showing its UI and the store folder it uses. */
export interface Host {
  kind: HostKind;
  page: Page;
  storePath: string;
  /** Runs the CLI against the same store, as a user in a terminal would. */
  cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }>;
  close(): Promise<void>;
}

const root = resolve(import.meta.dirname, '..', '..');
const berth = join(root, 'bin', 'berth');

/** Chromium flags for a closed network and a root user (see the machine notes in the README). */
export const chromiumArgs = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** The Chromium to drive: $BERTH_CHROMIUM, else Debian's. */
export const chromiumPath = process.env.BERTH_CHROMIUM ?? '/usr/bin/chromium';

/** The Electron binary when one is installed (never triggers electron's lazy download). */
export function electronBinary(): string | undefined {
  try {
    const dir = dirname(createRequire(join(root, 'package.json')).resolve('electron/package.json'));
    const pathFile = join(dir, 'path.txt');
    if (!existsSync(pathFile)) return undefined;
    const binary = join(
      process.env.ELECTRON_OVERRIDE_DIST_PATH ?? join(dir, 'dist'),
      readFileSync(pathFile, 'utf8').trim(),
    );
    return existsSync(binary) ? binary : undefined;
  } catch {
    return undefined;
  }
}

/** True when the Electron project can run here. */
export function electronAvailable(): boolean {
  return electronBinary() !== undefined;
}

function runCli(
  storePath: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [berth, '--store', storePath, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.once('error', fail);
    child.once('close', (code) => done({ code: code ?? 1, stdout, stderr }));
  });
}

/** Starts `berth serve` on a fresh store and resolves with the URL it prints. */
export async function startServeProcess(
  storePath: string,
  env: Record<string, string> = {},
): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, [berth, '--store', storePath, 'serve', '--port', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  const url = await new Promise<string>((done, fail) => {
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /(http:\/\/\S+\?token=\S+)/.exec(out);
      if (match?.[1]) done(match[1]);
    });
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.once('exit', (code) => fail(new Error(`berth serve exited with ${String(code)}: ${err}`)));
  });
  return { url, child };
}

/** What to do before the host starts. */
export interface LaunchOptions {
  /** Fills the fresh store before Berth opens it (e.g. with fixture images). */
  prepareStore?: (storePath: string) => Promise<void>;
  /** Extra environment for the host process (e.g. `REGISTRY_AUTH_FILE`, `CONTAINERS_REGISTRIES_CONF`). */
  env?: Record<string, string>;
}

/** Launches a host of the given kind on a temporary store. */
export async function launchHost(kind: HostKind, options: LaunchOptions = {}): Promise<Host> {
  const storePath = join(await mkdtemp(join(tmpdir(), 'berth-e2e-')), 'store');
  const cleanup = () => rm(dirname(storePath), { recursive: true, force: true });
  await options.prepareStore?.(storePath);
  if (kind === 'electron') {
    const app: ElectronApplication = await _electron.launch({
      executablePath: electronBinary(),
      args: [root],
      env: { ...process.env, ...options.env, BERTH_STORE: storePath },
    });
    const page = await app.firstWindow();
    return {
      kind,
      page,
      storePath,
      cli: (args) => runCli(storePath, args, options.env),
      close: async () => {
        await app.close();
        await cleanup();
      },
    };
  }
  const { url, child } = await startServeProcess(storePath, options.env);
  const browser: Browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs });
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(url);
  return {
    kind,
    page,
    storePath,
    cli: (args) => runCli(storePath, args, options.env),
    close: async () => {
      await browser.close();
      const exited = new Promise((done) => child.once('exit', done));
      child.kill('SIGTERM');
      await exited;
      await cleanup();
    },
  };
}
