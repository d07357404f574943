import type { IpcMain, IpcMainInvokeEvent, WebContents } from 'electron';
import { eventChannel, operationNames, type Emit, type Handlers } from '../../shared/contract';
import { BerthError } from '../../shared/error';
import { dispatch } from './dispatch';

/** The part of `ipcMain` the server uses, so tests can hand in a fake. */
export type IpcMainLike = Pick<IpcMain, 'handle' | 'removeHandler'>;

/**
 * Registers one `ipcMain.handle` per contract operation. `isTrustedSender` rejects calls from any frame
 * other than the app's own (the returned Outcome says so; nothing runs).
 */
export function serveOverIpc(
  ipc: IpcMainLike,
  handlers: Handlers,
  isTrustedSender: (event: IpcMainInvokeEvent) => boolean,
): () => void {
  for (const name of operationNames) {
    ipc.handle(name, (event, params: unknown) => {
      if (!isTrustedSender(event)) {
        return {
          ok: false,
          error: new BerthError('DENIED', `IPC call ${name} from an untrusted frame`).toWire(),
        };
      }
      return dispatch(handlers, name, params);
    });
  }
  return () => operationNames.forEach((name) => ipc.removeHandler(name));
}

/** An Emit that sends each event to the given windows' web contents on the single event channel. */
export function emitOverIpc(targets: () => Iterable<Pick<WebContents, 'send' | 'isDestroyed'>>): Emit {
  return (name, payload) => {
    for (const contents of targets()) {
      if (!contents.isDestroyed()) contents.send(eventChannel, name, payload);
    }
  };
}
