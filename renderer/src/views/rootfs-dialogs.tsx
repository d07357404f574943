import { useState, type ReactNode } from 'react';
import { changeInstructions } from '../../../shared/change-instructions';
import type { WireError } from '../../../shared/error';
import type { ImageSummary } from '../../../shared/contract';
import { Dialog, DialogActions } from '../components/dialog';
import { Icon } from '../components/icon';
import { useAppStore, useAppStoreApi } from '../state/app-store-provider';
import { checkTagName, displayId, holderOf } from '../state/tag-plan';
import { imageLabel } from './tag-dialogs';

/** The verdict on a field as typed: fine (with what it will mean), or what is wrong with it. */
type Check = { ok: true; note?: string } | { ok: false; message: string };

/** A path on the host's disk: absolute, `~/…`, or a Windows drive path. */
export function checkHostPath(input: string): Check {
  const path = input.trim();
  if (path === '') return { ok: false, message: 'Enter a path on the computer Berth runs on' };
  if (!/^(\/|~\/|~$|[A-Za-z]:[\\/])/.test(path))
    return { ok: false, message: 'Use an absolute path (or ~/…) on the computer Berth runs on' };
  return { ok: true };
}

/** `--change` lines: each must start with an instruction import accepts. */
export function checkChanges(text: string): Check {
  const lines = text.split('\n');
  for (const [n, line] of lines.entries()) {
    const keyword = line.trim().split(/\s+/, 1)[0]?.toUpperCase() ?? '';
    if (keyword === '') continue;
    if (!(changeInstructions as readonly string[]).includes(keyword))
      return {
        ok: false,
        message: `Line ${n + 1}: ${keyword} cannot be used with import; use ${changeInstructions.join(', ')}`,
      };
  }
  return { ok: true };
}

function checkName(input: string, byId: Record<string, ImageSummary>, self?: string): Check {
  const check = checkTagName(input);
  if (!check.ok) return check;
  const holder = holderOf(check.name, byId);
  if (holder === undefined) return { ok: true, note: `Will be ${check.name}` };
  if (holder === self)
    return { ok: true, note: `Will be ${check.name} — the name moves from this image to the new one` };
  return { ok: true, note: `Will be ${check.name} — moves from ${displayId(holder)}` };
}

/** A labelled field with its inline verdict under it; the verdict shows once the user typed or submitted. */
function Field({
  id,
  label,
  check,
  shown,
  help,
  children,
}: {
  id: string;
  label: string;
  check: Check;
  shown: boolean;
  help: string;
  children: ReactNode;
}) {
  const bad = shown && !check.ok;
  return (
    <>
      <label className="field">
        <span className="field-label">{label}</span>
        {children}
      </label>
      <p
        id={id}
        className={`${bad ? 'field-error' : check.ok && check.note ? 'field-ok' : 'field-help'} field-words`}
        role={bad ? 'alert' : undefined}
        data-testid={id}
      >
        {bad && !check.ok ? check.message : check.ok && check.note ? check.note : help}
      </p>
    </>
  );
}

function ErrorLine({ error }: { error: WireError | null }) {
  if (!error) return null;
  return (
    <p className="field-error" role="alert" data-testid="rootfs-error">
      <Icon name="alert" /> {error.message} <code className="error-code">{error.code}</code>
    </p>
  );
}

/** A Browse… button for the desktop app's native dialog; the browser host has none and shows nothing. */
function BrowseButton({
  purpose,
  title,
  onChosen,
}: {
  purpose: 'open' | 'save';
  title: string;
  onChosen: (path: string) => void;
}) {
  const store = useAppStoreApi();
  const host = useAppStore((s) => s.settings.app?.host);
  if (host !== 'electron') return null;
  return (
    <button
      type="button"
      className="button button-small"
      onClick={() =>
        void store
          .getState()
          .chooseHostPath({ purpose, title })
          .then((path) => path !== undefined && onChosen(path))
      }
    >
      Browse…
    </button>
  );
}

/** A host path field checked as typed, with Browse… beside it where the host has a native dialog. */
function PathField({
  id,
  label,
  inputLabel,
  check,
  touched,
  help,
  placeholder,
  path,
  onType,
  browse,
}: {
  id: string;
  label: string;
  inputLabel: string;
  check: Check;
  touched: boolean;
  help: string;
  placeholder: string;
  path: string;
  onType: (path: string) => void;
  browse: Parameters<typeof BrowseButton>[0];
}) {
  const shown = touched || path !== '';
  return (
    <Field id={id} label={label} check={check} shown={shown} help={help}>
      <span className="field-row">
        <input
          className="text-input mono"
          data-autofocus
          aria-label={inputLabel}
          aria-invalid={shown && !check.ok}
          aria-describedby={id}
          placeholder={placeholder}
          value={path}
          spellCheck={false}
          autoComplete="off"
          onChange={(event) => onType(event.target.value)}
        />
        <BrowseButton {...browse} />
      </span>
    </Field>
  );
}

/** The Images toolbar's Import… button. */
export function ImportButton() {
  const store = useAppStoreApi();
  return (
    <button
      type="button"
      className="button"
      data-testid="import-button"
      onClick={() => store.getState().openDialog({ kind: 'import' })}
    >
      <Icon name="plus" />
      Import…
    </button>
  );
}

/**
 * "Import…": a root filesystem tarball on the host (typed, or chosen in the desktop app's dialog) becomes a
 * one-layer image, optionally named, with `--change` lines, a message and a platform; every field is checked
 * as it is typed and main's answer to a bad tarball is shown in place.
 */
export function ImportDialog() {
  const store = useAppStoreApi();
  const byId = useAppStore((s) => s.images.byId);
  const busy = useAppStore((s) => s.rootfs.busy === 'import');
  const hostPlatform = useAppStore((s) => s.settings.app?.platform);
  const close = () => store.getState().openDialog(null);
  const [path, setPath] = useState('');
  const [name, setName] = useState('');
  const [changes, setChanges] = useState('');
  const [message, setMessage] = useState('');
  const [platform, setPlatform] = useState('');
  const [touched, setTouched] = useState(false);
  const [error, setError] = useState<WireError | null>(null);
  const pathCheck = checkHostPath(path);
  const nameCheck: Check =
    name.trim() === ''
      ? { ok: true, note: 'No name: the image will be dangling, shown by its ID' }
      : checkName(name, byId);
  const changesCheck = checkChanges(changes);
  const valid = pathCheck.ok && nameCheck.ok && changesCheck.ok;
  const submit = async () => {
    setTouched(true);
    if (!valid || busy) return;
    const outcome = await store.getState().importRootfs({
      path: path.trim(),
      ...(name.trim() === '' ? {} : { reference: name.trim() }),
      changes: changes
        .split('\n')
        .map((line) => line.trim())
        .filter((line) => line !== ''),
      ...(message.trim() === '' ? {} : { message: message.trim() }),
      ...(platform.trim() === '' ? {} : { platform: platform.trim() }),
    });
    if (outcome.ok) close();
    else setError(outcome.error);
  };
  return (
    <Dialog
      title="Import a root filesystem"
      description="A tar of a root filesystem (plain or gzip) on the computer Berth runs on becomes a one-layer image."
      onClose={close}
      onSubmit={() => void submit()}
      testId="import-dialog"
      footer={
        <DialogActions onCancel={close} disabled={busy || (touched && !valid)}>
          {busy ? 'Importing…' : 'Import'}
        </DialogActions>
      }
    >
      <ErrorLine error={error} />
      <PathField
        id="import-path-help"
        label="Tarball"
        inputLabel="Tarball path"
        check={pathCheck}
        touched={touched}
        help="For example /home/me/rootfs.tar.gz"
        placeholder="/path/to/rootfs.tar.gz"
        path={path}
        onType={(value) => {
          setPath(value);
          setError(null);
        }}
        browse={{ purpose: 'open', title: 'Choose a root filesystem tarball', onChosen: setPath }}
      />
      <Field
        id="import-name-help"
        label="Name (optional)"
        check={nameCheck}
        shown={name !== ''}
        help="No name: the image will be dangling"
      >
        <input
          className="text-input mono"
          aria-label="Image name"
          aria-invalid={name !== '' && !nameCheck.ok}
          aria-describedby="import-name-help"
          placeholder="myimage:1.0"
          value={name}
          spellCheck={false}
          autoComplete="off"
          onChange={(event) => setName(event.target.value)}
        />
      </Field>
      <Field
        id="import-changes-help"
        label="Changes (one instruction a line)"
        check={changesCheck}
        shown={changes !== ''}
        help={`${changeInstructions.join(', ')} — as docker import --change`}
      >
        <textarea
          className="text-input mono"
          aria-label="Changes"
          aria-invalid={!changesCheck.ok}
          aria-describedby="import-changes-help"
          rows={3}
          placeholder={'CMD ["/bin/sh"]\nENV PATH=/usr/bin:/bin'}
          value={changes}
          spellCheck={false}
          onChange={(event) => setChanges(event.target.value)}
        />
      </Field>
      <label className="field">
        <span className="field-label">Message (optional)</span>
        <input
          className="text-input"
          aria-label="Message"
          placeholder="Becomes the history comment"
          value={message}
          onChange={(event) => setMessage(event.target.value)}
        />
      </label>
      <label className="field">
        <span className="field-label">Platform (optional)</span>
        <input
          className="text-input mono"
          aria-label="Platform"
          placeholder={
            hostPlatform
              ? [hostPlatform.os, hostPlatform.architecture, hostPlatform.variant].filter(Boolean).join('/')
              : 'linux/amd64'
          }
          value={platform}
          spellCheck={false}
          onChange={(event) => setPlatform(event.target.value)}
        />
      </label>
    </Dialog>
  );
}

/** "Export filesystem…": writes the image's flattened filesystem as one tar to a path on the host. */
export function ExportDialog({ image: id }: { image: string }) {
  const store = useAppStoreApi();
  const image = useAppStore((s) => s.images.byId[id]);
  const busy = useAppStore((s) => s.rootfs.busy === 'export');
  const close = () => store.getState().openDialog(null);
  const [path, setPath] = useState('');
  const [touched, setTouched] = useState(false);
  const [error, setError] = useState<WireError | null>(null);
  const check = checkHostPath(path);
  const submit = async () => {
    setTouched(true);
    if (!check.ok || busy) return;
    const outcome = await store.getState().exportRootfs(id, path.trim());
    if (outcome.ok) close();
    else setError(outcome.error);
  };
  if (!image) return null;
  return (
    <Dialog
      title="Export filesystem"
      description={
        <>
          Write what a container of <strong>{imageLabel(image)}</strong>{' '}
          <span className="mono">({displayId(id)})</span> sees as one tar.
        </>
      }
      onClose={close}
      onSubmit={() => void submit()}
      testId="export-dialog"
      footer={
        <DialogActions onCancel={close} disabled={busy || (touched && !check.ok)}>
          {busy ? 'Exporting…' : 'Export'}
        </DialogActions>
      }
    >
      <ErrorLine error={error} />
      <PathField
        id="export-path-help"
        label="Save as"
        inputLabel="Export path"
        check={check}
        touched={touched}
        help="For example ~/rootfs.tar; an existing file is replaced"
        placeholder="~/rootfs.tar"
        path={path}
        onType={(value) => {
          setPath(value);
          setError(null);
        }}
        browse={{ purpose: 'save', title: 'Export the filesystem to', onChosen: setPath }}
      />
    </Dialog>
  );
}

/** "Squash…": a new image with the layers merged into one, named in a field validated as it is typed. */
export function SquashDialog({ image: id }: { image: string }) {
  const store = useAppStoreApi();
  const image = useAppStore((s) => s.images.byId[id]);
  const byId = useAppStore((s) => s.images.byId);
  const busy = useAppStore((s) => s.rootfs.busy === 'squash');
  const close = () => store.getState().openDialog(null);
  const [name, setName] = useState('');
  const [touched, setTouched] = useState(false);
  const [error, setError] = useState<WireError | null>(null);
  const check = checkName(name, byId, id);
  const submit = async () => {
    setTouched(true);
    if (!check.ok || busy) return;
    const outcome = await store.getState().squashImage(id, name.trim());
    if (outcome.ok) close();
    else setError(outcome.error);
  };
  if (!image) return null;
  return (
    <Dialog
      title="Squash image"
      description={
        <>
          Make a new image with every layer of <strong>{imageLabel(image)}</strong>{' '}
          <span className="mono">({displayId(id)})</span> merged into one. This image stays as it is.
        </>
      }
      onClose={close}
      onSubmit={() => void submit()}
      testId="squash-dialog"
      footer={
        <DialogActions onCancel={close} disabled={busy || (touched && !check.ok)}>
          {busy ? 'Squashing…' : 'Squash'}
        </DialogActions>
      }
    >
      <ErrorLine error={error} />
      <Field
        id="squash-name-help"
        label="New name"
        check={check}
        shown={touched || name !== ''}
        help="For example myapp:flat"
      >
        <input
          className="text-input mono"
          data-autofocus
          aria-label="New image name"
          aria-invalid={(touched || name !== '') && !check.ok}
          aria-describedby="squash-name-help"
          placeholder="myapp:flat"
          value={name}
          spellCheck={false}
          autoComplete="off"
          onChange={(event) => {
            setName(event.target.value);
            setError(null);
          }}
        />
      </Field>
    </Dialog>
  );
}
