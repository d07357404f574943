import { join } from 'node:path';
import { app, BrowserWindow, ipcMain, Menu, protocol, session, shell } from 'electron';
import { createHandlers } from './ipc/handlers';
import { emitOverIpc, serveOverIpc } from './ipc/ipc-server';
import { SealedCredentialStore } from './core/reference/sealed-credentials';
import { settingsPath } from './core/settings';
import { version } from './version';
import { appOriginFrom, appScheme } from './window/app-origin';
import { respondFromBundle } from './window/app-protocol';
import { isAllowedExternalUrl } from './window/external-links';
import { createMainWindow } from './window/main-window';
import { electronChooseDirectory, electronChoosePath, electronFileDialogs } from './window/file-dialogs';
import { menuTemplate } from './window/menu';
import { safeStorageCipher } from './window/safe-storage';
import {
  contentSecurityPolicy,
  hardenSession,
  hardenWebContents,
  trustedSenderCheck,
} from './window/security';

// One name in development and when packaged, so userData (and the store in it) is the same folder.
app.setName('Berth');

const origin = appOriginFrom(process.env, join(import.meta.dirname, '../renderer'), app.isPackaged);
const devTools = origin.kind === 'dev-server';
const preload = join(import.meta.dirname, '../preload/preload.cjs');

/** Hands a link to the system browser, only when it is on the https allowlist. */
const openExternal = (url: string) => {
  if (!isAllowedExternalUrl(url)) return;
  const opening = shell.openExternal(url); // eng-disable OPEN_EXTERNAL_JS_CHECK (allow-listed https only)
  opening.catch((err: unknown) => {
    console.error(`berth: could not open ${url}: ${err instanceof Error ? err.message : String(err)}`);
  });
};

const openWindow = () =>
  createMainWindow({
    origin,
    preload,
    devTools,
    stateFile: join(app.getPath('userData'), 'window-state.json'),
  });

function start(): void {
  hardenSession(session.defaultSession, origin);
  if (origin.kind === 'bundle') {
    const csp = contentSecurityPolicy(origin);
    protocol.handle(appScheme, (request) => respondFromBundle(request, origin.rendererDir, csp));
  }
  Menu.setApplicationMenu(
    Menu.buildFromTemplate(
      menuTemplate({ appName: app.name, platform: process.platform, devTools, openLink: openExternal }),
    ),
  );

  // BERTH_STORE (as for the CLI) lets the app and a terminal share one store, and tests use a temporary one.
  const storePath = process.env.BERTH_STORE ?? join(app.getPath('userData'), 'store');
  const handlers = createHandlers({
    storePath,
    settingsFile: settingsPath(storePath),
    host: 'electron',
    version,
    emit: emitOverIpc(() => BrowserWindow.getAllWindows().map((win) => win.webContents)),
    savedLogins: new SealedCredentialStore(
      join(app.getPath('userData'), 'credentials.json'),
      safeStorageCipher(),
    ),
    fileDialogs: electronFileDialogs(),
    choosePath: electronChoosePath,
    chooseDirectory: electronChooseDirectory,
  });
  serveOverIpc(
    ipcMain,
    handlers,
    trustedSenderCheck(origin, (contents) => BrowserWindow.fromWebContents(contents) !== null),
  );
  openWindow();
}

// Sandbox every renderer, whatever its webPreferences say; must happen before `ready`.
app.enableSandbox();
protocol.registerSchemesAsPrivileged([
  { scheme: appScheme, privileges: { standard: true, secure: true, supportFetchAPI: true } },
]);

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  app.on('second-instance', () => {
    const [win] = BrowserWindow.getAllWindows();
    if (win === undefined) {
      openWindow();
      return;
    }
    if (win.isMinimized()) win.restore();
    win.focus();
  });
  app.on('web-contents-created', (_event, contents) => hardenWebContents(contents, origin, openExternal));
  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });
  app.on('activate', () => {
    if (app.isReady() && BrowserWindow.getAllWindows().length === 0) openWindow();
  });
  app
    .whenReady()
    .then(start)
    .catch((err: unknown) => {
      console.error(
        `berth: could not start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
      );
      app.exit(1);
    });
}
