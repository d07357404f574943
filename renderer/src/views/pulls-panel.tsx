import { useEffect, useRef } from 'react';
import { Icon } from '../components/icon';
import { pullActive } from '../../../shared/contract';
import { useAppStore } from '../state/app-store-provider';
import { PullList } from './pulls-view';

/** How many pulls are resolving or downloading right now. */
function useActivePullCount(): number {
  return useAppStore((s) => s.pulls.order.filter((id) => pullActive(s.pulls.byId[id])).length);
}

/** The header button that opens the Pulls panel from any view, with a badge counting active pulls. */
export function PullsPanelButton() {
  const open = useAppStore((s) => s.pulls.panelOpen);
  const setOpen = useAppStore((s) => s.setPullsPanel);
  const active = useActivePullCount();
  return (
    <button
      type="button"
      className={
        open ? 'button button-small pulls-panel-button active' : 'button button-small pulls-panel-button'
      }
      aria-expanded={open}
      aria-controls="pulls-panel"
      data-testid="pulls-panel-button"
      onClick={() => setOpen(!open)}
    >
      <Icon name="pulls" />
      Pulls
      {active > 0 && (
        <span className="nav-count" data-testid="pulls-active-count" aria-label={`${active} active`}>
          {active}
        </span>
      )}
    </button>
  );
}

/** The header button that opens the Pull dialog from any view. */
export function PullDialogButton() {
  const open = useAppStore((s) => s.openPullDialog);
  return (
    <button
      type="button"
      className="button button-small button-primary"
      data-testid="header-pull-button"
      onClick={() => open()}
    >
      <Icon name="plus" />
      Pull…
    </button>
  );
}

/**
 * The Pulls panel: a drawer over the right edge listing every pull task. It lives in the app shell, so it
 * stays open (and the tasks keep updating) while the user moves between views. Escape closes it.
 */
export function PullsPanel() {
  const open = useAppStore((s) => s.pulls.panelOpen);
  const setOpen = useAppStore((s) => s.setPullsPanel);
  const ref = useRef<HTMLElement>(null);
  useEffect(() => {
    if (open) ref.current?.focus();
  }, [open]);
  if (!open) return null;
  return (
    <aside
      id="pulls-panel"
      ref={ref}
      className="pulls-panel"
      aria-label="Pulls"
      tabIndex={-1}
      data-testid="pulls-panel"
      onKeyDown={(event) => {
        if (event.key === 'Escape') {
          event.stopPropagation();
          setOpen(false);
        }
      }}
    >
      <header className="pulls-panel-head">
        <h2>Pulls</h2>
        <span className="toolbar-spacer" />
        <button
          type="button"
          className="icon-button"
          aria-label="Close the Pulls panel"
          onClick={() => setOpen(false)}
        >
          <Icon name="close" />
        </button>
      </header>
      <PullList />
    </aside>
  );
}
