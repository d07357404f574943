import { useEffect, useState } from 'react';
import { formatBytes, formatRelativeTime } from '../../../shared/format';
import { Icon } from '../components/icon';
import { useNow } from '../hooks/use-now';
import { useAppStore } from '../state/app-store-provider';
import type { PruneOptions } from '../state/disk-slice';
import { displayId, familiar } from '../state/tag-plan';

const ages = [
  { value: '', label: 'any age' },
  { value: '24h', label: 'older than a day' },
  { value: '168h', label: 'older than a week' },
  { value: '720h', label: 'older than 30 days' },
];

function optionsOf(all: boolean, until: string, label: string): PruneOptions {
  const filter: { until?: string; label?: string[] } = {};
  if (until) filter.until = until;
  if (label.trim()) filter.label = [label.trim()];
  return Object.keys(filter).length > 0 ? { all, filter } : { all };
}

/** The Prune view: choose what to prune, see exactly which images a dry run would remove and about how much comes back, then prune. */
export function PruneView() {
  const preview = useAppStore((s) => s.disk.preview);
  const status = useAppStore((s) => s.disk.previewStatus);
  const error = useAppStore((s) => s.disk.previewError);
  const pruning = useAppStore((s) => s.disk.pruning);
  const byId = useAppStore((s) => s.images.byId);
  const previewPrune = useAppStore((s) => s.previewPrune);
  const runPrune = useAppStore((s) => s.runPrune);
  const now = useNow();
  const [all, setAllState] = useState(false);
  const [until, setUntilState] = useState('');
  const [label, setLabelState] = useState('');
  const [confirming, setConfirming] = useState(false);
  const setAll = (value: boolean) => {
    setConfirming(false);
    setAllState(value);
  };
  const setUntil = (value: string) => {
    setConfirming(false);
    setUntilState(value);
  };
  const setLabel = (value: string) => {
    setConfirming(false);
    setLabelState(value);
  };

  useEffect(() => {
    const timer = setTimeout(() => void previewPrune(optionsOf(all, until, label)), label ? 250 : 0);
    return () => clearTimeout(timer);
  }, [all, until, label, previewPrune]);

  const ids = preview?.ids ?? [];
  return (
    <section className="view prune-view" data-testid="prune-view" aria-labelledby="view-title">
      <div className="scroll-page">
        <div className="card prune-options">
          <fieldset className="radio-cards">
            <legend className="visually-hidden">What to prune</legend>
            <label className={all ? 'radio-card' : 'radio-card active'}>
              <input type="radio" name="prune-scope" checked={!all} onChange={() => setAll(false)} />
              <span>
                <strong>Dangling images</strong>
                <span className="muted">Images no name points at (shown as &lt;none&gt;)</span>
              </span>
            </label>
            <label className={all ? 'radio-card active danger' : 'radio-card'}>
              <input type="radio" name="prune-scope" checked={all} onChange={() => setAll(true)} />
              <span>
                <strong>All images</strong>
                <span className="muted">Every image that matches, named or not</span>
              </span>
            </label>
          </fieldset>
          <div className="prune-filters">
            <label className="field-inline">
              Age
              <select
                className="text-input"
                value={until}
                aria-label="Age"
                onChange={(e) => setUntil(e.target.value)}
              >
                {ages.map((age) => (
                  <option key={age.value} value={age.value}>
                    {age.label}
                  </option>
                ))}
              </select>
            </label>
            <label className="field-inline">
              Label
              <input
                className="text-input"
                aria-label="Prune label filter"
                placeholder="key, key=value, !key"
                value={label}
                spellCheck={false}
                onChange={(e) => setLabel(e.target.value)}
              />
            </label>
          </div>
        </div>

        <div className="card prune-preview" data-testid="prune-preview" aria-busy={status === 'loading'}>
          <header className="card-head">
            <h2>
              {status === 'loading' && !preview
                ? 'Working out what would go…'
                : ids.length === 0
                  ? 'Nothing to prune'
                  : `${ids.length} ${ids.length === 1 ? 'image' : 'images'} would be removed`}
            </h2>
            {ids.length > 0 && preview && (
              <span className="reclaim" data-testid="prune-reclaim">
                reclaims at least <strong>{formatBytes(preview.reclaimable)}</strong>
              </span>
            )}
          </header>
          {status === 'error' && error && (
            <div className="inline-alert" role="alert">
              <Icon name="alert" />
              <span>
                {error.message} <code className="error-code">{error.code}</code>
              </span>
            </div>
          )}
          {ids.length === 0 ? (
            <p className="muted tab-empty">
              {all ? 'No image matches these filters.' : 'No dangling images — the store is tidy.'}
            </p>
          ) : (
            <ul className="prune-list">
              {ids.map((id) => {
                const image = byId[id];
                return (
                  <li key={id} data-testid="prune-item">
                    <span className="prune-name">
                      {image && image.repoTags.length > 0 ? (
                        image.repoTags.map(familiar).join(', ')
                      ) : (
                        <span className="badge badge-dangling">&lt;none&gt;</span>
                      )}
                    </span>
                    <span className="mono muted">{displayId(id)}</span>
                    <span className="muted">{formatRelativeTime(image?.created, now)}</span>
                    <span className="num">{image ? formatBytes(image.size) : ''}</span>
                  </li>
                );
              })}
            </ul>
          )}
          <footer className="card-foot">
            {confirming ? (
              <>
                <span className="confirm-text">
                  Remove {ids.length} {ids.length === 1 ? 'image' : 'images'}? This cannot be undone.
                </span>
                <button type="button" className="button" onClick={() => setConfirming(false)}>
                  Cancel
                </button>
                <button
                  type="button"
                  className="button button-danger"
                  disabled={pruning}
                  onClick={() => {
                    setConfirming(false);
                    void runPrune();
                  }}
                >
                  <Icon name="trash" />
                  {pruning ? 'Pruning…' : 'Prune now'}
                </button>
              </>
            ) : (
              <button
                type="button"
                className="button button-danger"
                disabled={ids.length === 0 || pruning || status !== 'ready'}
                onClick={() => setConfirming(true)}
              >
                <Icon name="prune" />
                Prune {ids.length > 0 ? `${ids.length} ${ids.length === 1 ? 'image' : 'images'}` : ''}
              </button>
            )}
          </footer>
        </div>
      </div>
    </section>
  );
}
