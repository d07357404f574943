import { useEffect, useRef } from 'react';
import { Icon } from '../components/icon';
import { useAppStore } from '../state/app-store-provider';
import { selectVisibleImageCount } from '../state/image-selectors';
import { ImagesTable } from './images-table';

function PullButton() {
  return (
    <button type="button" className="button button-primary" disabled title="Pulling arrives in a later build">
      <Icon name="pulls" />
      Pull
    </button>
  );
}

function SearchField() {
  const query = useAppStore((s) => s.ui.imageQuery);
  const setQuery = useAppStore((s) => s.setImageQuery);
  const inputRef = useRef<HTMLInputElement>(null);
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      const editing = event.target instanceof HTMLElement && event.target.closest('input, textarea, select');
      if ((event.key === 'f' && (event.ctrlKey || event.metaKey)) || (event.key === '/' && !editing)) {
        event.preventDefault();
        inputRef.current?.focus();
        inputRef.current?.select();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);
  return (
    <label className="search-field">
      <Icon name="search" />
      <input
        ref={inputRef}
        type="search"
        aria-label="Search images"
        placeholder="Search names, IDs, labels…"
        value={query}
        onChange={(event) => setQuery(event.target.value)}
        onKeyDown={(event) => {
          if (event.key === 'Escape') setQuery('');
        }}
        spellCheck={false}
      />
      <kbd className="search-hint">/</kbd>
    </label>
  );
}

function LoadingRows() {
  return (
    <div className="table-scroll" aria-busy="true" data-testid="images-loading">
      <span className="visually-hidden">Loading images…</span>
      {Array.from({ length: 8 }, (_, i) => (
        <div key={i} className="skeleton-row" aria-hidden="true">
          <span className="skeleton skeleton-wide" />
          <span className="skeleton" />
          <span className="skeleton" />
          <span className="skeleton skeleton-narrow" />
        </div>
      ))}
    </div>
  );
}

function ImagesBody() {
  const status = useAppStore((s) => s.images.status);
  const error = useAppStore((s) => s.images.error);
  const count = useAppStore((s) => s.images.order.length);
  const visible = useAppStore(selectVisibleImageCount);
  const query = useAppStore((s) => s.ui.imageQuery);
  const setQuery = useAppStore((s) => s.setImageQuery);
  const reload = useAppStore((s) => s.loadImages);

  if (status === 'idle' || status === 'loading') return <LoadingRows />;
  if (status === 'error') {
    return (
      <div className="state-panel state-panel-error" role="alert" data-testid="images-error">
        <Icon name="alert" className="state-icon" />
        <h2>Could not load images</h2>
        <p className="state-detail">
          {error?.message ?? 'Unknown error'} {error && <code className="error-code">{error.code}</code>}
        </p>
        <button type="button" className="button" onClick={() => void reload()}>
          <Icon name="retry" />
          Retry
        </button>
      </div>
    );
  }
  if (count === 0) {
    return (
      <div className="state-panel" data-testid="images-empty">
        <div className="empty-art" aria-hidden="true">
          <Icon name="images" />
        </div>
        <h2>No images yet — pull one to get started</h2>
        <p className="state-detail">Images you pull, load or build appear here.</p>
        <PullButton />
      </div>
    );
  }
  return (
    <>
      {error && (
        <div className="inline-alert" role="alert">
          <Icon name="alert" />
          <span>
            Could not refresh the image list: {error.message} <code className="error-code">{error.code}</code>
          </span>
          <button type="button" className="button button-small" onClick={() => void reload()}>
            Retry
          </button>
        </div>
      )}
      {visible === 0 ? (
        <div className="state-panel" data-testid="images-no-match">
          <Icon name="search" className="state-icon" />
          <h2>No images match “{query}”</h2>
          <button type="button" className="button" onClick={() => setQuery('')}>
            Clear search
          </button>
        </div>
      ) : (
        <ImagesTable />
      )}
    </>
  );
}

/** The Images view: search, pull and the image table, with loading, empty and error states. */
export function ImagesView() {
  const count = useAppStore((s) => s.images.order.length);
  const visible = useAppStore(selectVisibleImageCount);
  const query = useAppStore((s) => s.ui.imageQuery);
  return (
    <section className="view images-view" data-testid="images-view" aria-labelledby="view-title">
      <div className="toolbar">
        <SearchField />
        <span className="toolbar-count" aria-live="polite">
          {query
            ? `${visible.toLocaleString('en')} of ${count.toLocaleString('en')}`
            : `${count.toLocaleString('en')} ${count === 1 ? 'image' : 'images'}`}
        </span>
        <span className="toolbar-spacer" />
        <PullButton />
      </div>
      <ImagesBody />
    </section>
  );
}
