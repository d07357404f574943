import { describe, expect, it } from 'vitest';
import { pathMatcher, searchLayers } from '../../../electron/core/layers/search.js';
import { indexImage } from './layer-fixtures.js';

describe('searchLayers', () => {
  const image = indexImage([
    [
      { path: 'usr/lib/libssl.so.3', size: 10 },
      { path: 'usr/lib/libcrypto.so.3', size: 20 },
      { path: 'etc/ssl/openssl.cnf', content: 'a' },
    ],
    [{ path: 'usr/lib/libssl.so.3', size: 11 }],
    [{ path: 'usr/lib/libssl.so.3', type: 'whiteout' }],
  ]);

  it('says which layer added, modified and removed a path matched by a glob', async () => {
    const result = await searchLayers(await image, { glob: '/usr/lib/libssl*' });
    expect(result.hits.map((h) => [h.path, h.layer, h.change])).toEqual([
      ['usr/lib/libssl.so.3', 0, 'added'],
      ['usr/lib/libssl.so.3', 1, 'modified'],
      ['usr/lib/libssl.so.3', 2, 'removed'],
    ]);
    expect(result.truncated).toBe(false);
  });

  it('matches base names anywhere when the glob has no slash, and regexes against /-rooted paths', async () => {
    const byName = await searchLayers(await image, { glob: '*.cnf' });
    expect(byName.hits.map((h) => h.path)).toEqual(['etc/ssl/openssl.cnf']);
    const byRegex = await searchLayers(await image, { regex: '^/usr/lib/lib(crypto|ssl)\\.so' });
    expect(byRegex.hits.map((h) => `${h.layer}:${h.path}`)).toEqual([
      '0:usr/lib/libcrypto.so.3',
      '0:usr/lib/libssl.so.3',
      '1:usr/lib/libssl.so.3',
      '2:usr/lib/libssl.so.3',
    ]);
  });

  it('stops at the limit and says so', async () => {
    const result = await searchLayers(await image, { glob: '**' }, { limit: 2 });
    expect(result).toMatchObject({ truncated: true });
    expect(result.hits).toHaveLength(2);
  });

  it('refuses an invalid regular expression with BAD_REQUEST', () => {
    expect(() => pathMatcher({ regex: '(' })).toThrow(expect.objectContaining({ code: 'BAD_REQUEST' }));
    expect(pathMatcher({ glob: 'usr/**/*.so' })('usr/lib/x/a.so')).toBe(true);
  });
});
