import { useEffect, useRef } from 'react';
import { formatCount } from '../../../shared/format';
import { Icon } from '../components/icon';
import { useAppStore, useAppStoreApi } from '../state/app-store-provider';
import { selectFiltersActive, selectVisibleImageCount } from '../state/image-selectors';
import { noImageFilters, type ImageFilters } from '../state/ui-slice';
import { ImageDetailsPanel, LoadArchiveDialog, PushDialog, SaveArchiveDialog } from '../lazy-views';
import { ImagesMenu } from './images-menu';
import { ImagesTable } from './images-table';
import { AddTagDialog, MoveTagDialog, RemoveImagesDialog } from './tag-dialogs';
import { UntagZone } from './untag-zone';
import { ExportDialog, ImportButton, ImportDialog, SquashDialog } from './rootfs-dialogs';

function PullButton() {
  const open = useAppStore((s) => s.openPullDialog);
  return (
    <button type="button" className="button button-primary" data-testid="pull-button" onClick={() => open()}>
      <Icon name="pulls" />
      Pull
    </button>
  );
}

function LoadButton() {
  const store = useAppStoreApi();
  return (
    <button
      type="button"
      className="button"
      data-testid="load-button"
      onClick={() => store.getState().openDialog({ kind: 'load-archive' })}
    >
      Load…
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
          if (event.key === 'ArrowDown') {
            event.preventDefault();
            document.querySelector<HTMLElement>('[data-testid="images-grid"]')?.focus();
          }
        }}
        spellCheck={false}
      />
      <kbd className="search-hint">/</kbd>
    </label>
  );
}

function FilterBar() {
  const filters = useAppStore((s) => s.ui.imageFilters);
  const set = useAppStore((s) => s.setImageFilters);
  const grouped = useAppStore((s) => s.ui.groupByRepository);
  const toggleGrouped = useAppStore((s) => s.toggleGroupByRepository);
  const active = useAppStore(selectFiltersActive);
  return (
    <div className="filter-bar" role="group" aria-label="Filters">
      <label className="filter-select">
        <span className="visually-hidden">Dangling images</span>
        <select
          aria-label="Dangling images"
          value={filters.dangling}
          onChange={(event) => set({ dangling: event.target.value as ImageFilters['dangling'] })}
        >
          <option value="any">All images</option>
          <option value="only">Dangling only</option>
          <option value="hide">Hide dangling</option>
        </select>
      </label>
      <button
        type="button"
        className={filters.inUse ? 'toggle active' : 'toggle'}
        aria-pressed={filters.inUse}
        title="Only images other images are built on"
        onClick={() => set({ inUse: !filters.inUse })}
      >
        In use
      </button>
      <label className="label-filter">
        <span className="label-filter-prefix">label</span>
        <input
          aria-label="Label filter"
          placeholder="key or key=value"
          value={filters.label}
          spellCheck={false}
          onChange={(event) => set({ label: event.target.value })}
        />
      </label>
      {active && (
        <button type="button" className="link-button" onClick={() => set(noImageFilters)}>
          Clear filters
        </button>
      )}
      <span className="toolbar-spacer" />
      <button
        type="button"
        className={grouped ? 'toggle active' : 'toggle'}
        aria-pressed={grouped}
        onClick={toggleGrouped}
      >
        <Icon name="layers" />
        Group by repository
      </button>
    </div>
  );
}

function SelectionBar() {
  const store = useAppStoreApi();
  const selection = useAppStore((s) => s.ui.selection);
  const detailsId = useAppStore((s) => s.ui.detailsId);
  // A plain click selects the row it opens; the bar is for deliberate (multi-)selections.
  if (selection.length === 0 || (selection.length === 1 && selection[0] === detailsId)) return null;
  return (
    <div className="selection-bar" role="region" aria-label="Selection" data-testid="selection-bar">
      <strong>{selection.length} selected</strong>
      <button
        type="button"
        className="button button-small button-danger"
        onClick={() => store.getState().openDialog({ kind: 'remove', ids: selection })}
      >
        <Icon name="trash" />
        Remove
      </button>
      <button
        type="button"
        className="button button-small"
        onClick={() => store.getState().openDialog({ kind: 'save-archive', ids: selection })}
      >
        Save…
      </button>
      <span className="toolbar-spacer" />
      <button type="button" className="link-button" onClick={() => store.getState().setSelection([])}>
        Clear selection
      </button>
    </div>
  );
}

function ImagesDialogs() {
  const dialog = useAppStore((s) => s.ui.dialog);
  if (!dialog) return null;
  switch (dialog.kind) {
    case 'add-tag':
      return <AddTagDialog image={dialog.image} />;
    case 'move-tag':
      return <MoveTagDialog image={dialog.image} name={dialog.name} copy={dialog.copy} />;
    case 'remove':
      return <RemoveImagesDialog ids={dialog.ids} />;
    case 'push':
      return <PushDialog image={dialog.image} />;
    case 'save-archive':
      return <SaveArchiveDialog ids={dialog.ids} />;
    case 'load-archive':
      return <LoadArchiveDialog />;
    case 'import':
      return <ImportDialog />;
    case 'export':
      return <ExportDialog image={dialog.image} />;
    case 'squash':
      return <SquashDialog image={dialog.image} />;
  }
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
  const filtersActive = useAppStore(selectFiltersActive);
  const clearFilters = useAppStore((s) => s.setImageFilters);
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
      <SelectionBar />
      {visible === 0 ? (
        <div className="state-panel" data-testid="images-no-match">
          <Icon name="search" className="state-icon" />
          <h2>{query ? `No images match “${query}”` : 'No images match the filters'}</h2>
          {query && (
            <button type="button" className="button" onClick={() => setQuery('')}>
              Clear search
            </button>
          )}
          {filtersActive && (
            <button type="button" className="button" onClick={() => clearFilters(noImageFilters)}>
              Clear filters
            </button>
          )}
        </div>
      ) : (
        <ImagesTable />
      )}
    </>
  );
}

/**
 * The Images view: search, filters, grouping, pull and the image table with its details panel, context
 * menus, tag dialogs and the Untag drop zone, with loading, empty and error states.
 */
export function ImagesView() {
  const count = useAppStore((s) => s.images.order.length);
  const visible = useAppStore(selectVisibleImageCount);
  const narrowed = useAppStore((s) => s.ui.imageQuery !== '' || selectFiltersActive(s));
  const details = useAppStore((s) => s.ui.detailsId !== null);
  return (
    <section
      className={details ? 'view images-view with-details' : 'view images-view'}
      data-testid="images-view"
      aria-labelledby="view-title"
    >
      <div className="images-main">
        <div className="toolbar">
          <SearchField />
          <span className="toolbar-count" aria-live="polite">
            {narrowed
              ? `${formatCount(visible)} of ${formatCount(count)}`
              : `${formatCount(count)} ${count === 1 ? 'image' : 'images'}`}
          </span>
          <span className="toolbar-spacer" />
          <LoadButton />
          <ImportButton />
          <PullButton />
        </div>
        {count > 0 && <FilterBar />}
        <ImagesBody />
        <UntagZone />
      </div>
      {/* Only while open: rendering the lazy panel would fetch its chunk during the first paint. */}
      {details && <ImageDetailsPanel />}
      <ImagesMenu />
      <ImagesDialogs />
    </section>
  );
}
