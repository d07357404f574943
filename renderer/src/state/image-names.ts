import type { ImageSummary } from '../../../shared/contract';
import { familiarName, parseReference, type Reference } from '../../../shared/reference';

/** One tag chip: what it reads and the full name it stands for. */
export interface TagChip {
  label: string;
  name: string;
}

/** How an image is named in the table: its repository, its tags as chips, and a name to sort by. */
export interface ImageNames {
  /** Familiar repository of the first name (`alpine`, `ghcr.io/x/y`), or `<none>`. */
  repository: string;
  tags: TagChip[];
  /** `repository:tag` of the first name, for sorting. */
  primary: string;
}

function parse(name: string): Reference | undefined {
  try {
    return parseReference(name);
  } catch {
    return undefined;
  }
}

const cache = new WeakMap<ImageSummary, ImageNames>();

/**
 * Names an image the way `docker images` does, one row per image: the first name's repository, then a chip
 * per tag — just the tag for that repository, the familiar full name for names in other repositories.
 */
export function imageNames(image: ImageSummary): ImageNames {
  const cached = cache.get(image);
  if (cached) return cached;
  const refs = image.repoTags.map((name) => ({ name, ref: parse(name) }));
  const first = refs[0]?.ref;
  const fromDigest = first ? undefined : image.repoDigests.map(parse).find((ref) => ref !== undefined);
  const home = first ?? fromDigest;
  const repository = home ? familiarName({ domain: home.domain, path: home.path }) : '<none>';
  const tags = refs.map(({ name, ref }) => {
    if (!ref) return { label: name, name };
    const sameRepository = home !== undefined && ref.domain === home.domain && ref.path === home.path;
    return { label: sameRepository && ref.tag !== undefined ? ref.tag : familiarName(ref), name };
  });
  const names: ImageNames = {
    repository,
    tags,
    primary: first ? familiarName(first) : repository,
  };
  cache.set(image, names);
  return names;
}
