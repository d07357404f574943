import { useState } from 'react';
import type { ImageSummary, UpdateCheck as UpdateCheckResult } from '../../../shared/contract';
import { toWireError, type WireError } from '../../../shared/error';
import { familiarName } from '../../../shared/reference';
import { useAppStoreApi } from '../state/app-store-provider';

type CheckState =
  | { status: 'idle' }
  | { status: 'checking'; name: string }
  | { status: 'done'; result: UpdateCheckResult }
  | { status: 'error'; error: WireError };

/**
 * "Check for update" on the Summary tab: asks the registry what the image's name points at now and
 * compares it with the stored digest; when they differ, offers to pull the newer image.
 */
export function UpdateCheck({ image }: { image: ImageSummary }) {
  const store = useAppStoreApi();
  const [state, setState] = useState<CheckState>({ status: 'idle' });
  const name = image.repoTags[0];
  const [checkedFor, setCheckedFor] = useState(image.id);
  if (checkedFor !== image.id) {
    setCheckedFor(image.id);
    setState({ status: 'idle' });
  }
  if (name === undefined) {
    return <span className="muted"> · untagged, nothing to check</span>;
  }
  const check = async () => {
    setState({ status: 'checking', name });
    try {
      const result = await store.getState().checkForUpdate(image.id, name);
      setState({ status: 'done', result });
    } catch (err) {
      setState({ status: 'error', error: toWireError(err) });
    }
  };
  return (
    <span className="update-check" data-testid="update-check">
      <button
        type="button"
        className="button button-small check-update"
        disabled={state.status === 'checking'}
        onClick={() => void check()}
      >
        {state.status === 'checking' ? 'Checking…' : 'Check for update'}
      </button>
      {state.status === 'done' &&
        (state.result.upToDate ? (
          <span className="field-ok" role="status" data-testid="update-result">
            {familiarName(state.result.name)} is up to date
          </span>
        ) : (
          <span className="update-available" role="status" data-testid="update-result">
            Newer image available for {familiarName(state.result.name)}
            <button
              type="button"
              className="button button-small button-primary"
              onClick={() =>
                void store.getState().startPull({ reference: state.result.name, policy: 'always' })
              }
            >
              Pull
            </button>
          </span>
        ))}
      {state.status === 'error' && (
        <span className="field-error" role="alert" data-testid="update-result">
          Could not check: {state.error.message} <code className="error-code">{state.error.code}</code>
        </span>
      )}
    </span>
  );
}
