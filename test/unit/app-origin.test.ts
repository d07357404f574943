import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  appEntryUrl,
  appOriginFrom,
  contentTypeFor,
  isAppUrl,
  rendererFileFor,
  type AppOrigin,
} from '../../electron/window/app-origin';
import { respondFromBundle } from '../../electron/window/app-protocol';

const bundle: AppOrigin = { kind: 'bundle', rendererDir: '/opt/berth/out/renderer' };
const dev: AppOrigin = { kind: 'dev-server', url: 'http://localhost:5173/' };

describe('appOriginFrom', () => {
  it('uses the dev server only when electron-vite set a loopback URL and the app is not packaged', () => {
    expect(appOriginFrom({ ELECTRON_RENDERER_URL: 'http://localhost:5173' }, '/r', false)).toEqual({
      kind: 'dev-server',
      url: 'http://localhost:5173',
    });
    expect(appOriginFrom({ ELECTRON_RENDERER_URL: 'http://localhost:5173' }, '/r', true)).toEqual({
      kind: 'bundle',
      rendererDir: '/r',
    });
    expect(appOriginFrom({ ELECTRON_RENDERER_URL: 'https://evil.example/' }, '/r', false).kind).toBe(
      'bundle',
    );
    expect(appOriginFrom({}, '/r', false)).toEqual({ kind: 'bundle', rendererDir: '/r' });
  });

  it('loads berth://app/index.html from the bundle and the dev server URL in development', () => {
    expect(appEntryUrl(bundle)).toBe('berth://app/index.html');
    expect(appEntryUrl(dev)).toBe('http://localhost:5173/');
  });
});

describe('isAppUrl', () => {
  it.each([
    ['berth://app/index.html', true],
    ['berth://app/assets/index-1a2b.js?x=1#top', true],
    ['BERTH://APP/index.html', true],
    ['berth://app.evil/index.html', false],
    ['berth://evil/index.html', false],
    ['berth://user:pw@app/index.html', false],
    ['file:///opt/berth/out/renderer/index.html', false],
    ['http://localhost:5173/', false],
    ['https://github.com/', false],
    ['not a url', false],
  ])('bundle: %s → %s', (url, expected) => {
    expect(isAppUrl(url, bundle)).toBe(expected);
  });

  it.each([
    ['http://localhost:5173/', true],
    ['http://localhost:5173/src/main.tsx', true],
    ['http://localhost:5174/', false],
    ['https://localhost:5173/', false],
    ['http://localhost:5173@evil.example/', false],
    ['http://127.0.0.1:5173/', false],
    ['berth://app/index.html', false],
  ])('dev server: %s → %s', (url, expected) => {
    expect(isAppUrl(url, dev)).toBe(expected);
  });
});

describe('rendererFileFor', () => {
  const root = '/opt/berth/out/renderer';
  it('maps app URLs to files in the renderer folder', () => {
    expect(rendererFileFor('berth://app/', root)).toBe(`${root}/index.html`);
    expect(rendererFileFor('berth://app/index.html', root)).toBe(`${root}/index.html`);
    expect(rendererFileFor('berth://app/assets/a%20b.js?v=1', root)).toBe(`${root}/assets/a b.js`);
  });

  it('keeps dot segments, plain or escaped, inside the folder', () => {
    expect(rendererFileFor('berth://app/../../etc/passwd', root)).toBe(`${root}/etc/passwd`);
    expect(rendererFileFor('berth://app/%2e%2e/%2e%2e/etc/passwd', root)).toBe(`${root}/etc/passwd`);
  });

  it.each([
    'berth://app/assets/%2e%2e%2f%2e%2e%2f..%2fetc/passwd',
    'berth://app/..%5c..%5cetc%5cpasswd',
    'berth://app/index.html%00.js',
    'berth://app/%E0%A4%A',
    'berth://other/index.html',
    'file:///etc/passwd',
  ])('refuses %s', (url) => {
    expect(rendererFileFor(url, root)).toBeUndefined();
  });
});

describe('contentTypeFor', () => {
  it('gives module scripts a JavaScript type and unknown files a binary one', () => {
    expect(contentTypeFor('/r/assets/index.js')).toBe('text/javascript; charset=utf-8');
    expect(contentTypeFor('/r/index.HTML')).toBe('text/html; charset=utf-8');
    expect(contentTypeFor('/r/x.unknown')).toBe('application/octet-stream');
  });
});

describe('respondFromBundle', () => {
  let dir: string;
  const csp = "default-src 'none'";
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-bundle-'));
    await mkdir(join(dir, 'renderer', 'assets'), { recursive: true });
    await writeFile(join(dir, 'renderer', 'index.html'), '<!doctype html><title>Berth</title>');
    await writeFile(join(dir, 'renderer', 'assets', 'app.js'), 'export {};');
    await writeFile(join(dir, 'secret.txt'), 'outside the bundle');
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('serves files with their type, the CSP and nosniff', async () => {
    const page = await respondFromBundle(new Request('berth://app/'), join(dir, 'renderer'), csp);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toBe(csp);
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await page.text()).toContain('<title>Berth</title>');
    const script = await respondFromBundle(
      new Request('berth://app/assets/app.js'),
      join(dir, 'renderer'),
      csp,
    );
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(await script.text()).toBe('export {};');
  });

  it('answers 404 for a missing file or a path outside the bundle, and 405 for writes', async () => {
    const missing = await respondFromBundle(new Request('berth://app/nope.js'), join(dir, 'renderer'), csp);
    expect(missing.status).toBe(404);
    const escape = await respondFromBundle(
      new Request('berth://app/%2e%2e/secret.txt'),
      join(dir, 'renderer'),
      csp,
    );
    expect(escape.status).toBe(404);
    expect(await escape.text()).toBe('');
    const folder = await respondFromBundle(new Request('berth://app/assets'), join(dir, 'renderer'), csp);
    expect(folder.status).toBe(404);
    const post = await respondFromBundle(
      new Request('berth://app/index.html', { method: 'POST', body: 'x' }),
      join(dir, 'renderer'),
      csp,
    );
    expect(post.status).toBe(405);
    expect(post.headers.get('content-security-policy')).toBe(csp);
  });

  it('does not serve another scheme even when its path exists', async () => {
    const http = new Request('http://app/index.html');
    expect((await respondFromBundle(http, join(dir, 'renderer'), csp)).status).toBe(404);
  });
});
