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
