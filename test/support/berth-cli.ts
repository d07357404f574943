import { execFile } from 'node:child_process';
import { join } from 'node:path';

/** What one CLI run printed and how it ended. */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** The built CLI (`npm run build` makes what it loads). */
export const berthBin = join(import.meta.dirname, '..', '..', 'bin', 'berth');

/**
 * Runs a Berth CLI entry (the built `bin/berth` unless `entry` says otherwise) on `store` with `home` as HOME and
 * only PATH from this process's environment, so no user's auth file or registries.conf leaks in; `env` adds to it.
 * stdout is a pipe, so the CLI prints its plain display. Never rejects: a failure is a non-zero `code`.
 */
export function runCli(options: {
  store: string;
  home: string;
  args: string[];
  env?: Record<string, string>;
  stdin?: string;
  entry?: string;
  maxBuffer?: number;
}): Promise<CliRun> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [options.entry ?? berthBin, '--store', options.store, ...options.args],
      {
        env: { PATH: process.env.PATH, HOME: options.home, ...options.env },
        timeout: 60_000,
        ...(options.maxBuffer === undefined ? {} : { maxBuffer: options.maxBuffer }),
      },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
    child.stdin?.end(options.stdin ?? '');
  });
}
