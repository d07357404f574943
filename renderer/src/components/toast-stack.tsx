import { useEffect } from 'react';
import { useAppStore } from '../state/app-store-provider';
import type { Toast } from '../state/ui-slice';
import { Icon } from './icon';

/** How long an info or success toast stays; error toasts stay until dismissed. */
export const toastMs = 5000;

/** How long a toast with an action (Undo) stays: long enough to change one's mind. */
export const actionToastMs = 8000;

function ToastItem({ toast }: { toast: Toast }) {
  const dismiss = useAppStore((s) => s.dismissToast);
  useEffect(() => {
    if (toast.tone === 'error' && !toast.action) return;
    const timer = setTimeout(() => dismiss(toast.id), toast.action ? actionToastMs : toastMs);
    return () => clearTimeout(timer);
  }, [toast.id, toast.tone, toast.action, dismiss]);
  return (
    <li
      className={`toast toast-${toast.tone}`}
      role={toast.tone === 'error' ? 'alert' : 'status'}
      data-testid="toast"
    >
      {toast.tone === 'error' && <Icon name="alert" className="toast-icon" />}
      {toast.tone === 'success' && <Icon name="check" className="toast-icon toast-icon-success" />}
      <div className="toast-body">
        <strong>{toast.title}</strong>
        {toast.error && (
          <span className="toast-detail">
            {toast.error.message} <code className="error-code">{toast.error.code}</code>
          </span>
        )}
      </div>
      {toast.action && (
        <button
          type="button"
          className="button button-small toast-action"
          onClick={() => {
            dismiss(toast.id);
            toast.action?.run();
          }}
        >
          <Icon name="undo" />
          {toast.action.label}
        </button>
      )}
      <button type="button" className="icon-button" aria-label="Dismiss" onClick={() => dismiss(toast.id)}>
        <Icon name="close" />
      </button>
    </li>
  );
}

/** Transient messages in the bottom-right corner. */
export function ToastStack() {
  const toasts = useAppStore((s) => s.ui.toasts);
  return (
    <ul className="toast-stack" aria-live="polite">
      {toasts.map((toast) => (
        <ToastItem key={toast.id} toast={toast} />
      ))}
    </ul>
  );
}
