import { Fragment, useMemo, useState, type ReactNode } from 'react';
import type { HistoryEntry, ImageDetails, ImageSummary } from '../../../shared/contract';
import { formatBytes, formatPlatform, formatRelativeTime } from '../../../shared/format';
import { CopyButton } from '../components/copy-button';
import { Icon } from '../components/icon';
import { useNow } from '../hooks/use-now';
import { useAppStoreApi } from '../state/app-store-provider';
import { displayId, familiar } from '../state/tag-plan';
import { UpdateCheck } from './update-check';

/** A history command as a Dockerfile line: `#(nop)` metadata bare, shell commands as `RUN …`. */
export function dockerfileLine(createdBy: string): string {
  const nop = /^\/bin\/sh -c #\(nop\)\s+/.exec(createdBy);
  if (nop) return createdBy.slice(nop[0].length).trim();
  const shell = /^\/bin\/sh -c\s+/.exec(createdBy);
  return shell ? `RUN ${createdBy.slice(shell[0].length)}` : createdBy;
}

function Field({ label, children }: { label: string; children: ReactNode }) {
  return (
    <>
      <dt>{label}</dt>
      <dd>{children}</dd>
    </>
  );
}

function Digest({ value, label }: { value: string; label: string }) {
  return (
    <span className="digest">
      <code className="mono digest-text" title={value}>
        {value}
      </code>
      <CopyButton text={value} label={label} />
    </span>
  );
}

function Command({ argv }: { argv: string[] | undefined }) {
  if (!argv || argv.length === 0) return <span className="muted">—</span>;
  return <code className="mono command">{JSON.stringify(argv)}</code>;
}

/** The Summary tab: names, digests, platform, run settings, labels, sizes and source. */
export function SummaryTab({ image, details }: { image: ImageSummary; details: ImageDetails }) {
  const store = useAppStoreApi();
  const now = useNow();
  const labels = Object.entries(details.labels);
  return (
    <div className="summary">
      <section className="summary-section">
        <h3>Names</h3>
        <div className="chip-list" data-testid="details-names">
          {image.repoTags.length === 0 && <span className="badge badge-dangling">&lt;none&gt;</span>}
          {image.repoTags.map((name) => (
            <span key={name} className="chip" title={name}>
              <Icon name="tag" className="chip-icon" />
              {familiar(name)}
            </span>
          ))}
          <button
            type="button"
            className="button button-small"
            onClick={() => store.getState().openDialog({ kind: 'add-tag', image: image.id })}
          >
            <Icon name="plus" />
            Add tag
          </button>
        </div>
      </section>
      <section className="summary-section">
        <h3>Digests</h3>
        <dl className="fields">
          <Field label="Image ID">
            <Digest value={image.id} label="image ID" />
          </Field>
          <Field label="Manifest">
            <Digest value={image.digest} label="manifest digest" />
          </Field>
          {image.repoDigests.map((name) => (
            <Field key={name} label="Repo digest">
              <Digest value={name} label={`repo digest ${name}`} />
            </Field>
          ))}
        </dl>
      </section>
      <section className="summary-section">
        <h3>Image</h3>
        <dl className="fields">
          <Field label="Platform">
            <span className="platform">{formatPlatform(image.platform)}</span>
            {image.siblingPlatforms && image.siblingPlatforms.length > 0 && (
              <span className="siblings" title="Other platforms in the same index">
                {' '}
                also:{' '}
                {image.siblingPlatforms.map((p) => (
                  <span key={formatPlatform(p)} className="badge">
                    {formatPlatform(p)}
                  </span>
                ))}
              </span>
            )}
          </Field>
          <Field label="Created">
            <span title={image.created}>
              {formatRelativeTime(image.created, now)}
              {image.created && <span className="muted"> · {image.created}</span>}
            </span>
          </Field>
          <Field label="Size">
            {formatBytes(image.size)}
            {image.uncompressedSize > 0 && (
              <span className="muted"> · {formatBytes(image.uncompressedSize)} unpacked</span>
            )}
          </Field>
          <Field label="Media type">
            <code className="mono">{details.manifestMediaType}</code>
          </Field>
          <Field label="Source">
            {details.source ?? <span className="muted">not recorded</span>}
            <UpdateCheck image={image} />
          </Field>
        </dl>
      </section>
      <section className="summary-section">
        <h3>Run</h3>
        <dl className="fields">
          <Field label="User">{details.user || <span className="muted">root (default)</span>}</Field>
          <Field label="Working dir">{details.workingDir ?? <span className="muted">/</span>}</Field>
          <Field label="Entrypoint">
            <Command argv={details.entrypoint} />
          </Field>
          <Field label="Cmd">
            <Command argv={details.cmd} />
          </Field>
          {details.exposedPorts.length > 0 && (
            <Field label="Ports">
              {details.exposedPorts.map((port) => (
                <span key={port} className="badge">
                  {port}
                </span>
              ))}
            </Field>
          )}
          <Field label="Env">
            {details.env.length === 0 ? (
              <span className="muted">—</span>
            ) : (
              <ul className="env-list">
                {details.env.map((line) => {
                  const eq = line.indexOf('=');
                  return (
                    <li key={line} className="mono">
                      <span className="env-key">{eq < 0 ? line : line.slice(0, eq)}</span>
                      {eq >= 0 && <span className="env-value">={line.slice(eq + 1)}</span>}
                    </li>
                  );
                })}
              </ul>
            )}
          </Field>
        </dl>
      </section>
      <section className="summary-section">
        <h3>Labels</h3>
        {labels.length === 0 ? (
          <p className="muted">No labels</p>
        ) : (
          <dl className="fields labels" data-testid="details-labels">
            {labels.map(([key, value]) => (
              <Field key={key} label={key}>
                {value}
              </Field>
            ))}
          </dl>
        )}
      </section>
    </div>
  );
}

function HistoryRow({ entry, now }: { entry: HistoryEntry; now: number }) {
  const [open, setOpen] = useState(false);
  const command = dockerfileLine(entry.createdBy);
  return (
    <tr className={entry.emptyLayer ? 'history-row empty-layer' : 'history-row'} data-testid="history-row">
      <td className="mono history-id">
        {entry.id === '<missing>' ? <span className="muted">&lt;missing&gt;</span> : displayId(entry.id)}
      </td>
      <td className="history-created" title={entry.created}>
        {formatRelativeTime(entry.created, now)}
      </td>
      <td className="history-command">
        <button
          type="button"
          className={open ? 'command-toggle open' : 'command-toggle'}
          aria-expanded={open}
          title={entry.createdBy}
          onClick={() => setOpen(!open)}
        >
          <Icon name={open ? 'chevronDown' : 'chevronRight'} />
          <code className="mono">{open ? entry.createdBy : command}</code>
        </button>
        {entry.comment && <div className="muted history-comment">{entry.comment}</div>}
      </td>
      <td className="num history-size">
        {entry.emptyLayer ? <span className="muted">0 B</span> : formatBytes(entry.size)}
      </td>
    </tr>
  );
}

/** The History tab: `docker history` as a table, newest first; a command expands to its full text. */
export function HistoryTab({ details }: { details: ImageDetails }) {
  const now = useNow();
  if (details.history.length === 0) return <p className="muted tab-empty">The config records no history.</p>;
  return (
    <table className="details-table history-table">
      <thead>
        <tr>
          <th>Image</th>
          <th>Created</th>
          <th>Created by</th>
          <th className="num">Size</th>
        </tr>
      </thead>
      <tbody>
        {details.history.map((entry, i) => (
          <HistoryRow key={i} entry={entry} now={now} />
        ))}
      </tbody>
    </table>
  );
}

function highlight(text: string, term: string): { nodes: ReactNode[]; count: number } {
  if (term === '') return { nodes: [text], count: 0 };
  const lower = text.toLowerCase();
  const needle = term.toLowerCase();
  const nodes: ReactNode[] = [];
  let from = 0;
  let count = 0;
  for (let at = lower.indexOf(needle); at >= 0; at = lower.indexOf(needle, at + needle.length)) {
    nodes.push(text.slice(from, at));
    nodes.push(<mark key={at}>{text.slice(at, at + needle.length)}</mark>);
    from = at + needle.length;
    count++;
  }
  nodes.push(text.slice(from));
  return { nodes, count };
}

/** The Inspect tab: the whole inspect document as JSON, searchable (matching lines only, or all) and copyable. */
export function InspectTab({ details }: { details: ImageDetails }) {
  const json = useMemo(() => JSON.stringify(details, null, 2), [details]);
  const [term, setTerm] = useState('');
  const [onlyMatching, setOnlyMatching] = useState(false);
  const lines = useMemo(() => json.split('\n'), [json]);
  const shown =
    onlyMatching && term ? lines.filter((l) => l.toLowerCase().includes(term.toLowerCase())) : lines;
  const { nodes, count } = highlight(shown.join('\n'), term);
  return (
    <div className="inspect">
      <div className="inspect-bar">
        <label className="search-field inspect-search">
          <Icon name="search" />
          <input
            type="search"
            aria-label="Search the inspect document"
            placeholder="Search JSON…"
            value={term}
            spellCheck={false}
            onChange={(event) => setTerm(event.target.value)}
          />
        </label>
        {term && (
          <span className="muted" data-testid="inspect-matches">
            {count} {count === 1 ? 'match' : 'matches'}
          </span>
        )}
        <label className="check-field">
          <input
            type="checkbox"
            checked={onlyMatching}
            onChange={(event) => setOnlyMatching(event.target.checked)}
          />
          Matching lines
        </label>
        <span className="toolbar-spacer" />
        <CopyButton text={json} label="inspect JSON" />
      </div>
      <pre className="json mono" data-testid="inspect-json">
        {nodes.map((node, i) => (
          <Fragment key={i}>{node}</Fragment>
        ))}
      </pre>
    </div>
  );
}
