import { useId, useState } from 'react';
import { Dialog, DialogActions } from '../components/dialog';
import { useAppStore, useAppStoreApi } from '../state/app-store-provider';
import { checkTagName, displayId, familiar } from '../state/tag-plan';

/**
 * "Push…": a destination field offering the image's own names (validated as it is typed), then a push
 * whose progress shows in the Pulls panel beside pulls.
 */
export function PushDialog({ image: id }: { image: string }) {
  const store = useAppStoreApi();
  const image = useAppStore((s) => s.images.byId[id]);
  const close = () => store.getState().openDialog(null);
  const [draft, setDraft] = useState(image?.repoTags[0] ?? '');
  const [touched, setTouched] = useState(false);
  const listId = useId();
  const check = checkTagName(draft);
  const submit = () => {
    setTouched(true);
    if (!check.ok) return;
    close();
    void store.getState().startPush(id, check.name);
  };
  if (!image) return null;
  return (
    <Dialog
      title="Push image"
      description={
        <>
          Upload <span className="mono">{displayId(id)}</span> to a registry. Blobs the registry has are
          skipped, blobs from another repository there are mounted.
        </>
      }
      onClose={close}
      onSubmit={submit}
      testId="push-dialog"
      footer={
        <DialogActions onCancel={close} disabled={touched && !check.ok}>
          Push
        </DialogActions>
      }
    >
      <label className="field">
        <span className="field-label">Destination</span>
        <input
          className="text-input mono"
          data-autofocus
          aria-label="Destination"
          aria-invalid={!check.ok && (touched || draft !== '')}
          aria-describedby="push-destination-help"
          list={listId}
          placeholder="registry.example.com/team/app:1.0"
          value={draft}
          spellCheck={false}
          autoComplete="off"
          onChange={(event) => setDraft(event.target.value)}
        />
        <datalist id={listId} data-testid="push-destination-options">
          {image.repoTags.map((name) => (
            <option key={name} value={name} />
          ))}
        </datalist>
      </label>
      <p
        id="push-destination-help"
        className={check.ok ? 'field-ok' : draft === '' && !touched ? 'field-help' : 'field-error'}
        data-testid="push-destination-help"
        role={!check.ok && (touched || draft !== '') ? 'alert' : undefined}
      >
        {check.ok
          ? `Pushes to ${familiar(check.name)}`
          : draft === '' && !touched
            ? 'A registry host, repository and tag, e.g. localhost:5000/app:1.0'
            : check.message}
      </p>
    </Dialog>
  );
}
