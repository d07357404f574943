import { formatPlatform } from '../../../shared/format';
import { useAppStoreApi } from '../state/app-store-provider';
import { platformQuery, type ExplorerState } from '../state/layers-slice';

/**
 * The Layers tab's platform choice for an image stored from a multi-platform index: a selector over the
 * platforms the store holds (switching the explorer to that platform's image), and each platform of the index
 * that is not stored named as such, with a button that pulls it. Nothing shows for a single-platform image.
 */
export function LayerPlatforms({ explorer }: { explorer: ExplorerState }) {
  const store = useAppStoreApi();
  const platforms = explorer.platforms;
  if (platforms?.status === 'error') {
    return (
      <p className="error-text explorer-platforms" role="alert">
        Could not read the image&apos;s platforms: {platforms.error.message}
      </p>
    );
  }
  if (platforms?.status !== 'ready' || platforms.value.platforms.length < 2) return null;
  const { pullReference } = platforms.value;
  const stored = platforms.value.platforms.flatMap((p) => {
    const query = platformQuery(explorer, p);
    return query === undefined ? [] : [{ query, name: formatPlatform(p.platform) }];
  });
  const missing = platforms.value.platforms.filter((p) => platformQuery(explorer, p) === undefined);
  return (
    <div className="explorer-toolbar explorer-platforms" data-testid="layer-platforms">
      <label className="select-field">
        Platform
        <select
          aria-label="Platform"
          value={explorer.image}
          onChange={(event) => void store.getState().explorePlatform(event.target.value)}
        >
          {stored.map((p) => (
            <option key={p.query} value={p.query}>
              {p.name}
            </option>
          ))}
        </select>
      </label>
      {missing.length > 0 && (
        <span className="muted" role="note">
          Not in the store:
        </span>
      )}
      {missing.map((p) => {
        const name = formatPlatform(p.platform);
        return (
          <span key={p.manifestDigest} className="missing-platform" data-testid="missing-platform">
            <code className="mono">{name}</code>
            {pullReference !== undefined && (
              <button
                type="button"
                className="button button-small"
                onClick={() => void store.getState().startPull({ reference: pullReference, platform: name })}
              >
                Pull {name}
              </button>
            )}
          </span>
        );
      })}
    </div>
  );
}
