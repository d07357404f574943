import { describe, expect, it } from 'vitest';
import { entryName } from '../../../electron/core/store/catalog';

const entry = (name: string) => ({
  mediaType: 'application/vnd.oci.image.manifest.v1+json',
  digest: `sha256:${'a'.repeat(64)}`,
  size: 1,
  annotations: { 'org.opencontainers.image.ref.name': name },
});

describe('entry names', () => {
  it.each([
    ['alpine', 'docker.io/library/alpine:latest'],
    ['alpine:3.20', 'docker.io/library/alpine:3.20'],
    ['docker.io/alpine:1', 'docker.io/library/alpine:1'],
    ['index.docker.io/team/app:2', 'docker.io/team/app:2'],
    ['docker.io/library/alpine:3', 'docker.io/library/alpine:3'],
    ['quay.io/a/b:1', 'quay.io/a/b:1'],
    ['localhost:5000/x', 'localhost:5000/x:latest'],
    ['Not A Name', 'Not A Name'],
  ])('%s is read as %s', (raw, expected) => {
    expect(entryName(entry(raw))).toBe(expected);
  });

  it('an entry without the annotation has no name', () => {
    expect(entryName({ mediaType: 'x', digest: `sha256:${'a'.repeat(64)}`, size: 1 })).toBeUndefined();
  });
});
