import { useEffect, useId, useRef, type ReactNode } from 'react';
import { Icon } from './icon';

interface DialogProps {
  title: string;
  /** A line under the title. */
  description?: ReactNode;
  onClose: () => void;
  children: ReactNode;
  /** The buttons row. */
  footer: ReactNode;
  testId?: string;
  onSubmit?: () => void;
}

const focusable = 'input, button, select, textarea, [tabindex]:not([tabindex="-1"])';

/**
 * A modal dialog: a form over a dimmed backdrop, with focus moved into it, kept inside it with Tab, and
 * returned to where it was on close. Escape and the backdrop close it; Enter submits the form.
 */
export function Dialog({ title, description, onClose, children, footer, testId, onSubmit }: DialogProps) {
  const ref = useRef<HTMLFormElement>(null);
  const titleId = useId();
  useEffect(() => {
    const previous = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    const first =
      ref.current?.querySelector<HTMLElement>('[data-autofocus]') ??
      ref.current?.querySelector<HTMLElement>(focusable);
    first?.focus();
    return () => {
      if (previous?.isConnected) previous.focus();
    };
  }, []);
  return (
    <div
      className="dialog-backdrop"
      onMouseDown={(event) => event.target === event.currentTarget && onClose()}
    >
      <form
        ref={ref}
        className="dialog"
        role="dialog"
        aria-modal="true"
        aria-labelledby={titleId}
        data-testid={testId}
        onSubmit={(event) => {
          event.preventDefault();
          onSubmit?.();
        }}
        onKeyDown={(event) => {
          if (event.key === 'Escape') {
            event.preventDefault();
            event.stopPropagation();
            onClose();
          } else if (event.key === 'Tab') {
            const nodes = [...(ref.current?.querySelectorAll<HTMLElement>(focusable) ?? [])].filter(
              (node) => !(node as HTMLButtonElement).disabled,
            );
            const first = nodes[0];
            const last = nodes.at(-1);
            if (event.shiftKey && document.activeElement === first) {
              event.preventDefault();
              last?.focus();
            } else if (!event.shiftKey && document.activeElement === last) {
              event.preventDefault();
              first?.focus();
            }
          }
        }}
      >
        <header className="dialog-head">
          <h2 id={titleId}>{title}</h2>
          <button type="button" className="icon-button" aria-label="Close" onClick={onClose} tabIndex={-1}>
            <Icon name="close" />
          </button>
        </header>
        {description && <p className="dialog-description">{description}</p>}
        <div className="dialog-body">{children}</div>
        <footer className="dialog-foot">{footer}</footer>
      </form>
    </div>
  );
}

/** A dialog's buttons row: Cancel, then the submit button (primary, or danger for a removal). */
export function DialogActions({
  onCancel,
  children,
  disabled = false,
  tone = 'primary',
  autoFocus = false,
}: {
  onCancel: () => void;
  /** The submit button's content. */
  children: ReactNode;
  disabled?: boolean;
  tone?: 'primary' | 'danger';
  /** Focus the submit button when the dialog opens (for a confirmation without fields). */
  autoFocus?: boolean;
}) {
  return (
    <>
      <button type="button" className="button" onClick={onCancel}>
        Cancel
      </button>
      <button
        type="submit"
        className={`button button-${tone}`}
        data-autofocus={autoFocus ? true : undefined}
        disabled={disabled}
      >
        {children}
      </button>
    </>
  );
}
