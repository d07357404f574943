import { useEffect, useId, useMemo, useRef, useState } from 'react';
import { useDebounce } from 'use-debounce';
import type { Platform, ReferenceResolution, RemoteImageSummary } from '../../../shared/contract';
import { toWireError, type WireError } from '../../../shared/error';
import { formatBytes, formatPlatform } from '../../../shared/format';
import { parseReference } from '../../../shared/reference';
import { Dialog, DialogActions } from '../components/dialog';
import { useAppStore, useAppStoreApi } from '../state/app-store-provider';

/** How long typing must pause before the dialog asks the registry anything. */
export const lookupDebounceMs = 250;

/** Most tag suggestions shown at once. */
const suggestionsMax = 12;

/** A pull policy as `pull:start` takes it. */
type PullPolicy = 'missing' | 'always' | 'newer';

const policyLabels: Record<PullPolicy, { label: string; help: string }> = {
  missing: { label: 'If missing', help: 'Uses the stored image when the name is already present.' },
  always: { label: 'Always', help: 'Asks the registry and fetches whatever is not stored yet.' },
  newer: { label: 'If newer', help: 'Pulls only when the registry has a different digest for the name.' },
};

/** The repository and the partial tag when the input ends in `repo:partial` (no digest), else undefined. */
export function tagQueryOf(input: string): { repository: string; prefix: string } | undefined {
  if (input.includes('@')) return undefined;
  const slash = input.lastIndexOf('/');
  const colon = input.indexOf(':', slash + 1);
  if (colon <= 0) return undefined;
  return { repository: input.slice(0, colon), prefix: input.slice(colon + 1) };
}

/** Why `input` is not a reference, or undefined when it parses. */
function referenceProblem(input: string): string | undefined {
  try {
    parseReference(input);
    return undefined;
  } catch (err) {
    return toWireError(err).message;
  }
}

/** A remote look-up keyed by the input it was made for, so an answer for stale input is never shown. */
type Lookup<T> =
  | { key: string; status: 'loading' }
  | { key: string; status: 'ready'; value: T }
  | { key: string; status: 'error'; error: WireError };

/**
 * Runs `query` for `key` whenever the (debounced) key changes; answers for an older key are dropped, so a
 * slow reply never overwrites a newer one. An undefined key clears the look-up.
 */
function useLookup<T>(key: string | undefined, query: (key: string) => Promise<T>): Lookup<T> | undefined {
  const [state, setState] = useState<Lookup<T> | undefined>(undefined);
  const latest = useRef<string | undefined>(undefined);
  const queryRef = useRef(query);
  useEffect(() => {
    queryRef.current = query;
  });
  useEffect(() => {
    latest.current = key;
    if (key === undefined) return;
    queryRef.current(key).then(
      (value) => {
        if (latest.current === key) setState({ key, status: 'ready', value });
      },
      (err: unknown) => {
        if (latest.current === key) setState({ key, status: 'error', error: toWireError(err) });
      },
    );
  }, [key]);
  if (key === undefined) return undefined;
  return state?.key === key ? state : { key, status: 'loading' };
}

function ResolutionLine({ lookup }: { lookup: Lookup<ReferenceResolution> | undefined }) {
  if (!lookup || lookup.status === 'loading') return null;
  if (lookup.status === 'error') {
    return (
      <p className="field-error" role="alert" data-testid="pull-resolution">
        {lookup.error.message}
      </p>
    );
  }
  return (
    <p className="field-help mono" data-testid="pull-resolution">
      {lookup.value.summary}
      {lookup.value.ambiguous && ' — qualify the name to choose one registry'}
    </p>
  );
}

function RemoteLine({ lookup }: { lookup: Lookup<RemoteImageSummary> | undefined }) {
  if (!lookup) return null;
  if (lookup.status === 'loading') {
    return (
      <p className="field-help" data-testid="pull-remote">
        Looking the image up in its registry…
      </p>
    );
  }
  if (lookup.status === 'error') {
    return (
      <p className="field-error" data-testid="pull-remote">
        {lookup.error.message} <code className="error-code">{lookup.error.code}</code>
      </p>
    );
  }
  const { value } = lookup;
  return (
    <p className="field-ok" data-testid="pull-remote">
      Found {value.name} · {formatBytes(value.size)} to download
      {value.platforms.length > 1 ? ` · ${value.platforms.length} platforms` : ''}
    </p>
  );
}

/**
 * The Pull dialog: a reference field checked as it is typed (with how a short name resolves), the
 * repository's remote tags offered after `:`, a platform list from the remote index, and a pull policy.
 * Submitting starts the pull and opens the Pulls panel.
 */
export function PullDialog() {
  const store = useAppStoreApi();
  const initial = useAppStore((s) => s.pulls.dialog?.reference ?? '');
  const [input, setInput] = useState(initial);
  const [platform, setPlatform] = useState('');
  const [policy, setPolicy] = useState<PullPolicy>('missing');
  const [submitted, setSubmitted] = useState(false);
  const [active, setActive] = useState(-1);
  const [suggestionsOpen, setSuggestionsOpen] = useState(true);
  const listId = useId();
  const close = () => store.getState().openPullDialog(null);

  const trimmed = input.trim();
  const tagQuery = tagQueryOf(trimmed);
  const problem = trimmed === '' ? 'Type an image reference, e.g. alpine:3.20' : referenceProblem(trimmed);
  const valid = problem === undefined;
  const [debouncedInput] = useDebounce(trimmed, lookupDebounceMs);
  const [debouncedRepository] = useDebounce(tagQuery?.repository, lookupDebounceMs);
  const debouncedValid = debouncedInput !== '' && referenceProblem(debouncedInput) === undefined;

  const resolution = useLookup(debouncedValid ? debouncedInput : undefined, (ref) =>
    store.getState().resolveReference(ref),
  );
  const remote = useLookup(debouncedValid ? debouncedInput : undefined, (ref) =>
    store.getState().inspectRemote(ref),
  );
  const tags = useLookup(
    debouncedRepository !== undefined && referenceProblem(debouncedRepository) === undefined
      ? debouncedRepository
      : undefined,
    (repository) => store.getState().listRemoteTags(repository),
  );

  const suggestions = useMemo(() => {
    if (!tagQuery || tags?.status !== 'ready' || tags.key !== tagQuery.repository) return [];
    return tags.value
      .filter((tag) => tag.startsWith(tagQuery.prefix) && tag !== tagQuery.prefix)
      .slice(0, suggestionsMax);
  }, [tags, tagQuery]);
  const showSuggestions = suggestionsOpen && suggestions.length > 0;

  const platforms: Platform[] = remote?.status === 'ready' ? remote.value.platforms : [];
  const chosenPlatform = platforms.some((p) => formatPlatform(p) === platform) ? platform : '';

  const pick = (tag: string) => {
    if (!tagQuery) return;
    setInput(`${tagQuery.repository}:${tag}`);
    setActive(-1);
    setSuggestionsOpen(false);
  };

  const submit = () => {
    setSubmitted(true);
    if (!valid) return;
    close();
    void store
      .getState()
      .startPull(
        chosenPlatform === ''
          ? { reference: trimmed, policy }
          : { reference: trimmed, platform: chosenPlatform, policy },
      );
  };

  const showProblem = !valid && (submitted || (trimmed !== '' && !trimmed.endsWith(':')));
  return (
    <Dialog
      title="Pull an image"
      description="Download an image from its registry into the store."
      onClose={close}
      onSubmit={submit}
      testId="pull-dialog"
      footer={
        <DialogActions onCancel={close} disabled={submitted && !valid}>
          Pull
        </DialogActions>
      }
    >
      <label className="field">
        <span className="field-label">Image</span>
        <input
          className="text-input mono"
          data-autofocus
          role="combobox"
          aria-label="Image reference"
          aria-invalid={showProblem}
          aria-autocomplete="list"
          aria-expanded={showSuggestions}
          aria-controls={listId}
          aria-activedescendant={showSuggestions && active >= 0 ? `${listId}-${active}` : undefined}
          placeholder="alpine:3.20, ghcr.io/org/app:1.0 or localhost:5000/app@sha256:…"
          value={input}
          spellCheck={false}
          autoComplete="off"
          onChange={(event) => {
            setInput(event.target.value);
            setActive(-1);
            setSuggestionsOpen(true);
          }}
          onKeyDown={(event) => {
            if (!showSuggestions) return;
            if (event.key === 'ArrowDown') setActive((a) => (a + 1) % suggestions.length);
            else if (event.key === 'ArrowUp') setActive((a) => (a <= 0 ? suggestions.length - 1 : a - 1));
            else if (event.key === 'Enter' && active >= 0) pick(suggestions[active] ?? '');
            else if (event.key === 'Escape') setSuggestionsOpen(false);
            else return;
            event.preventDefault();
            event.stopPropagation();
          }}
        />
      </label>
      {showSuggestions && (
        <ul
          className="suggestions"
          role="listbox"
          id={listId}
          aria-label="Remote tags"
          data-testid="tag-suggestions"
        >
          {suggestions.map((tag, index) => (
            <li
              key={tag}
              id={`${listId}-${index}`}
              role="option"
              aria-selected={index === active}
              className={index === active ? 'suggestion active' : 'suggestion'}
              onMouseDown={(event) => {
                event.preventDefault();
                pick(tag);
              }}
            >
              <span className="mono">{tag}</span>
            </li>
          ))}
        </ul>
      )}
      {tagQuery && tags?.status === 'error' && (
        <p className="field-help" data-testid="tag-suggestions-error">
          No tag suggestions: {tags.error.message}
        </p>
      )}
      {showProblem ? (
        <p className="field-error" role="alert" data-testid="pull-reference-error">
          {problem}
        </p>
      ) : (
        valid && <ResolutionLine lookup={resolution} />
      )}
      {valid && <RemoteLine lookup={remote} />}
      <div className="field-row">
        <label className="field">
          <span className="field-label">Platform</span>
          <select
            className="text-input"
            aria-label="Platform"
            value={chosenPlatform}
            disabled={platforms.length === 0}
            onChange={(event) => setPlatform(event.target.value)}
          >
            <option value="">This machine's platform</option>
            {platforms.map((p) => {
              const name = formatPlatform(p);
              return (
                <option key={name} value={name}>
                  {name}
                </option>
              );
            })}
          </select>
        </label>
        <label className="field">
          <span className="field-label">Pull policy</span>
          <select
            className="text-input"
            aria-label="Pull policy"
            value={policy}
            onChange={(event) => setPolicy(event.target.value as PullPolicy)}
          >
            {(Object.keys(policyLabels) as PullPolicy[]).map((p) => (
              <option key={p} value={p}>
                {policyLabels[p].label}
              </option>
            ))}
          </select>
        </label>
      </div>
      <p className="field-help" data-testid="pull-policy-help">
        {policyLabels[policy].help}
      </p>
    </Dialog>
  );
}

/** The Pull dialog when the store says it is open; rendered once in the app shell so any view can open it. */
export function PullDialogHost() {
  const open = useAppStore((s) => s.pulls.dialog !== null);
  return open ? <PullDialog /> : null;
}
