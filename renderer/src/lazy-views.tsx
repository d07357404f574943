import { lazy, Suspense, type ComponentType, type ReactNode } from 'react';

const loaders: (() => Promise<unknown>)[] = [];

/**
 * Wraps a component kept in its own chunk: it loads the first time it renders (or on `preloadLazyViews`),
 * showing `fallback` meanwhile, so the first screen does not wait for code it does not show.
 */
function lazyNamed<P extends object>(
  load: () => Promise<ComponentType<P>>,
  fallback: ReactNode = null,
): ComponentType<P> {
  let pending: Promise<{ default: ComponentType<P> }> | undefined;
  const once = () => (pending ??= load().then((component) => ({ default: component })));
  loaders.push(once);
  const Inner = lazy(once) as unknown as ComponentType<P>;
  function Suspended(props: P) {
    return (
      <Suspense fallback={fallback}>
        <Inner {...props} />
      </Suspense>
    );
  }
  return Suspended;
}

function ViewLoading() {
  return (
    <div className="view-loading" aria-busy="true" data-testid="view-loading">
      <span className="visually-hidden">Loading…</span>
    </div>
  );
}

/** Starts loading every lazy chunk; called once the first screen is painted so later clicks find them ready. */
export function preloadLazyViews(): void {
  for (const load of loaders) load().catch(() => undefined);
}

/** The Activity view, from its own chunk. */
export const ActivityView = lazyNamed(
  () => import('./views/activity-view').then((m) => m.ActivityView),
  <ViewLoading />,
);
/** The Disk usage view, from its own chunk. */
export const DiskUsageView = lazyNamed(
  () => import('./views/disk-usage-view').then((m) => m.DiskUsageView),
  <ViewLoading />,
);
/** The Prune view, from its own chunk. */
export const PruneView = lazyNamed(
  () => import('./views/prune-view').then((m) => m.PruneView),
  <ViewLoading />,
);
/** The Registries view, from its own chunk. */
export const RegistriesView = lazyNamed(
  () => import('./views/registries-view').then((m) => m.RegistriesView),
  <ViewLoading />,
);
/** The Settings view, from its own chunk. */
export const SettingsView = lazyNamed(
  () => import('./views/settings-view').then((m) => m.SettingsView),
  <ViewLoading />,
);
/** The Pull dialog host, from its own chunk; the shell renders it only while the dialog is open. */
export const PullDialogHost = lazyNamed(() => import('./views/pull-dialog').then((m) => m.PullDialogHost));
/** The image details panel (tabs and layer explorer), from its own chunk; rendered only while an image is open. */
export const ImageDetailsPanel = lazyNamed(() =>
  import('./views/image-details').then((m) => m.ImageDetailsPanel),
);
/** The Push dialog, from its own chunk. */
export const PushDialog = lazyNamed(() => import('./views/push-dialog').then((m) => m.PushDialog));
/** The Save archive dialog, from its own chunk. */
export const SaveArchiveDialog = lazyNamed(() =>
  import('./views/archive-dialogs').then((m) => m.SaveArchiveDialog),
);
/** The Load archive dialog, from its own chunk. */
export const LoadArchiveDialog = lazyNamed(() =>
  import('./views/archive-dialogs').then((m) => m.LoadArchiveDialog),
);
