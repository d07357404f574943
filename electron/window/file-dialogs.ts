import {
  BrowserWindow,
  dialog,
  type FileFilter,
  type OpenDialogOptions,
  type SaveDialogOptions,
} from 'electron';
import type { ArchiveFileDialogs } from '../ipc/archive-handlers';
import type { ChoosePath } from '../ipc/rootfs-handlers';

const archiveFilters: FileFilter[] = [
  { name: 'Image archives', extensions: ['tar', 'gz', 'tgz', 'zst'] },
  { name: 'All files', extensions: ['*'] },
];

const parent = () => BrowserWindow.getFocusedWindow() ?? BrowserWindow.getAllWindows()[0];

/** The native save dialog over the focused window; undefined when the user cancelled. */
async function showSave(options: SaveDialogOptions): Promise<string | undefined> {
  const window = parent();
  const result = window ? await dialog.showSaveDialog(window, options) : await dialog.showSaveDialog(options);
  return result.canceled || !result.filePath ? undefined : result.filePath;
}

/** The native open dialog over the focused window; undefined when the user cancelled. */
async function showOpen(options: OpenDialogOptions): Promise<string | undefined> {
  const window = parent();
  const result = window ? await dialog.showOpenDialog(window, options) : await dialog.showOpenDialog(options);
  return result.canceled ? undefined : result.filePaths[0];
}

/** Native save/open dialogs for archives, shown over the focused window; the renderer never names a path. */
export function electronFileDialogs(): ArchiveFileDialogs {
  return {
    chooseSavePath: (suggestedName, format) =>
      showSave({
        title: format === 'oci-archive' ? 'Save images as an OCI archive' : 'Save images as a Docker archive',
        defaultPath: suggestedName,
        filters: archiveFilters,
        properties: ['createDirectory', 'showOverwriteConfirmation'],
      }),
    chooseLoadPath: () =>
      showOpen({ title: 'Load images from an archive', filters: archiveFilters, properties: ['openFile'] }),
  };
}

/** The native dialog behind `files:choose` (import and export paths). */
export const electronChoosePath: ChoosePath = ({ purpose, title, defaultPath }) => {
  const common = {
    ...(title === undefined ? {} : { title }),
    ...(defaultPath === undefined ? {} : { defaultPath }),
  };
  return purpose === 'save' ? showSave(common) : showOpen({ ...common, properties: ['openFile'] });
};

/** The native folder picker a layer extraction writes into. */
export function electronChooseDirectory(title: string): Promise<string | undefined> {
  return showOpen({ title, properties: ['openDirectory', 'createDirectory'] });
}
