import { appendFile, readFile } from 'node:fs/promises';
import type { StoreEvent } from '../../../shared/contract';
import { BerthError } from '../../../shared/error';
import { ignoreMissing } from './layout';

/** Appends one event as a JSON line. Written under the store lock, so lines never interleave. */
export async function appendEvent(file: string, event: StoreEvent): Promise<void> {
  await appendFile(file, JSON.stringify(event) + '\n');
}

/**
 * Reads events oldest first. `since` is an ISO time or a duration back from now (`10m`, `2h`, `1d`); a line
 * cut short by a crash is skipped. `limit` keeps the newest ones.
 */
export async function readEvents(
  file: string,
  options: { since?: string; limit?: number } = {},
): Promise<StoreEvent[]> {
  const text = (await readFile(file, 'utf8').catch(ignoreMissing)) ?? '';
  const since = options.since === undefined ? undefined : parseTimeBound(options.since);
  const out: StoreEvent[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    let event: StoreEvent;
    try {
      event = JSON.parse(line) as StoreEvent;
    } catch {
      continue;
    }
    if (since !== undefined && Date.parse(event.time) < since) continue;
    out.push(event);
  }
  return options.limit === undefined ? out : out.slice(Math.max(0, out.length - options.limit));
}

const units: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/**
 * A point in time in ms, from an ISO timestamp, Unix seconds, or a Go-style duration before `now`
 * (`90s`, `10m`, `1h30m`, `7d`), as docker's `until=`/`--since` filters accept.
 */
export function parseTimeBound(input: string, now = Date.now()): number {
  const trimmed = input.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed) * 1000;
  if (/^(\d+(\.\d+)?(ms|s|m|h|d|w))+$/.test(trimmed)) {
    let ms = 0;
    for (const m of trimmed.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/g))
      ms += Number(m[1]) * (units[m[2] ?? 's'] ?? 0);
    return now - ms;
  }
  const parsed = Date.parse(trimmed);
  if (Number.isNaN(parsed)) {
    throw new BerthError('BAD_REQUEST', `"${input}" is neither a timestamp nor a duration like 10m or 24h`);
  }
  return parsed;
}
