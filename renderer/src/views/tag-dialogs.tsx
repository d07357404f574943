import { useMemo, useState } from 'react';
import type { ImageSummary } from '../../../shared/contract';
import { Dialog, DialogActions } from '../components/dialog';
import { Icon } from '../components/icon';
import { useAppStore, useAppStoreApi } from '../state/app-store-provider';
import { checkTagName, describePlan, displayId, familiar, holderOf, planDrop } from '../state/tag-plan';

/** An image as dialogs name it: its familiar names, or `<none>` for a dangling one. */
export function imageLabel(image: ImageSummary): string {
  return image.repoTags.length > 0 ? image.repoTags.map(familiar).join(', ') : '<none>';
}

/** "Add tag…": a name field validated as it is typed, saying where the name would be taken from. */
export function AddTagDialog({ image: id }: { image: string }) {
  const store = useAppStoreApi();
  const image = useAppStore((s) => s.images.byId[id]);
  const byId = useAppStore((s) => s.images.byId);
  const close = () => store.getState().openDialog(null);
  const [draft, setDraft] = useState('');
  const [touched, setTouched] = useState(false);
  const check = checkTagName(draft);
  const holder = check.ok ? holderOf(check.name, byId) : undefined;
  const already = check.ok && holder === id;
  const valid = check.ok && !already;
  const submit = () => {
    setTouched(true);
    if (!valid || !check.ok) return;
    close();
    void store.getState().addTag(id, check.name);
  };
  if (!image) return null;
  return (
    <Dialog
      title="Add tag"
      description={
        <>
          Give <strong>{imageLabel(image)}</strong> <span className="mono">({displayId(id)})</span> another
          name.
        </>
      }
      onClose={close}
      onSubmit={submit}
      testId="add-tag-dialog"
      footer={
        <DialogActions onCancel={close} disabled={touched && !valid}>
          Add tag
        </DialogActions>
      }
    >
      <label className="field">
        <span className="field-label">Name</span>
        <input
          className="text-input mono"
          data-autofocus
          aria-label="Tag name"
          aria-invalid={draft !== '' && !valid}
          aria-describedby="tag-name-help"
          placeholder="myapp:1.0 or registry.example.com/team/app:edge"
          value={draft}
          spellCheck={false}
          autoComplete="off"
          onChange={(event) => setDraft(event.target.value)}
        />
      </label>
      <p
        id="tag-name-help"
        className={draft === '' ? 'field-help' : valid ? 'field-ok' : 'field-error'}
        data-testid="tag-name-help"
        role={draft !== '' && !valid ? 'alert' : undefined}
      >
        {draft === '' && !touched
          ? 'A short name is completed the way docker does: alpine → docker.io/library/alpine:latest'
          : !check.ok
            ? check.message
            : already
              ? `This image is already tagged ${familiar(check.name)}`
              : holder
                ? `Will be ${check.name} — moves from ${displayId(holder)}…`
                : `Will be ${check.name}`}
      </p>
    </Dialog>
  );
}

/** "Move tag to…" (or copy): choose one of the image's names and a target image from a filterable list. */
export function MoveTagDialog({
  image: id,
  name: initial,
  copy: initialCopy,
}: {
  image: string;
  name: string;
  copy: boolean;
}) {
  const store = useAppStoreApi();
  const byId = useAppStore((s) => s.images.byId);
  const order = useAppStore((s) => s.images.order);
  const image = byId[id];
  const close = () => store.getState().openDialog(null);
  const [name, setName] = useState(initial);
  const [copy, setCopy] = useState(initialCopy);
  const [filter, setFilter] = useState('');
  const candidates = useMemo(() => {
    const terms = filter.toLowerCase().split(/\s+/).filter(Boolean);
    return order
      .filter((other) => other !== id)
      .flatMap((other) => byId[other] ?? [])
      .filter((other) => {
        const text =
          `${other.repoTags.join(' ')} ${other.id.slice(7)} ${other.dangling ? '<none>' : ''}`.toLowerCase();
        return terms.every((term) => text.includes(term));
      })
      .slice(0, 200);
  }, [order, byId, id, filter]);
  const [targetIndex, setTargetIndex] = useState(0);
  const target = candidates[Math.min(targetIndex, candidates.length - 1)];
  const plan = target ? planDrop({ name, from: id }, target, byId, copy) : undefined;
  const submit = () => {
    if (!plan || plan.kind !== 'tag') return;
    close();
    void store.getState().applyTagPlan(plan);
  };
  if (!image) return null;
  return (
    <Dialog
      title={copy ? 'Copy tag to…' : 'Move tag to…'}
      onClose={close}
      onSubmit={submit}
      testId="move-tag-dialog"
      footer={
        <DialogActions onCancel={close} disabled={!plan || plan.kind !== 'tag'}>
          {copy ? 'Copy' : 'Move'}
        </DialogActions>
      }
    >
      <label className="field">
        <span className="field-label">Tag</span>
        <select className="text-input mono" value={name} onChange={(event) => setName(event.target.value)}>
          {image.repoTags.map((tag) => (
            <option key={tag} value={tag}>
              {familiar(tag)}
            </option>
          ))}
        </select>
      </label>
      <label className="field">
        <span className="field-label">To image</span>
        <input
          className="text-input"
          data-autofocus
          role="combobox"
          aria-expanded="true"
          aria-controls="move-targets"
          aria-activedescendant={target ? `move-target-${targetIndex}` : undefined}
          aria-label="Find the target image"
          placeholder="Type to filter by name or ID"
          value={filter}
          onChange={(event) => {
            setFilter(event.target.value);
            setTargetIndex(0);
          }}
          onKeyDown={(event) => {
            if (event.key === 'ArrowDown') setTargetIndex((i) => Math.min(candidates.length - 1, i + 1));
            else if (event.key === 'ArrowUp') setTargetIndex((i) => Math.max(0, i - 1));
            else return;
            event.preventDefault();
          }}
        />
      </label>
      <ul className="target-list" id="move-targets" role="listbox" aria-label="Target images">
        {candidates.length === 0 && <li className="target-empty">No other image matches</li>}
        {candidates.map((other, index) => (
          <li
            key={other.id}
            id={`move-target-${index}`}
            role="option"
            aria-selected={other === target}
            className={other === target ? 'target-option active' : 'target-option'}
            onMouseDown={(event) => {
              event.preventDefault();
              setTargetIndex(index);
            }}
          >
            <span className="target-names">{imageLabel(other)}</span>
            <span className="mono target-id">{displayId(other.id)}</span>
          </li>
        ))}
      </ul>
      <label className="check-field">
        <input type="checkbox" checked={copy} onChange={(event) => setCopy(event.target.checked)} />
        Copy: keep the name here, give the target the same tag in its own repository
      </label>
      {plan && (
        <p className={plan.kind === 'tag' ? 'field-ok' : 'field-error'} data-testid="move-plan">
          <Icon name={plan.kind === 'tag' ? (plan.copy ? 'copy' : 'move') : 'alert'} /> {describePlan(plan)}
        </p>
      )}
    </Dialog>
  );
}

/** Confirms removing one or more images, listing what goes. */
export function RemoveImagesDialog({ ids }: { ids: string[] }) {
  const store = useAppStoreApi();
  const byId = useAppStore((s) => s.images.byId);
  const close = () => store.getState().openDialog(null);
  const images = ids.flatMap((id) => byId[id] ?? []);
  const submit = () => {
    close();
    store.getState().setSelection([]);
    void store.getState().removeImages(images.map((image) => image.id));
  };
  return (
    <Dialog
      title={images.length === 1 ? 'Remove image?' : `Remove ${images.length} images?`}
      description="Each image goes with all its names. Layers other images use are kept."
      onClose={close}
      onSubmit={submit}
      testId="remove-dialog"
      footer={
        <DialogActions onCancel={close} tone="danger" autoFocus disabled={images.length === 0}>
          <Icon name="trash" />
          Remove
        </DialogActions>
      }
    >
      <ul className="remove-list">
        {images.slice(0, 12).map((image) => (
          <li key={image.id}>
            <span>{imageLabel(image)}</span>
            <span className="mono target-id">{displayId(image.id)}</span>
          </li>
        ))}
        {images.length > 12 && <li className="target-empty">and {images.length - 12} more</li>}
      </ul>
    </Dialog>
  );
}
