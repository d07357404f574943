import type { ImageSummary } from '../../../shared/contract';
import { shortId } from '../../../shared/digest';
import {
  familiarName,
  formatReference,
  normalizeReference,
  parseReference,
  repositoryOf,
} from '../../../shared/reference';

/** What a typed tag name turned out to be: the full name to store, or why it is not one. */
export type NameCheck = { ok: true; name: string } | { ok: false; message: string };

/** One change to an image's names, as the store's `tag` and `untag` make it. */
export type TagStep =
  { op: 'tag'; image: string; name: string } | { op: 'untag'; image: string; name: string };

/** What dropping a dragged tag chip on an image row would do. */
export type DropPlan =
  | { kind: 'none'; reason: string }
  | {
      kind: 'tag';
      /** The full name the target gets. */
      name: string;
      image: string;
      /** The image that holds `name` now and loses it (a name identifies one image). */
      movesFrom?: string;
      /** True for an Alt-drop: the dragged name stays where it is and the target gets its tag. */
      copy: boolean;
    };

/** Twelve hex characters of an image ID, as rows show it. */
export function displayId(id: string): string {
  try {
    return shortId(id);
  } catch {
    return id.slice(0, 12);
  }
}

/** A name as docker prints it (`alpine:3.20`); input that does not parse is returned as it is. */
export function familiar(name: string): string {
  try {
    return familiarName(name);
  } catch {
    return name;
  }
}

/**
 * Validates a name typed to tag an image with, the way `docker tag` does: short names are completed
 * (`alpine` → `docker.io/library/alpine:latest`) and digests are refused, since a tag names no content.
 */
export function checkTagName(input: string): NameCheck {
  const trimmed = input.trim();
  if (trimmed === '') return { ok: false, message: 'Enter a name, such as myapp:1.0' };
  try {
    const ref = normalizeReference(trimmed);
    if (ref.digest !== undefined) return { ok: false, message: 'A tag cannot carry a digest (@sha256:…)' };
    return { ok: true, name: formatReference(ref) };
  } catch (err) {
    return { ok: false, message: err instanceof Error ? err.message : String(err) };
  }
}

const holders = new WeakMap<Record<string, ImageSummary>, Map<string, string>>();

/** The ID of the image that holds the full name `name`, if any. */
export function holderOf(name: string, byId: Record<string, ImageSummary>): string | undefined {
  let index = holders.get(byId);
  if (!index) {
    index = new Map();
    for (const image of Object.values(byId)) for (const tag of image.repoTags) index.set(tag, image.id);
    holders.set(byId, index);
  }
  return index.get(name);
}

/** The repository an image's first name is in (`docker.io/library/alpine`), if it has a name. */
function repositoryOfImage(image: ImageSummary): string | undefined {
  const first = image.repoTags[0];
  if (first === undefined) return undefined;
  try {
    return repositoryOf(parseReference(first));
  } catch {
    return undefined;
  }
}

/**
 * Plans a drop of the tag chip `drag` on image `target`.
 *
 * A plain drop moves the name: the target gets exactly that name, and because a name identifies one
 * image, its holder loses it. An Alt-drop copies the *tag*: the target gets the same tag in its own
 * repository (`alpine:3.20` dropped on `myapp` makes `myapp:3.20`) and the source keeps its name. A copy
 * that would produce the very name being dragged (same repository, or a target without a name) cannot
 * exist beside the original, so it is refused rather than quietly turned into a move.
 */
export function planDrop(
  drag: { name: string; from: string },
  target: ImageSummary,
  byId: Record<string, ImageSummary>,
  copy: boolean,
): DropPlan {
  if (target.id === drag.from) return { kind: 'none', reason: 'The tag is already here' };
  let name = drag.name;
  if (copy) {
    const repository = repositoryOfImage(target);
    let tag: string | undefined;
    try {
      tag = parseReference(drag.name).tag;
    } catch {
      tag = undefined;
    }
    if (repository === undefined || tag === undefined) {
      return { kind: 'none', reason: 'Can’t copy: this image has no repository to copy the tag into' };
    }
    name = `${repository}:${tag}`;
    if (name === drag.name) {
      return {
        kind: 'none',
        reason: `Can’t copy: ${familiar(name)} can name only one image — drop without Alt to move it`,
      };
    }
  }
  if (target.repoTags.includes(name)) return { kind: 'none', reason: `Already tagged ${familiar(name)}` };
  const holder = holderOf(name, byId) ?? (copy ? undefined : drag.from);
  return holder === undefined || holder === target.id
    ? { kind: 'tag', name, image: target.id, copy }
    : { kind: 'tag', name, image: target.id, movesFrom: holder, copy };
}

/** The sentence a drop target shows for a plan. */
export function describePlan(plan: DropPlan): string {
  if (plan.kind === 'none') return plan.reason;
  const verb = plan.copy ? `Copy as ${familiar(plan.name)}` : `Move ${familiar(plan.name)} here`;
  return plan.movesFrom === undefined ? verb : `${verb} — moves from ${displayId(plan.movesFrom)}…`;
}
