import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FixtureDescriptor, FixtureImage, FixtureIndex } from './fixture.js';

/** One top-level entry of an OCI layout's index.json, optionally named with `org.opencontainers.image.ref.name`. */
export interface OciLayoutEntry {
  name?: string;
  image: FixtureImage | FixtureIndex;
}

const REF_NAME = 'org.opencontainers.image.ref.name';

async function writeBlob(dir: string, digest: string, bytes: Buffer): Promise<void> {
  const [algorithm, hex] = digest.split(':');
  if (!algorithm || !hex) throw new Error(`bad digest ${digest}`);
  await mkdir(join(dir, 'blobs', algorithm), { recursive: true });
  await writeFile(join(dir, 'blobs', algorithm, hex), bytes);
}

async function writeManifestTree(dir: string, node: FixtureImage | FixtureIndex): Promise<void> {
  if (node.kind === 'index') {
    for (const child of node.children) await writeManifestTree(dir, child);
  } else {
    for (const [digest, bytes] of node.blobs()) await writeBlob(dir, digest, bytes);
  }
  await writeBlob(dir, node.digest, node.manifest);
}

/** Writes (or extends) an OCI image layout: oci-layout, blobs/sha256/*, and index.json entries for `entries`. */
export async function writeOciLayout(dir: string, entries: OciLayoutEntry[]): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  let manifests: FixtureDescriptor[] = [];
  try {
    const existing = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')) as {
      manifests?: FixtureDescriptor[];
    };
    manifests = existing.manifests ?? [];
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  for (const entry of entries) {
    await writeManifestTree(dir, entry.image);
    const descriptor: FixtureDescriptor = { ...entry.image.descriptor };
    if (entry.name !== undefined) {
      descriptor.annotations = { [REF_NAME]: entry.name };
      manifests = manifests.filter((m) => m.annotations?.[REF_NAME] !== entry.name);
    }
    manifests.push(descriptor);
  }
  const index = { schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests };
  await writeFile(join(dir, 'index.json'), JSON.stringify(index));
}
