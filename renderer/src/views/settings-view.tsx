import { useState } from 'react';
import type { Settings } from '../../../shared/contract';
import { formatPlatform } from '../../../shared/format';
import { useAppStore } from '../state/app-store-provider';

const themes: { value: Settings['theme']; label: string }[] = [
  { value: 'system', label: 'Follow OS' },
  { value: 'light', label: 'Light' },
  { value: 'dark', label: 'Dark' },
];

function ParallelDownloads({ value }: { value: number }) {
  const update = useAppStore((s) => s.updateSettings);
  const [draft, setDraft] = useState(String(value));
  const parsed = Number(draft);
  const valid = Number.isInteger(parsed) && parsed >= 1 && parsed <= 16;
  const commit = () => {
    if (valid && parsed !== value) void update({ parallelDownloads: parsed });
  };
  return (
    <div className="setting-row">
      <label htmlFor="parallel-downloads" className="setting-label">
        Parallel downloads
        <span className="setting-help">Layers fetched at the same time during a pull (1–16).</span>
      </label>
      <div>
        <input
          id="parallel-downloads"
          className="text-input number-input"
          type="number"
          min={1}
          max={16}
          value={draft}
          aria-invalid={!valid}
          onChange={(event) => setDraft(event.target.value)}
          onBlur={commit}
          onKeyDown={(event) => {
            if (event.key === 'Enter') commit();
          }}
        />
        {!valid && <p className="field-error">Enter a whole number from 1 to 16.</p>}
      </div>
    </div>
  );
}

/** The Settings view: theme, parallel downloads and where the store lives. */
export function SettingsView() {
  const settings = useAppStore((s) => s.settings.value);
  const app = useAppStore((s) => s.settings.app);
  const status = useAppStore((s) => s.settings.status);
  const error = useAppStore((s) => s.settings.error);
  const update = useAppStore((s) => s.updateSettings);

  return (
    <section className="view settings-view" data-testid="settings-view" aria-labelledby="view-title">
      {status === 'error' && error && (
        <div className="inline-alert" role="alert">
          Could not read settings: {error.message}
        </div>
      )}
      {settings && (
        <div className="settings-group">
          <h2 className="group-title">Appearance</h2>
          <div className="setting-row">
            <span className="setting-label" id="theme-label">
              Theme
            </span>
            <div className="segmented" role="radiogroup" aria-labelledby="theme-label">
              {themes.map((theme) => (
                <button
                  key={theme.value}
                  type="button"
                  role="radio"
                  aria-checked={settings.theme === theme.value}
                  className={settings.theme === theme.value ? 'segment active' : 'segment'}
                  onClick={() => void update({ theme: theme.value })}
                >
                  {theme.label}
                </button>
              ))}
            </div>
          </div>
          <h2 className="group-title">Pulls</h2>
          <ParallelDownloads key={settings.parallelDownloads} value={settings.parallelDownloads} />
        </div>
      )}
      {app && (
        <div className="settings-group">
          <h2 className="group-title">Store</h2>
          <div className="setting-row">
            <span className="setting-label">Location</span>
            <code className="mono setting-value" data-testid="store-path">
              {app.storePath}
            </code>
          </div>
          <div className="setting-row">
            <span className="setting-label">Host</span>
            <span className="setting-value">
              Berth {app.version} · {app.host === 'serve' ? 'browser (berth serve)' : 'desktop'} ·{' '}
              {formatPlatform(app.platform)}
            </span>
          </div>
        </div>
      )}
    </section>
  );
}
