import { useEffect, useLayoutEffect, useRef, useState, type ReactNode } from 'react';
import { Icon, type IconName } from './icon';

/** One entry of a context menu; `heading` entries only label the ones after them. */
export type MenuEntry =
  | {
      kind?: 'item';
      label: string;
      icon?: IconName;
      /** A key shown at the right, e.g. `Del`. */
      shortcut?: string;
      danger?: boolean;
      disabled?: boolean;
      onSelect: () => void;
    }
  | { kind: 'heading'; label: string }
  | { kind: 'separator' };

interface ContextMenuProps {
  x: number;
  y: number;
  label: string;
  entries: MenuEntry[];
  onClose: () => void;
}

/**
 * A context menu at a point, kept inside the window. It takes focus, moves with the arrow keys, Home/End
 * and first letters, runs an item on Enter or click, and closes on Escape, Tab, or a click elsewhere;
 * focus goes back where it was.
 */
export function ContextMenu({ x, y, label, entries, onClose }: ContextMenuProps) {
  const ref = useRef<HTMLUListElement>(null);
  const [position, setPosition] = useState({ x, y });
  const items = entries.flatMap((entry, index) =>
    entry.kind === undefined || entry.kind === 'item' ? (entry.disabled ? [] : [index]) : [],
  );
  const [active, setActive] = useState(items[0] ?? -1);

  useLayoutEffect(() => {
    const menu = ref.current;
    if (!menu) return;
    const rect = menu.getBoundingClientRect();
    setPosition({
      x: Math.max(4, Math.min(x, window.innerWidth - rect.width - 4)),
      y: Math.max(4, Math.min(y, window.innerHeight - rect.height - 4)),
    });
  }, [x, y]);

  useEffect(() => {
    const previous = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    ref.current?.focus();
    const onPointer = (event: MouseEvent) => {
      if (!ref.current?.contains(event.target as Node)) onClose();
    };
    window.addEventListener('mousedown', onPointer, true);
    window.addEventListener('blur', onClose);
    return () => {
      window.removeEventListener('mousedown', onPointer, true);
      window.removeEventListener('blur', onClose);
      if (previous?.isConnected) previous.focus();
    };
  }, [onClose]);

  const run = (index: number) => {
    const entry = entries[index];
    if (!entry || entry.kind === 'heading' || entry.kind === 'separator' || entry.disabled) return;
    onClose();
    entry.onSelect();
  };

  const step = (delta: number) => {
    if (items.length === 0) return;
    const at = items.indexOf(active);
    setActive(items[(at + delta + items.length) % items.length] ?? -1);
  };

  return (
    <ul
      ref={ref}
      className="context-menu"
      role="menu"
      aria-label={label}
      tabIndex={-1}
      style={{ left: position.x, top: position.y }}
      aria-activedescendant={active >= 0 ? `menu-item-${active}` : undefined}
      data-testid="context-menu"
      onContextMenu={(event) => event.preventDefault()}
      onKeyDown={(event) => {
        const key = event.key;
        if (key === 'ArrowDown') step(1);
        else if (key === 'ArrowUp') step(-1);
        else if (key === 'Home') setActive(items[0] ?? -1);
        else if (key === 'End') setActive(items.at(-1) ?? -1);
        else if (key === 'Enter' || key === ' ') run(active);
        else if (key === 'Escape' || key === 'Tab') onClose();
        else if (key.length === 1) {
          const match = items.find((i) => {
            const entry = entries[i];
            return (
              entry?.kind !== 'heading' &&
              entry?.kind !== 'separator' &&
              entry?.label.toLowerCase().startsWith(key.toLowerCase())
            );
          });
          if (match !== undefined) setActive(match);
          else return;
        } else return;
        event.preventDefault();
        event.stopPropagation();
      }}
    >
      {entries.map((entry, index): ReactNode => {
        if (entry.kind === 'separator') return <li key={index} role="separator" className="menu-separator" />;
        if (entry.kind === 'heading')
          return (
            <li key={index} role="presentation" className="menu-heading">
              {entry.label}
            </li>
          );
        return (
          <li
            key={index}
            id={`menu-item-${index}`}
            role="menuitem"
            aria-disabled={entry.disabled || undefined}
            className={[
              'menu-item',
              index === active ? 'active' : '',
              entry.danger ? 'menu-danger' : '',
            ].join(' ')}
            onMouseEnter={() => !entry.disabled && setActive(index)}
            onClick={() => run(index)}
          >
            {entry.icon ? <Icon name={entry.icon} /> : <span className="menu-icon-gap" />}
            <span className="menu-label">{entry.label}</span>
            {entry.shortcut && <kbd className="menu-shortcut">{entry.shortcut}</kbd>}
          </li>
        );
      })}
    </ul>
  );
}
