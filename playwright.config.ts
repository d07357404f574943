import { defineConfig } from '@playwright/test';
import { electronAvailable, type HostKind } from './test/e2e/host';

// One suite, run against every host that exists here: `berth serve` + Chromium always, Electron when its binary does.
export default defineConfig<{ hostKind: HostKind }>({
  testDir: 'test/e2e',
  outputDir: 'test-results/e2e',
  timeout: 60_000,
  expect: { timeout: 15_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [['list'], ['json', { outputFile: 'test-results/e2e-report.json' }]],
  projects: [
    { name: 'serve', use: { hostKind: 'serve' } },
    ...(electronAvailable() ? [{ name: 'electron', use: { hostKind: 'electron' as const } }] : []),
  ],
});
