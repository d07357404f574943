import { useEffect, useState } from 'react';
import type { RegistriesOverview } from '../../../shared/contract';
import type { WireError } from '../../../shared/error';
import { Icon } from '../components/icon';
import { useAppStore, useAppStoreApi } from '../state/app-store-provider';

function LoginForm() {
  const store = useAppStoreApi();
  const [registry, setRegistry] = useState('');
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<WireError | undefined>(undefined);
  const ready = registry.trim() !== '' && username !== '' && password !== '';
  return (
    <form
      className="login-form"
      aria-label="Log in to a registry"
      data-testid="login-form"
      onSubmit={(event) => {
        event.preventDefault();
        if (!ready || busy) return;
        setBusy(true);
        setError(undefined);
        void store
          .getState()
          .login(registry.trim(), username, password)
          .then((failure) => {
            setBusy(false);
            setError(failure);
            setPassword('');
            if (!failure) {
              setRegistry('');
              setUsername('');
            }
          });
      }}
    >
      <label className="field">
        <span className="field-label">Registry</span>
        <input
          className="text-input mono"
          aria-label="Registry"
          placeholder="ghcr.io or localhost:5000"
          value={registry}
          spellCheck={false}
          autoComplete="off"
          onChange={(event) => setRegistry(event.target.value)}
        />
      </label>
      <label className="field">
        <span className="field-label">User name</span>
        <input
          className="text-input"
          aria-label="User name"
          value={username}
          autoComplete="username"
          onChange={(event) => setUsername(event.target.value)}
        />
      </label>
      <label className="field">
        <span className="field-label">Password or token</span>
        <input
          className="text-input"
          type="password"
          aria-label="Password"
          value={password}
          autoComplete="current-password"
          onChange={(event) => setPassword(event.target.value)}
        />
      </label>
      <button type="submit" className="button button-primary" disabled={!ready || busy}>
        {busy ? 'Verifying…' : 'Log in'}
      </button>
      {error && (
        <p className="field-error login-error" role="alert" data-testid="login-error">
          {error.message} <code className="error-code">{error.code}</code>
        </p>
      )}
      <p className="field-help login-help">
        The credentials are checked with the registry first and saved only when it accepts them.
      </p>
    </form>
  );
}

function Credentials({ overview }: { overview: RegistriesOverview }) {
  const logout = useAppStore((s) => s.logout);
  return (
    <section className="summary-section" aria-labelledby="credentials-title">
      <h3 id="credentials-title">Logins</h3>
      {overview.credentials.length === 0 ? (
        <p className="muted" data-testid="credentials-empty">
          No saved logins. New logins are saved to <code className="mono">{overview.authFile}</code>.
        </p>
      ) : (
        <ul className="credential-list" data-testid="credential-list">
          {overview.credentials.map((entry) => (
            <li
              key={entry.registry}
              className="credential-item"
              data-testid="credential"
              data-registry={entry.registry}
            >
              <Icon name="check" />
              <span className="mono credential-registry">{entry.registry}</span>
              {entry.username && <span className="muted">as {entry.username}</span>}
              <span className="muted credential-source" title={entry.source}>
                {entry.source}
              </span>
              <span className="toolbar-spacer" />
              <button
                type="button"
                className="button button-small"
                onClick={() => void logout(entry.registry)}
              >
                Log out
              </button>
            </li>
          ))}
        </ul>
      )}
      <LoginForm />
    </section>
  );
}

function Configuration({ overview }: { overview: RegistriesOverview }) {
  const aliases = Object.entries(overview.aliases);
  return (
    <div className="registries-conf">
      <section className="summary-section" aria-labelledby="search-title">
        <h3 id="search-title">Short names</h3>
        <dl className="fields">
          <dt>Search order</dt>
          <dd data-testid="search-registries">
            {overview.searchRegistries.length === 0 ? (
              <span className="muted">none: short names cannot be pulled</span>
            ) : (
              overview.searchRegistries.map((r, i) => (
                <span key={r} className="badge mono">
                  {i + 1}. {r}
                </span>
              ))
            )}
          </dd>
          <dt>Mode</dt>
          <dd>{overview.shortNameMode}</dd>
          <dt>Aliases</dt>
          <dd>
            {aliases.length === 0 ? (
              <span className="muted">none</span>
            ) : (
              <ul className="alias-list" data-testid="aliases">
                {aliases.map(([name, target]) => (
                  <li key={name} className="mono">
                    {name} → {target}
                  </li>
                ))}
              </ul>
            )}
          </dd>
        </dl>
      </section>
      <section className="summary-section" aria-labelledby="registries-title">
        <h3 id="registries-title">Registries</h3>
        {overview.registries.length === 0 && overview.insecureRegistries.length === 0 ? (
          <p className="muted">
            No registry is configured specially: every one is reached over verified TLS.
          </p>
        ) : (
          <table className="registries-table" data-testid="registries-table">
            <thead>
              <tr>
                <th>Prefix</th>
                <th>Location</th>
                <th>Flags</th>
                <th>Mirrors</th>
              </tr>
            </thead>
            <tbody>
              {overview.registries.map((r) => (
                <tr key={r.prefix} data-testid="registry-entry" data-prefix={r.prefix}>
                  <td className="mono">{r.prefix}</td>
                  <td className="mono">{r.location}</td>
                  <td>
                    {r.blocked && <span className="badge badge-failed">blocked</span>}
                    {r.insecure && <span className="badge badge-warning">insecure</span>}
                  </td>
                  <td>
                    {r.mirrors.length === 0 ? (
                      <span className="muted">—</span>
                    ) : (
                      r.mirrors.map((m) => (
                        <div key={m.location} className="mono">
                          {m.location}
                          {m.insecure && ' (insecure)'}
                          {m.pullFromMirror !== 'all' && ` (${m.pullFromMirror})`}
                        </div>
                      ))
                    )}
                  </td>
                </tr>
              ))}
              {overview.insecureRegistries.map((host) => (
                <tr key={`insecure:${host}`} data-testid="registry-entry" data-prefix={host}>
                  <td className="mono">{host}</td>
                  <td className="mono">{host}</td>
                  <td>
                    <span className="badge badge-warning">insecure</span>
                  </td>
                  <td>
                    <span className="muted">—</span>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <p className="field-help" data-testid="conf-sources">
          {overview.sources.length === 0
            ? 'No registries.conf found; the defaults apply.'
            : `Read from ${overview.sources.join(', ')} (read-only here: edit the files to change it).`}
        </p>
      </section>
    </div>
  );
}

/** Registries & credentials: registries.conf as it applies (read-only), and login/logout with verification. */
export function RegistriesView() {
  const { overview, status, error } = useAppStore((s) => s.registries);
  const load = useAppStore((s) => s.loadRegistries);
  useEffect(() => {
    void load();
  }, [load]);
  return (
    <section className="view registries-view" data-testid="registries-view" aria-labelledby="view-title">
      {status === 'error' || (error && !overview) ? (
        <div className="state-panel state-panel-error" role="alert" data-testid="registries-error">
          <Icon name="alert" className="state-icon" />
          <h2>Could not read the registry configuration</h2>
          <p className="state-detail">
            {error?.message} {error && <code className="error-code">{error.code}</code>}
          </p>
          <button type="button" className="button" onClick={() => void load()}>
            <Icon name="retry" />
            Retry
          </button>
        </div>
      ) : !overview ? (
        <div className="state-panel" aria-busy="true">
          <p className="state-detail">Reading registries.conf…</p>
        </div>
      ) : (
        <div className="registries-body">
          <Credentials overview={overview} />
          <Configuration overview={overview} />
        </div>
      )}
    </section>
  );
}
