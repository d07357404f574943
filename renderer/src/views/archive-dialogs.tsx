import { useEffect, useState } from 'react';
import { archiveTransferOf, type ArchiveFormat, type ImageSummary } from '../../../shared/contract';
import { Dialog, DialogActions } from '../components/dialog';
import { Icon } from '../components/icon';
import { useAppStore, useAppStoreApi } from '../state/app-store-provider';
import { displayId, familiar } from '../state/tag-plan';

/** What a save asks for: an image's names (each goes into the archive), or its ID when it has none. */
export function archiveQueries(images: ImageSummary[]): string[] {
  return images.flatMap((image) => (image.repoTags.length > 0 ? image.repoTags : [image.id]));
}

function ArchiveError() {
  const error = useAppStore((s) => s.archive.error);
  if (!error) return null;
  return (
    <p className="field-error" role="alert" data-testid="archive-error">
      <Icon name="alert" /> {error.message} <code className="error-code">{error.code}</code>
    </p>
  );
}

function useTransferKind() {
  return useAppStore((s) => archiveTransferOf(s.settings.app?.host ?? 'serve'));
}

/** Clears a stale archive error when a dialog opens. */
function useFreshError() {
  const store = useAppStoreApi();
  useEffect(() => store.getState().clearArchiveError(), [store]);
}

/** "Save…": the images and names going into one archive, its format and compression. */
export function SaveArchiveDialog({ ids }: { ids: string[] }) {
  const store = useAppStoreApi();
  const byId = useAppStore((s) => s.images.byId);
  const busy = useAppStore((s) => s.archive.busy === 'saving');
  const kind = useTransferKind();
  const [format, setFormat] = useState<ArchiveFormat>('docker-archive');
  const [compress, setCompress] = useState(false);
  useFreshError();
  const images = ids.flatMap((id) => byId[id] ?? []);
  const close = () => store.getState().openDialog(null);
  const submit = async () => {
    if (busy || images.length === 0) return;
    const saved = await store.getState().saveArchive({ images: archiveQueries(images), format, compress });
    if (saved) close();
  };
  const formats: [ArchiveFormat, string, string][] = [
    ['docker-archive', 'Docker archive', 'docker load, podman load, skopeo'],
    ['oci-archive', 'OCI archive', 'an OCI image layout in a tar'],
  ];
  return (
    <Dialog
      title={images.length === 1 ? 'Save image' : `Save ${images.length} images`}
      description={
        kind === 'native-dialog'
          ? 'Writes one archive file; you choose where next.'
          : 'Writes one archive file and downloads it.'
      }
      onClose={close}
      onSubmit={() => void submit()}
      testId="save-archive-dialog"
      footer={
        <DialogActions onCancel={close} autoFocus disabled={busy || images.length === 0}>
          {busy ? 'Saving…' : kind === 'native-dialog' ? 'Save…' : 'Download'}
        </DialogActions>
      }
    >
      <ul className="remove-list" aria-label="Images to save">
        {images.map((image) => (
          <li key={image.id}>
            <span>{image.repoTags.length > 0 ? image.repoTags.map(familiar).join(', ') : '<none>'}</span>
            <span className="mono target-id">{displayId(image.id)}</span>
          </li>
        ))}
      </ul>
      <fieldset className="radio-cards">
        <legend className="visually-hidden">Archive format</legend>
        {formats.map(([value, title, detail]) => (
          <label key={value} className={format === value ? 'radio-card active' : 'radio-card'}>
            <input
              type="radio"
              name="archive-format"
              value={value}
              checked={format === value}
              onChange={() => setFormat(value)}
            />
            <span>
              <strong>{title}</strong>
              <span className="muted">{detail}</span>
            </span>
          </label>
        ))}
      </fieldset>
      <label className="check-field">
        <input type="checkbox" checked={compress} onChange={(event) => setCompress(event.target.checked)} />
        Compress the archive (gzip)
      </label>
      <ArchiveError />
    </Dialog>
  );
}

/** "Load…": a docker-archive or oci-archive, plain or compressed; picked in the page or by the host's dialog. */
export function LoadArchiveDialog() {
  const store = useAppStoreApi();
  const busy = useAppStore((s) => s.archive.busy === 'loading');
  const kind = useTransferKind();
  const [file, setFile] = useState<File | undefined>();
  useFreshError();
  const close = () => store.getState().openDialog(null);
  const ready = kind === 'native-dialog' || file !== undefined;
  const submit = async () => {
    if (busy || !ready) return;
    const loaded = await store.getState().loadArchive(file);
    if (loaded) close();
  };
  return (
    <Dialog
      title="Load images"
      description="Loads every image and name in a docker-archive or oci-archive (plain or gzip). Every layer is verified; a damaged archive loads nothing."
      onClose={close}
      onSubmit={() => void submit()}
      testId="load-archive-dialog"
      footer={
        <DialogActions onCancel={close} disabled={busy || !ready}>
          {busy ? 'Loading…' : kind === 'native-dialog' ? 'Choose archive…' : 'Load'}
        </DialogActions>
      }
    >
      {kind === 'http' && (
        <label className="field">
          <span className="field-label">Archive file</span>
          <input
            className="text-input"
            type="file"
            data-autofocus
            aria-label="Archive file"
            accept=".tar,.gz,.tgz,.zst,application/x-tar,application/gzip"
            onChange={(event) => setFile(event.target.files?.[0])}
          />
        </label>
      )}
      <ArchiveError />
    </Dialog>
  );
}
