import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Settings } from '../../shared/contract';
import { BerthError } from '../../shared/error';

/** Settings a new install starts with. */
export const defaultSettings: Settings = { parallelDownloads: 3, theme: 'system' };

/**
 * The per-OS default store folder: `$XDG_DATA_HOME/berth/store` (else `~/.local/share/berth/store`) on
 * Linux, Application Support on macOS, `%APPDATA%` on Windows. Electron passes its own userData instead.
 */
export function defaultStorePath(env: NodeJS.ProcessEnv = process.env, platform = process.platform): string {
  if (env.BERTH_STORE) return env.BERTH_STORE;
  if (platform === 'darwin') return join(homedir(), 'Library', 'Application Support', 'berth', 'store');
  if (platform === 'win32')
    return join(env.APPDATA ?? join(homedir(), 'AppData', 'Roaming'), 'berth', 'store');
  const dataHome = env.XDG_DATA_HOME && env.XDG_DATA_HOME.startsWith('/') ? env.XDG_DATA_HOME : undefined;
  return join(dataHome ?? join(homedir(), '.local', 'share'), 'berth', 'store');
}

/** `config.json` beside the store folder: the one file holding user settings. */
export function settingsPath(storePath: string): string {
  return join(dirname(storePath), 'config.json');
}

/** Reads settings, filling gaps with defaults; a malformed file is an error that names it, never overwritten. */
export async function readSettings(file: string): Promise<Settings> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { ...defaultSettings };
    throw err;
  }
  try {
    return validateSettings({ ...defaultSettings, ...(JSON.parse(text) as Partial<Settings>) });
  } catch (err) {
    throw new BerthError('BAD_REQUEST', `${file} is not valid settings: ${(err as Error).message}`);
  }
}

/** Merges a patch into the settings file atomically (temp file, fsync, rename). */
export async function updateSettings(file: string, patch: Partial<Settings>): Promise<Settings> {
  const next = validateSettings({ ...(await readSettings(file)), ...patch });
  await mkdir(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  const handle = await open(tmp, 'w', 0o600);
  try {
    await handle.writeFile(JSON.stringify(next, null, 2) + '\n');
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(tmp, file);
  return next;
}

function validateSettings(s: Settings): Settings {
  if (!Number.isInteger(s.parallelDownloads) || s.parallelDownloads < 1 || s.parallelDownloads > 32) {
    throw new BerthError(
      'BAD_REQUEST',
      `parallelDownloads must be an integer from 1 to 32, got ${String(s.parallelDownloads)}`,
    );
  }
  if (!['light', 'dark', 'system'].includes(s.theme)) {
    throw new BerthError(
      'BAD_REQUEST',
      `theme must be light, dark or system, got ${JSON.stringify(s.theme)}`,
    );
  }
  return { parallelDownloads: s.parallelDownloads, theme: s.theme };
}
