#!/usr/bin/env node
// `npm test`: lint + typecheck, build, unit, integration, e2e — in that order, every stage run even when an
// earlier one failed, so one run shows everything. Ends with one summary line and a non-zero exit on any failure.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const results = 'test-results';
rmSync(results, { recursive: true, force: true });
mkdirSync(results, { recursive: true });
const env = { ...process.env, ELECTRON_SKIP_BINARY_DOWNLOAD: '1', PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD: '1' };

let passed = 0;
let failed = 0;
let skipped = 0;
const failedStages = [];

function run(stage, command, args) {
  process.stdout.write(`\n=== ${stage}: ${command} ${args.join(' ')}\n`);
  const started = Date.now();
  const { status, error } = spawnSync(command, args, { stdio: 'inherit', env });
  const ok = status === 0 && !error;
  process.stdout.write(
    `=== ${stage}: ${ok ? 'ok' : 'FAILED'} in ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
  );
  if (!ok) failedStages.push(stage);
  return ok;
}

/** Counts from a Vitest JSON report; a stage that crashed before writing one counts as one failure. */
function vitestCounts(file) {
  if (!existsSync(file)) return void (failed += 1);
  const report = JSON.parse(readFileSync(file, 'utf8'));
  passed += report.numPassedTests;
  failed += report.numFailedTests;
  skipped += report.numPendingTests + report.numTodoTests;
  // Suites that failed to load have no tests but still fail.
  failed += report.testResults.filter((r) => r.status === 'failed' && r.assertionResults.length === 0).length;
}

function playwrightCounts(file) {
  if (!existsSync(file)) return void (failed += 1);
  const { stats } = JSON.parse(readFileSync(file, 'utf8'));
  passed += stats.expected + stats.flaky;
  failed += stats.unexpected;
  skipped += stats.skipped;
}

const npx = process.platform === 'win32' ? 'npx.cmd' : 'npx';
if (!run('lint', npx, ['eslint', '.'])) failed += 1;
if (!run('format', npx, ['prettier', '--check', '.'])) failed += 1;
if (!run('typecheck', npx, ['tsc', '-b', 'tsconfig.json'])) failed += 1;
const built = run('build', npx, ['electron-vite', 'build', '--logLevel', 'warn']);
if (!built) failed += 1;

const unitReport = join(results, 'unit.json');
run('unit', npx, [
  'vitest',
  'run',
  '--project',
  'unit',
  '--project',
  'renderer',
  '--reporter=default',
  '--reporter=json',
  `--outputFile.json=${unitReport}`,
]);
vitestCounts(unitReport);

const integrationReport = join(results, 'integration.json');
run('integration', npx, [
  'vitest',
  'run',
  '--project',
  'integration',
  '--reporter=default',
  '--reporter=json',
  `--outputFile.json=${integrationReport}`,
]);
vitestCounts(integrationReport);

if (built) {
  run('e2e', npx, ['playwright', 'test']);
  playwrightCounts(join(results, 'e2e-report.json'));
} else {
  process.stdout.write('=== e2e: skipped because the build failed\n');
  failed += 1;
}

if (failedStages.length > 0) process.stdout.write(`\nfailed stages: ${failedStages.join(', ')}\n`);
process.stdout.write(`\ntests: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}\n`);
process.exit(failedStages.length > 0 || failed > 0 ? 1 : 0);
