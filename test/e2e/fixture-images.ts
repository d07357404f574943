import { ImageStore } from '../../electron/core/store/image-store';
import { buildImage, type FixtureImage } from '../support/fixture';

/** A base layer the alpine-like image and the web image share, so one is "in use" by the other. */
const baseLayer = {
  entries: [
    { path: 'etc/', type: 'dir' as const },
    { path: 'etc/os-release', content: 'NAME="Berth Test Linux"\nVERSION_ID=3.20\n' },
    { path: 'bin/', type: 'dir' as const },
    { path: 'bin/busybox', size: 180_000, seed: 'busybox' },
  ],
  createdBy: '/bin/sh -c #(nop) ADD file:5b1e9a0c… in / ',
};

/** The images the e2e store starts with, by the name tests refer to them. */
export const fixtureImages = {
  alpine: buildImage({
    config: {
      env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
      cmd: ['/bin/sh'],
      labels: { 'org.opencontainers.image.title': 'alpine' },
      created: '2026-10-01T08:00:00Z',
    },
    layers: [baseLayer],
  }),
  web: buildImage({
    config: {
      env: ['PATH=/usr/local/bin:/usr/bin:/bin', 'APP_ENV=production'],
      entrypoint: ['/usr/local/bin/web'],
      cmd: ['--port', '8080'],
      user: 'app',
      workingDir: '/srv',
      exposedPorts: ['8080/tcp'],
      labels: { 'org.opencontainers.image.title': 'web', tier: 'frontend' },
      created: '2026-11-10T12:00:00Z',
    },
    history: [
      { created: '2026-10-01T08:00:00Z', created_by: '/bin/sh -c #(nop) ADD file:5b1e9a0c… in / ' },
      { created: '2026-11-10T11:58:00Z', created_by: '/bin/sh -c apk add --no-cache ca-certificates tzdata' },
      {
        created: '2026-11-10T11:59:00Z',
        created_by: '/bin/sh -c #(nop)  ENV APP_ENV=production',
        empty_layer: true,
      },
      {
        created: '2026-11-10T12:00:00Z',
        created_by: 'COPY dist/ /srv/ # buildkit',
        comment: 'buildkit.dockerfile.v0',
      },
    ],
    layers: [
      baseLayer,
      { entries: [{ path: 'etc/ssl/certs.pem', size: 220_000, seed: 'certs' }] },
      { entries: [{ path: 'srv/web', size: 640_000, seed: 'web-binary', mode: 0o755 }] },
    ],
  }),
  api: buildImage({
    config: {
      cmd: ['/api'],
      labels: { tier: 'backend' },
      created: '2026-11-05T09:00:00Z',
    },
    layers: [
      { entries: [{ path: 'api', size: 90_000, seed: 'api' }], createdBy: 'COPY api /api # buildkit' },
    ],
  }),
  orphan: buildImage({
    config: { cmd: ['/old'], created: '2026-09-01T00:00:00Z' },
    layers: [{ entries: [{ path: 'old', size: 50_000, seed: 'old' }], createdBy: 'COPY old /old' }],
  }),
} satisfies Record<string, FixtureImage>;

/** The names each fixture image starts with (the orphan has none: it is dangling). */
export const fixtureNames: Record<keyof typeof fixtureImages, string[]> = {
  alpine: ['alpine:3.20', 'alpine:latest'],
  web: ['berth-e2e/web:1.0'],
  api: ['berth-e2e/api:2.0'],
  orphan: [],
};

/** Writes the fixture images into the store at `storePath`, blobs first and then each image with its names. */
export async function seedStore(storePath: string): Promise<void> {
  const store = await ImageStore.open(storePath);
  for (const [key, image] of Object.entries(fixtureImages) as [keyof typeof fixtureImages, FixtureImage][]) {
    for (const blob of image.blobs().values()) await store.putBlob(blob);
    await store.putBlob(image.manifest);
    await store.commitImage({
      manifestDigest: image.digest,
      names: fixtureNames[key],
      source: key === 'orphan' ? 'e2e fixture (untagged)' : `e2e fixture ${key}`,
      action: 'load',
    });
  }
}
