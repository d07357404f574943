import { useEffect } from 'react';
import { useAppStore } from '../state/app-store-provider';
import type { Toast } from '../state/ui-slice';
import { Icon } from './icon';

/** How long an info or success toast stays; error toasts stay until dismissed. */
export const toastMs = 5000;

function ToastItem({ toast }: { toast: Toast }) {
  const dismiss = useAppStore((s) => s.dismissToast);
  useEffect(() => {
    if (toast.tone === 'error') return;
    const timer = setTimeout(() => dismiss(toast.id), toastMs);
    return () => clearTimeout(timer);
  }, [toast.id, toast.tone, dismiss]);
  return (
    <li className={`toast toast-${toast.tone}`} role={toast.tone === 'error' ? 'alert' : 'status'}>
      {toast.tone === 'error' && <Icon name="alert" className="toast-icon" />}
      <div className="toast-body">
        <strong>{toast.title}</strong>
        {toast.error && (
          <span className="toast-detail">
            {toast.error.message} <code className="error-code">{toast.error.code}</code>
          </span>
        )}
      </div>
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
