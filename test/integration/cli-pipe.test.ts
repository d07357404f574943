import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { berthBin } from '../support/berth-cli';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

let scratch: string;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'berth-pipe-'));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

describe('the CLI writing into a pipe its reader closed (berth images | head)', () => {
  it('ends quietly with status 0 instead of an unhandled EPIPE', async () => {
    const child = spawn(process.execPath, [berthBin, '--store', join(scratch, 'store'), 'images'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { PATH: process.env.PATH, HOME: scratch },
    });
    // Closing our end before the CLI's first write means every write it makes meets a pipe without a reader.
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(stderr).toBe('');
    expect(code).toBe(0);
  });
});
