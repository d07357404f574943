import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ImageStore,
  type CommitRequest,
  type ImageStoreOptions,
} from '../../../electron/core/store/image-store';
import type { FixtureImage, FixtureIndex } from '../../support/fixture';

/** Puts a fixture image's (or index's) blobs into the store and commits it under `names`. */
export async function addImage(
  store: ImageStore,
  image: FixtureImage | FixtureIndex,
  names: string[],
  extra: Partial<CommitRequest> = {},
): Promise<{ id: string; manifestDigest: string }> {
  const child = image.kind === 'index' ? image.children[0]! : image;
  if (image.kind === 'index') await store.putBlob(image.manifest);
  for (const c of image.kind === 'index' ? image.children : [image]) await store.putBlob(c.manifest);
  for (const [, bytes] of image.blobs()) await store.putBlob(bytes);
  const request: CommitRequest = { manifestDigest: child.digest, names, ...extra };
  if (image.kind === 'index') request.indexDigest = image.digest;
  const result = await store.commitImage(request);
  return { id: result.id, manifestDigest: result.manifestDigest };
}

/** A fresh store in a temp folder; `cleanup` removes it. */
export async function tempStore(
  options: ImageStoreOptions = {},
): Promise<{ store: ImageStore; root: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-store-'));
  const root = join(dir, 'store');
  const store = await ImageStore.open(root, options);
  return { store, root, cleanup: () => rm(dir, { recursive: true, force: true }) };
}
