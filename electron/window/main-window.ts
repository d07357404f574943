import { BrowserWindow, screen } from 'electron';
import { appEntryUrl, type AppOrigin } from './app-origin';
import {
  loadWindowState,
  minimumWindowSize,
  placeWindow,
  saveWindowState,
  trackWindowState,
} from './window-state';

/** What the main window needs from the app. */
export interface MainWindowOptions {
  origin: AppOrigin;
  /** The built sandboxed preload, `out/preload/preload.cjs`. */
  preload: string;
  /** `window-state.json` in userData. */
  stateFile: string;
  devTools: boolean;
}

/** Opens the app window where it was last left, with every renderer-side protection on. */
export function createMainWindow(options: MainWindowOptions): BrowserWindow {
  const placement = placeWindow(
    loadWindowState(options.stateFile),
    screen.getAllDisplays().map((display) => display.workArea),
    screen.getPrimaryDisplay().workArea,
  );
  const win = new BrowserWindow({
    ...placement.bounds,
    minWidth: minimumWindowSize.width,
    minHeight: minimumWindowSize.height,
    title: 'Berth',
    show: false,
    webPreferences: {
      preload: options.preload, // eng-disable PRELOAD_JS_CHECK (it exposes only the contract bridge)
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      webviewTag: false,
      navigateOnDragDrop: false,
      spellcheck: false,
      disableBlinkFeatures: 'Auxclick',
      devTools: options.devTools,
    },
  });
  if (placement.maximized) win.maximize();
  if (placement.fullScreen) win.setFullScreen(true);
  trackWindowState(win, (state) => saveWindowState(options.stateFile, state));
  win.once('ready-to-show', () => win.show());
  win.loadURL(appEntryUrl(options.origin)).catch((err: unknown) => {
    console.error(
      `berth: the window could not load the app: ${err instanceof Error ? err.message : String(err)}`,
    );
  });
  return win;
}
