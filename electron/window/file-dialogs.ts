import { BrowserWindow, dialog, type FileFilter } from 'electron';
import type { ArchiveFileDialogs } from '../ipc/archive-handlers';

const archiveFilters: FileFilter[] = [
  { name: 'Image archives', extensions: ['tar', 'gz', 'tgz', 'zst'] },
  { name: 'All files', extensions: ['*'] },
];

/** Native save/open dialogs for archives, shown over the focused window; the renderer never names a path. */
export function electronFileDialogs(): ArchiveFileDialogs {
  const parent = () => BrowserWindow.getFocusedWindow() ?? BrowserWindow.getAllWindows()[0];
  return {
    async chooseSavePath(suggestedName, format) {
      const options = {
        title: format === 'oci-archive' ? 'Save images as an OCI archive' : 'Save images as a Docker archive',
        defaultPath: suggestedName,
        filters: archiveFilters,
        properties: ['createDirectory', 'showOverwriteConfirmation'] as (
          'createDirectory' | 'showOverwriteConfirmation'
        )[],
      };
      const window = parent();
      const result = window
        ? await dialog.showSaveDialog(window, options)
        : await dialog.showSaveDialog(options);
      return result.canceled || !result.filePath ? undefined : result.filePath;
    },
    async chooseLoadPath() {
      const options = {
        title: 'Load images from an archive',
        filters: archiveFilters,
        properties: ['openFile'] as 'openFile'[],
      };
      const window = parent();
      const result = window
        ? await dialog.showOpenDialog(window, options)
        : await dialog.showOpenDialog(options);
      return result.canceled ? undefined : result.filePaths[0];
    },
  };
}
