import type { ReactElement } from 'react';

const paths = {
  images: (
    <>
      <path d="M8 1.8 14.2 5 8 8.2 1.8 5Z" />
      <path d="m1.8 8 6.2 3.2L14.2 8" />
      <path d="m1.8 11 6.2 3.2 6.2-3.2" />
    </>
  ),
  pulls: (
    <>
      <path d="M8 2v8.5" />
      <path d="M4.5 7 8 10.5 11.5 7" />
      <path d="M2.5 13.5h11" />
    </>
  ),
  activity: <path d="M1.5 8.5h3l2-5.5 3 10 2-4.5h3" />,
  settings: (
    <>
      <path d="M2 4h12M2 8h12M2 12h12" />
      <circle cx="5" cy="4" r="1.6" className="icon-knob" />
      <circle cx="11" cy="8" r="1.6" className="icon-knob" />
      <circle cx="7" cy="12" r="1.6" className="icon-knob" />
    </>
  ),
  search: (
    <>
      <circle cx="7" cy="7" r="4.5" />
      <path d="m10.5 10.5 3.5 3.5" />
    </>
  ),
  close: <path d="m4 4 8 8M12 4l-8 8" />,
  alert: (
    <>
      <path d="M8 1.8 14.8 13.8H1.2Z" />
      <path d="M8 6.2v3.6M8 11.6v.2" />
    </>
  ),
  plug: (
    <>
      <path d="M5.5 1.5v3M10.5 1.5v3" />
      <path d="M3.5 4.5h9v2.5a4.5 4.5 0 0 1-9 0Z" />
      <path d="M8 11.5v3" />
    </>
  ),
  sortUp: <path d="m4.5 9.5 3.5-3.5 3.5 3.5" />,
  sortDown: <path d="m4.5 6.5 3.5 3.5 3.5-3.5" />,
  retry: (
    <>
      <path d="M13.5 8A5.5 5.5 0 1 1 11.9 4.1" />
      <path d="M12.5 1.5v3h-3" />
    </>
  ),
  tag: (
    <>
      <path d="M1.8 8.6V2.5a.7.7 0 0 1 .7-.7h6.1l5.6 5.6a1 1 0 0 1 0 1.4l-4.8 4.8a1 1 0 0 1-1.4 0Z" />
      <circle cx="5" cy="5" r="1.1" />
    </>
  ),
  trash: (
    <>
      <path d="M2.5 4h11M6.5 4V2.5h3V4" />
      <path d="M3.8 4l.7 9.2a1 1 0 0 0 1 .8h5a1 1 0 0 0 1-.8l.7-9.2" />
      <path d="M6.6 7v4M9.4 7v4" />
    </>
  ),
  copy: (
    <>
      <rect x="5.5" y="5.5" width="8" height="8" rx="1.5" />
      <path d="M10.5 5.5V3.5a1 1 0 0 0-1-1h-6a1 1 0 0 0-1 1v6a1 1 0 0 0 1 1h2" />
    </>
  ),
  check: <path d="m3 8.5 3.2 3L13 4.5" />,
  chevronRight: <path d="m6 3.5 4.5 4.5L6 12.5" />,
  chevronDown: <path d="M3.5 6 8 10.5 12.5 6" />,
  plus: <path d="M8 3v10M3 8h10" />,
  move: (
    <>
      <path d="M2 8h11" />
      <path d="m9.5 4.5 3.5 3.5-3.5 3.5" />
    </>
  ),
  info: (
    <>
      <circle cx="8" cy="8" r="6.2" />
      <path d="M8 7.2v4M8 4.9v.2" />
    </>
  ),
  disk: (
    <>
      <ellipse cx="8" cy="4" rx="5.8" ry="2.2" />
      <path d="M2.2 4v8c0 1.2 2.6 2.2 5.8 2.2s5.8-1 5.8-2.2V4" />
      <path d="M2.2 8c0 1.2 2.6 2.2 5.8 2.2s5.8-1 5.8-2.2" />
    </>
  ),
  prune: (
    <>
      <path d="M10.8 1.8 7.4 8.6" />
      <path d="M4.4 8.2h6.2l1.6 6H2.8Z" />
      <path d="M6 14.2 6.8 11M9 14.2 8.9 11" />
    </>
  ),
  group: (
    <>
      <path d="M2 3h5M2 8h12M2 13h12" />
      <path d="M4.5 5.5 2 3l2.5 2.5" />
      <path d="M9 3h5" />
    </>
  ),
  undo: (
    <>
      <path d="M5 3 2 6l3 3" />
      <path d="M2 6h7.5a4 4 0 0 1 0 8H6" />
    </>
  ),
  grip: (
    <>
      <circle cx="6" cy="4" r=".6" />
      <circle cx="10" cy="4" r=".6" />
      <circle cx="6" cy="8" r=".6" />
      <circle cx="10" cy="8" r=".6" />
      <circle cx="6" cy="12" r=".6" />
      <circle cx="10" cy="12" r=".6" />
    </>
  ),
  more: (
    <>
      <circle cx="3.5" cy="8" r=".8" />
      <circle cx="8" cy="8" r=".8" />
      <circle cx="12.5" cy="8" r=".8" />
    </>
  ),
  layers: (
    <>
      <path d="M8 1.8 14.2 5 8 8.2 1.8 5Z" />
      <path d="m1.8 8 6.2 3.2L14.2 8" />
    </>
  ),
  upload: (
    <>
      <path d="M8 10.5V2" />
      <path d="M4.5 5.5 8 2l3.5 3.5" />
      <path d="M2.5 13.5h11" />
    </>
  ),
} satisfies Record<string, ReactElement>;

/** Names of the icons the app draws. */
export type IconName = keyof typeof paths;

/** A 16×16 stroked icon that takes the current text colour; decorative unless given a label. */
export function Icon({ name, label, className }: { name: IconName; label?: string; className?: string }) {
  return (
    <svg
      className={className ? `icon ${className}` : 'icon'}
      viewBox="0 0 16 16"
      width="16"
      height="16"
      fill="none"
      stroke="currentColor"
      strokeWidth="1.5"
      strokeLinecap="round"
      strokeLinejoin="round"
      role={label ? 'img' : undefined}
      aria-label={label}
      aria-hidden={label ? undefined : true}
    >
      {paths[name]}
    </svg>
  );
}
