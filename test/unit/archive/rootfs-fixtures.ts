import { Readable } from 'node:stream';
import type { FixtureLayerSpec } from '../../support/fixture.js';

/** Layers with every whiteout and replacement rule, and a hardlink whose file is replaced above it. */
export const whiteoutLayers: FixtureLayerSpec[] = [
  {
    entries: [
      { path: 'etc/', type: 'dir' },
      { path: 'etc/passwd', content: 'root:x:0:0::/root:/bin/sh\n' },
      { path: 'etc/old.conf', size: 300 },
      { path: 'usr/lib/libx.so.1', size: 4000 },
      { path: 'usr/lib/libx.so', type: 'symlink', linkname: 'libx.so.1' },
      { path: 'usr/bin/tool', size: 1200, mode: 0o755 },
      { path: 'usr/bin/tool-alias', type: 'hardlink', linkname: 'usr/bin/tool' },
      { path: 'usr/bin/kept', size: 50, mode: 0o4755 },
      { path: 'usr/bin/kept-alias', type: 'hardlink', linkname: 'usr/bin/kept' },
      { path: 'usr/bin/tool-alias-2', type: 'hardlink', linkname: '/usr/bin/tool-alias' },
      { path: 'cache/', type: 'dir' },
      { path: 'cache/a', size: 10 },
      { path: 'cache/sub/b', size: 20 },
      { path: 'opq-before/', type: 'dir' },
      { path: 'opq-before/lower', size: 5 },
      { path: 'opq-after/', type: 'dir' },
      { path: 'opq-after/lower', size: 6 },
      { path: 'file-to-dir', size: 7 },
      { path: 'dir-to-file/', type: 'dir' },
      { path: 'dir-to-file/inner', size: 8 },
      { path: 'dangling', type: 'symlink', linkname: '/does/not/exist' },
      { path: 'twice', content: 'first copy' },
      { path: 'twice', content: 'second copy, longer' },
    ],
  },
  {
    entries: [
      { path: 'etc/old.conf', type: 'whiteout' },
      { path: 'cache', type: 'whiteout' },
      { path: 'opq-before', type: 'opaque' },
      { path: 'opq-before/upper', size: 9 },
      { path: 'opq-after/upper', size: 11 },
      { path: 'opq-after', type: 'opaque' },
      { path: 'file-to-dir/', type: 'dir' },
      { path: 'file-to-dir/child', size: 12 },
      { path: 'dir-to-file', size: 13 },
      { path: 'usr/lib/libx.so.2', size: 4100 },
      { path: 'usr/lib/libx.so', type: 'symlink', linkname: 'libx.so.2' },
    ],
    compression: 'none',
  },
  { entries: [] },
  {
    entries: [
      { path: 'usr/lib/libx.so.1', type: 'whiteout' },
      { path: 'etc/passwd', content: 'root:x:0:0::/root:/bin/bash\n' },
      { path: 'new/deep/file', size: 14 },
      { path: 'usr/bin/tool', size: 1300, mode: 0o755 },
    ],
  },
];

/** What a container of {@link whiteoutLayers} sees, in umoci's terms (a hardlink is its file's size). */
export const whiteoutRootfs: Record<string, string> = {
  etc: 'dir',
  'etc/passwd': 'file:28',
  usr: 'dir',
  'usr/lib': 'dir',
  'usr/lib/libx.so': 'symlink:libx.so.2',
  'usr/lib/libx.so.2': 'file:4100',
  'usr/bin': 'dir',
  'usr/bin/tool': 'file:1300',
  'usr/bin/tool-alias': 'file:1200',
  'usr/bin/tool-alias-2': 'file:1200',
  'usr/bin/kept': 'file:50',
  'usr/bin/kept-alias': 'file:50',
  'opq-before': 'dir',
  'opq-before/upper': 'file:9',
  'opq-after': 'dir',
  'opq-after/upper': 'file:11',
  'file-to-dir': 'dir',
  'file-to-dir/child': 'file:12',
  'dir-to-file': 'file:13',
  dangling: 'symlink:/does/not/exist',
  new: 'dir',
  'new/deep': 'dir',
  'new/deep/file': 'file:14',
  twice: 'file:19',
};

/** A buffer as a stream of small chunks, as a file or pipe delivers it. */
export function streamOf(bytes: Buffer, size = 4096): Readable {
  const chunks: Buffer[] = [];
  for (let offset = 0; offset < bytes.length; offset += size)
    chunks.push(bytes.subarray(offset, offset + size));
  return Readable.from(chunks);
}
