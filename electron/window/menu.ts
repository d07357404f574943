import type { MenuItemConstructorOptions } from 'electron';
import { projectUrl, specUrls } from './external-links';

/** What the menu depends on, passed in so the template is plain data. */
export interface MenuOptions {
  appName: string;
  platform: NodeJS.Platform;
  /** Developer tools are offered only in development builds. */
  devTools: boolean;
  /** Hands an allow-listed https link to the system browser. */
  openLink: (url: string) => void;
}

const separator: MenuItemConstructorOptions = { type: 'separator' };

/**
 * The native menu bar. Items use Electron roles wherever one exists, so each platform gets its usual
 * labels and shortcuts (Cmd/Ctrl+C, Cmd/Ctrl+Q, F11 …) without hand-written accelerators.
 */
export function menuTemplate(options: MenuOptions): MenuItemConstructorOptions[] {
  const mac = options.platform === 'darwin';
  // `&` marks the Alt-key mnemonic on Windows and Linux; macOS has no mnemonics.
  const top = (label: string) => (mac ? label : `&${label}`);
  const appMenu: MenuItemConstructorOptions[] = mac
    ? [
        {
          label: options.appName,
          submenu: [
            { role: 'about' },
            separator,
            { role: 'services' },
            separator,
            { role: 'hide' },
            { role: 'hideOthers' },
            { role: 'unhide' },
            separator,
            { role: 'quit' },
          ],
        },
      ]
    : [];
  return [
    ...appMenu,
    { label: top('File'), submenu: [mac ? { role: 'close' } : { role: 'quit' }] },
    {
      label: top('Edit'),
      submenu: [
        { role: 'undo' },
        { role: 'redo' },
        separator,
        { role: 'cut' },
        { role: 'copy' },
        { role: 'paste' },
        ...(mac ? [{ role: 'pasteAndMatchStyle' } as const] : []),
        { role: 'delete' },
        separator,
        { role: 'selectAll' },
      ],
    },
    {
      label: top('View'),
      submenu: [
        { role: 'reload' },
        { role: 'forceReload' },
        ...(options.devTools ? [{ role: 'toggleDevTools' } as const] : []),
        separator,
        { role: 'resetZoom' },
        { role: 'zoomIn' },
        { role: 'zoomOut' },
        separator,
        { role: 'togglefullscreen' },
      ],
    },
    { role: 'windowMenu' },
    {
      role: 'help',
      submenu: [
        { label: `${options.appName} Documentation`, click: () => options.openLink(projectUrl) },
        separator,
        { label: 'OCI Image Specification', click: () => options.openLink(specUrls.imageSpec) },
        {
          label: 'OCI Distribution Specification',
          click: () => options.openLink(specUrls.distributionSpec),
        },
      ],
    },
  ];
}
