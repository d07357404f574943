// Measures the images table through `berth serve` in Chromium (Playwright): launch to interactive, first paint
// of the table, and scrolling to its last row. Times come from the page's own clock (performance.now()).
/* global window, document, getComputedStyle, requestAnimationFrame -- functions passed to page.evaluate run in Chromium */
import { readdir, readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { chromium } from '@playwright/test';
import { startServe, stopServe } from './serve-process.mjs';

/** Chromium flags for a closed network and a root user. */
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** CPU seconds used so far by each process descended from this one (Chromium's, while the probe runs), by pid. */
async function descendantsCpuSeconds() {
  const processes = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    // After the command name: state, ppid, …, utime (12th) and stime (13th), in clock ticks of 10 ms.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields.length < 13) continue;
    const cpu = (Number(fields[11]) + Number(fields[12])) / 100;
    processes.push({ pid: Number(entry), ppid: Number(fields[1]), cpu });
  }
  const tree = new Set([process.pid]);
  for (let grew = true; grew;) {
    grew = false;
    for (const p of processes) {
      if (tree.has(p.pid) || !tree.has(p.ppid)) continue;
      tree.add(p.pid);
      grew = true;
    }
  }
  return new Map(
    processes.filter((p) => p.pid !== process.pid && tree.has(p.pid)).map((p) => [p.pid, p.cpu]),
  );
}

/**
 * Resolves once Chromium's processes used under 20 ms of CPU in a 250 ms window (a process that started in it
 * counts whole). A browser "already running" goes on starting its page's processes for a second or more after
 * Playwright's calls return; launch to interactive is Berth's time, so it starts once the browser is idle, as a
 * user's browser is.
 */
async function browserIdle(timeoutMs = 30_000) {
  const started = performance.now();
  let before = await descendantsCpuSeconds();
  for (;;) {
    await delay(250);
    const now = await descendantsCpuSeconds();
    let used = 0;
    for (const [pid, cpu] of now) used += cpu - (before.get(pid) ?? 0);
    if (used < 0.02) return;
    if (performance.now() - started > timeoutMs)
      throw new Error(`Chromium stayed busy for ${timeoutMs / 1000} s after opening its page`);
    before = now;
  }
}

/**
 * Records, in page time, when the first image row is in the DOM and the frame after it was painted, and tells the
 * probe through a binding: waiting with `page.waitForFunction` has Playwright evaluate its own injected script on
 * the page's main thread while the app loads (15–40 ms in Chromium traces), which the app never pays outside it.
 */
const FIRST_ROW_SCRIPT = `(() => {
  const found = () => {
    if (window.__berthFirstRow !== undefined || !document.querySelector('[data-testid="image-row"]')) return false;
    window.__berthFirstRow = performance.now();
    requestAnimationFrame(() => setTimeout(() => {
      window.__berthFirstPaint = performance.now();
      window.__berthFirstPainted();
    }, 0));
    return true;
  };
  new MutationObserver((_, observer) => { if (found()) observer.disconnect(); })
    .observe(document, { childList: true, subtree: true });
})();`;

/**
 * One cold run: start `berth serve` on `store`, open it in a fresh page, wait for the first row, then scroll
 * the table to the end and wait for the row with the last `aria-rowindex`. Resolves times in milliseconds.
 */
export async function probeImagesTable({
  repoRoot,
  store,
  expectedRows,
  chromiumPath = '/usr/bin/chromium',
}) {
  const browser = await chromium.launch({ executablePath: chromiumPath, args: CHROMIUM_ARGS });
  let serve;
  let paintTimer;
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    let painted;
    const firstPainted = new Promise((resolve, reject) => {
      painted = resolve;
      paintTimer = setTimeout(() => reject(new Error('the images table painted no row within 60 s')), 60_000);
    });
    await page.exposeBinding('__berthFirstPainted', () => painted(performance.now()));
    await page.addInitScript(FIRST_ROW_SCRIPT);
    const settling = performance.now();
    await browserIdle();
    const browserSettleMs = performance.now() - settling;
    serve = await startServe(repoRoot, store);
    await page.goto(serve.url);
    const launchMs = (await firstPainted) - serve.started;
    const { firstRowMs, firstPaintMs, rowCount } = await page.evaluate(() => {
      const grid =
        document.querySelector('[aria-rowcount][data-total]') ?? document.querySelector('[aria-rowcount]');
      return {
        firstRowMs: window.__berthFirstRow,
        firstPaintMs: window.__berthFirstPaint,
        rowCount: Number(
          grid?.getAttribute('data-total') ?? Number(grid?.getAttribute('aria-rowcount') ?? 0) - 1,
        ),
      };
    });
    // The first screen may come before the whole list (the grid is aria-busy until every row arrived);
    // scrolling to the end is measured over the complete table.
    await page.waitForFunction(
      () => document.querySelector('[data-testid="images-grid"]')?.getAttribute('aria-busy') !== 'true',
      undefined,
      { timeout: 60_000 },
    );
    const { allRowsMs, lastRowIndex } = await page.evaluate(() => ({
      allRowsMs: performance.now(),
      lastRowIndex: Number(document.querySelector('[aria-rowcount]')?.getAttribute('aria-rowcount') ?? 0),
    }));
    if (rowCount !== expectedRows)
      throw new Error(`the images table has ${rowCount} images, expected ${expectedRows}`);
    const scrollMs = await page.evaluate(
      (last) =>
        new Promise((resolve, reject) => {
          const rows = document.querySelector('[data-testid="image-row"]');
          let scroller = rows?.parentElement ?? null;
          while (
            scroller &&
            !(
              scroller.scrollHeight > scroller.clientHeight &&
              getComputedStyle(scroller).overflowY !== 'visible'
            )
          ) {
            scroller = scroller.parentElement;
          }
          if (!scroller) {
            reject(new Error('no scrolling container around the image rows'));
            return;
          }
          const started = performance.now();
          scroller.scrollTop = scroller.scrollHeight;
          const check = () => {
            if (document.querySelector(`[role="row"][aria-rowindex="${last}"]`)) {
              requestAnimationFrame(() => resolve(performance.now() - started));
            } else if (performance.now() - started > 30_000) {
              reject(new Error(`row ${last} never appeared after scrolling to the end`));
            } else {
              requestAnimationFrame(check);
            }
          };
          check();
        }),
      lastRowIndex,
    );
    return { launchMs, firstRowMs, firstPaintMs, allRowsMs, scrollMs, rowCount, browserSettleMs };
  } finally {
    // A probe that failed before the first paint must not leave a rejection behind for the runs after it.
    clearTimeout(paintTimer);
    if (serve) await stopServe(serve.child);
    await browser.close();
  }
}
