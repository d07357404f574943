import { useEffect, useId, useState, type KeyboardEvent } from 'react';
import type { ImageDetails, ImageSummary } from '../../../shared/contract';
import { Icon } from '../components/icon';
import { useAppStore, useAppStoreApi } from '../state/app-store-provider';
import { imageNames } from '../state/image-names';
import { displayId } from '../state/tag-plan';
import { HistoryTab, InspectTab, SummaryTab } from './image-details-tabs';
import { LayerExplorer } from './layer-explorer';

const tabs = ['Summary', 'History', 'Layers', 'Inspect'] as const;

/** A tab of the details panel. */
export type DetailsTab = (typeof tabs)[number];

function TabBody({ tab, image, details }: { tab: DetailsTab; image: ImageSummary; details: ImageDetails }) {
  switch (tab) {
    case 'Summary':
      return <SummaryTab image={image} details={details} />;
    case 'History':
      return <HistoryTab details={details} />;
    case 'Layers':
      return <LayerExplorer image={image} details={details} />;
    case 'Inspect':
      return <InspectTab details={details} />;
  }
}

/**
 * The details panel beside the table for the image opened there: Summary, History, Layers and Inspect
 * tabs (arrow keys move between tabs). Names come from the live list; the rest from `images:inspect`.
 */
export function ImageDetailsPanel() {
  const store = useAppStoreApi();
  const id = useAppStore((s) => s.ui.detailsId);
  const image = useAppStore((s) => (id === null ? undefined : s.images.byId[id]));
  const entry = useAppStore((s) => (id === null ? undefined : s.details[id]));
  const [tab, setTab] = useState<DetailsTab>('Summary');
  const base = useId();
  useEffect(() => {
    if (id !== null) void store.getState().loadDetails(id);
  }, [id, store]);
  if (id === null || !image) return null;
  const names = imageNames(image);
  const onTabKey = (event: KeyboardEvent) => {
    const at = tabs.indexOf(tab);
    const next =
      event.key === 'ArrowRight'
        ? tabs[(at + 1) % tabs.length]
        : event.key === 'ArrowLeft'
          ? tabs[(at - 1 + tabs.length) % tabs.length]
          : event.key === 'Home'
            ? tabs[0]
            : event.key === 'End'
              ? tabs[tabs.length - 1]
              : undefined;
    if (!next) return;
    event.preventDefault();
    setTab(next);
    document.getElementById(`${base}-tab-${next}`)?.focus();
  };
  return (
    <aside
      className={tab === 'Layers' ? 'details-panel details-wide' : 'details-panel'}
      aria-label="Image details"
      data-testid="image-details"
    >
      <header className="details-head">
        <div className="details-title">
          <h2>
            {image.dangling ? <span className="badge badge-dangling">&lt;none&gt;</span> : names.repository}
          </h2>
          <span className="mono details-id">{displayId(image.id)}</span>
        </div>
        <button
          type="button"
          className="icon-button"
          aria-label="Push image"
          title="Push…"
          onClick={() => store.getState().openDialog({ kind: 'push', image: image.id })}
        >
          <Icon name="upload" />
        </button>
        <button
          type="button"
          className="icon-button"
          aria-label="Close details"
          onClick={() => store.getState().openDetails(null)}
        >
          <Icon name="close" />
        </button>
      </header>
      <div className="tab-list" role="tablist" aria-label="Details" onKeyDown={onTabKey}>
        {tabs.map((name) => (
          <button
            key={name}
            id={`${base}-tab-${name}`}
            type="button"
            role="tab"
            className={name === tab ? 'tab active' : 'tab'}
            aria-selected={name === tab}
            aria-controls={`${base}-panel`}
            tabIndex={name === tab ? 0 : -1}
            onClick={() => setTab(name)}
          >
            {name}
            {name === 'Layers' && entry?.status === 'ready' && (
              <span className="tab-count">{entry.value.layers.length}</span>
            )}
          </button>
        ))}
      </div>
      <div
        className="tab-panel"
        role="tabpanel"
        id={`${base}-panel`}
        aria-labelledby={`${base}-tab-${tab}`}
        data-testid={`details-${tab.toLowerCase()}`}
      >
        {!entry || entry.status === 'loading' ? (
          <div className="details-loading" aria-busy="true">
            <span className="skeleton skeleton-wide" />
            <span className="skeleton" />
            <span className="skeleton skeleton-narrow" />
          </div>
        ) : entry.status === 'error' ? (
          <div className="inline-alert" role="alert">
            <Icon name="alert" />
            <span>
              Could not inspect the image: {entry.error.message}{' '}
              <code className="error-code">{entry.error.code}</code>
            </span>
            <button
              type="button"
              className="button button-small"
              onClick={() => void store.getState().loadDetails(id, true)}
            >
              Retry
            </button>
          </div>
        ) : (
          <TabBody tab={tab} image={image} details={entry.value} />
        )}
      </div>
    </aside>
  );
}
