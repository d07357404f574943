import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/** One finding of Electronegativity's programmatic API. */
interface Finding {
  file: string;
  id: string;
  severity: { name: string };
  confidence: { name: string };
  sample?: string;
  description?: string;
}

type Run = (options: {
  input: string;
  isRelative?: boolean;
  electronVersionOverride?: string;
  excludeFromScan?: string[];
}) => Promise<{ errors: unknown[]; issues: Finding[] }>;

const run = createRequire(import.meta.url)('@doyensec/electronegativity') as Run;
const repoRoot = resolve(import.meta.dirname, '../../..');
const electronVersion = (
  JSON.parse(readFileSync(join(repoRoot, 'node_modules/electron/package.json'), 'utf8')) as {
    version: string;
  }
).version;

async function scan(input: string): Promise<{ errors: unknown[]; serious: Finding[] }> {
  const result = await run({
    input,
    isRelative: true,
    electronVersionOverride: electronVersion,
    // The one check left out downloads Electron's release list from GitHub: tests run offline, and keeping
    // Electron current is the dependency updates' job, not a property of this code.
    excludeFromScan: ['AvailableSecurityFixesGlobalCheck'],
  });
  const serious = result.issues.filter((i) => i.severity.name === 'HIGH' || i.severity.name === 'MEDIUM');
  return { errors: result.errors, serious };
}

const describeFinding = (f: Finding): string =>
  `${f.file}: ${f.id} (${f.severity.name}) ${f.description ?? ''}`;

// Electronegativity's own suppressions are `// eng-disable RULE (reason)` comments on the line they cover;
// electron/ has two, each with its reason: the preload (it exposes only the contract bridge) and
// shell.openExternal (allow-listed https links only). One global check is left out of the scan (see scan).
describe('Electronegativity over electron/', () => {
  it('reports no high or medium finding and parses every file', { timeout: 120_000 }, async () => {
    const { errors, serious } = await scan(join(repoRoot, 'electron'));
    expect(errors).toEqual([]);
    expect(serious.map(describeFinding)).toEqual([]);
  });

  it('does report an insecure window, so the check above can fail', { timeout: 120_000 }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'berth-eng-'));
    try {
      await writeFile(
        join(dir, 'main.ts'),
        [
          "import { BrowserWindow } from 'electron';",
          'export const win = new BrowserWindow({',
          '  webPreferences: { nodeIntegration: true, contextIsolation: false, sandbox: false },',
          '});',
          "win.loadURL('http://example.com/');",
        ].join('\n'),
      );
      const { serious } = await scan(dir);
      expect(serious.map((f) => f.id)).toEqual(
        expect.arrayContaining([
          'SANDBOX_JS_CHECK',
          'PERMISSION_REQUEST_HANDLER_GLOBAL_CHECK',
          'LIMIT_NAVIGATION_GLOBAL_CHECK',
        ]),
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
