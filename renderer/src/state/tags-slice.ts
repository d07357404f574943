import type { BerthClient } from '../../../shared/contract';
import { toWireError } from '../../../shared/error';
import type { SliceCreator } from './slice';
import { displayId, familiar, type DropPlan, type TagStep } from './tag-plan';

/** How a tag change is announced: the toast title, and whether the toast offers Undo. */
export interface TagChangeOptions {
  title: string;
  undoable?: boolean;
}

/** Tags slice: changes to image names, each undoable by its inverse steps. */
export interface TagsSlice {
  /**
   * Runs `steps` in order and reloads the list. On success a toast announces `title` with an Undo that
   * runs the inverse steps (a moved name goes back to the image it came from; an added one is removed; a
   * removed one is added again). A tag step for a name the image already has is skipped, so it is not
   * "undone" into a removal. Resolves to false when a step failed (its error is toasted; the steps that
   * ran stay, and the toast still offers to undo them).
   */
  changeTags: (steps: TagStep[], options: TagChangeOptions) => Promise<boolean>;
  /** Carries out a drop plan (or the same plan made from a dialog). */
  applyTagPlan: (plan: DropPlan) => Promise<boolean>;
  /** Adds the full name `name` to an image; a name on another image moves here. */
  addTag: (image: string, name: string) => Promise<boolean>;
  /** Removes one name from an image; an image losing its last name stays, as `<none>`. */
  removeTag: (image: string, name: string) => Promise<boolean>;
}

/** Creates the tags slice around `client`. */
export const createTagsSlice =
  (client: BerthClient): SliceCreator<TagsSlice> =>
  (_set, get) => ({
    changeTags: async (steps, options) => {
      const inverse: TagStep[] = [];
      let failure: unknown;
      for (const step of steps) {
        try {
          if (step.op === 'tag') {
            if (get().images.byId[step.image]?.repoTags.includes(step.name)) continue;
            const result = await client.invoke('images:tag', { image: step.image, name: step.name });
            inverse.unshift(
              result.movedFrom === undefined
                ? { op: 'untag', image: result.id, name: result.name }
                : { op: 'tag', image: result.movedFrom, name: result.name },
            );
          } else {
            const result = await client.invoke('images:untag', { image: step.image, names: [step.name] });
            for (const name of result.removed) inverse.unshift({ op: 'tag', image: result.id, name });
          }
        } catch (err) {
          failure = err;
          break;
        }
      }
      await get().loadImages();
      const undo =
        options.undoable !== false && inverse.length > 0
          ? {
              label: 'Undo',
              run: () => void get().changeTags(inverse, { title: 'Undone', undoable: false }),
            }
          : undefined;
      if (failure !== undefined) {
        get().pushToast({
          tone: 'error',
          title: inverse.length > 0 ? `${options.title} — stopped part way` : `${options.title} failed`,
          error: toWireError(failure),
          ...(undo ? { action: undo } : {}),
        });
        return false;
      }
      get().pushToast({ tone: 'success', title: options.title, ...(undo ? { action: undo } : {}) });
      return true;
    },
    applyTagPlan: (plan) => {
      if (plan.kind === 'none') return Promise.resolve(false);
      const title = plan.copy
        ? `Copied the tag as ${familiar(plan.name)}`
        : `Moved ${familiar(plan.name)} to ${displayId(plan.image)}`;
      return get().changeTags([{ op: 'tag', image: plan.image, name: plan.name }], { title });
    },
    addTag: (image, name) => {
      const holder = Object.values(get().images.byId).find((i) => i.repoTags.includes(name));
      const title =
        holder && holder.id !== image
          ? `Moved ${familiar(name)} to ${displayId(image)}`
          : `Tagged ${displayId(image)} as ${familiar(name)}`;
      return get().changeTags([{ op: 'tag', image, name }], { title });
    },
    removeTag: (image, name) => {
      const last = get().images.byId[image]?.repoTags.length === 1;
      return get().changeTags([{ op: 'untag', image, name }], {
        title: `Removed ${familiar(name)}${last ? ` — ${displayId(image)} is now <none>` : ''}`,
      });
    },
  });
