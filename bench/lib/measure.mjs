// Runs a command under GNU time and reports its wall time and peak RSS; folds repeated runs into a figure.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

/** Where Debian's `time` package puts GNU time (bench/deps.sh installs it). */
export const GNU_TIME = '/usr/bin/time';

let sequence = 0;

/**
 * Runs `command args` to completion. Wall time is taken here around spawn and exit (GNU time only prints
 * 10 ms resolution); peak RSS (largest process of the tree, as wait4 reports it) comes from `time -f %M`.
 * With `mark` (a RegExp), `markSeconds` is the time from spawn until a stdout line first matched it.
 * Rejects with the command's stderr when it exits non-zero.
 */
export async function runTimed(command, args, options = {}) {
  const { env, cwd, scratch, input, onSpawn, mark } = options;
  const rssFile = scratch ? join(scratch, `rss-${process.pid}-${++sequence}.txt`) : undefined;
  const useTime = rssFile !== undefined && existsSync(GNU_TIME);
  const [file, argv] = useTime ? [GNU_TIME, ['-f', '%M', '-o', rssFile, command, ...args]] : [command, args];
  const started = performance.now();
  const child = spawn(file, argv, {
    cwd,
    env: env ?? process.env,
    stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
  onSpawn?.(child);
  if (input !== undefined) child.stdin.end(input);
  let stdout = '';
  let stderr = '';
  let markSeconds = null;
  child.stdout.setEncoding('utf8').on('data', (s) => {
    stdout += s;
    if (mark && markSeconds === null && mark.test(stdout)) markSeconds = (performance.now() - started) / 1000;
  });
  child.stderr.setEncoding('utf8').on('data', (s) => (stderr += s));
  const [code, signal] = await new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (c, s) => resolve([c, s]));
  });
  const seconds = (performance.now() - started) / 1000;
  let rssMB = null;
  if (useTime) {
    const text = await readFile(rssFile, 'utf8').catch(() => '');
    await rm(rssFile, { force: true });
    const kb = Number(/(\d+)\s*$/.exec(text.trim())?.[1]);
    if (Number.isFinite(kb) && kb > 0) rssMB = kb / 1024;
    if (code !== 0 && !options.allowFailure) stderr = text.replace(/\d+\s*$/, '') + stderr;
  }
  if (code !== 0 && !options.allowFailure) {
    const shown = [command, ...args].map((a) => a.split('/').slice(-2).join('/')).join(' ');
    throw new Error(`${shown} exited ${code ?? signal}: ${errorLine(stderr)}`);
  }
  return { seconds, markSeconds, rssMB, stdout, stderr, code, signal };
}

/** The line of a failed command's stderr that says what went wrong (a thrown error's message, or the last line). */
export function errorLine(stderr) {
  const lines = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('at '));
  const thrown = lines.find(
    (l) => /^(\w*Error|\w+Error\b.*:|error:|Error:|fatal|level=fatal)/.test(l) || /\bError: /.test(l),
  );
  return (thrown ?? lines.at(-1) ?? '').slice(0, 400);
}

/** Median of numbers (mean of the middle two for even counts). */
export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Folds samples ({ value, rssMB? }) into a figure: every run, median, min, max, and the peak RSS seen. */
export function figureOf(samples, unit) {
  const values = samples.map((s) => s.value);
  const rss = samples.map((s) => s.rssMB).filter((r) => typeof r === 'number');
  return {
    unit,
    runs: values.map((v) => round(v)),
    median: round(median(values)),
    min: round(Math.min(...values)),
    max: round(Math.max(...values)),
    peakRssMB: rss.length > 0 ? round(Math.max(...rss)) : null,
  };
}

/** Rounds to `digits` significant decimals, keeping small figures readable. */
export function round(value, digits = 4) {
  if (!Number.isFinite(value)) return value;
  return Number(value.toPrecision(digits));
}

/** Runs `once` `runs` times (after `prepare` each time, untimed) and folds the samples it returns. */
export async function repeat(runs, once, { prepare, cleanup, unit = 's' } = {}) {
  const samples = [];
  for (let i = 0; i < runs; i++) {
    const context = prepare ? await prepare(i) : undefined;
    try {
      samples.push(await once(context, i));
    } finally {
      if (cleanup) await cleanup(context, i);
    }
  }
  return figureOf(samples, unit);
}
