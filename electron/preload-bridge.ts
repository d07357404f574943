import type { IpcRenderer, IpcRendererEvent } from 'electron';
import { eventChannel, isEventName, isOperation, type BerthBridge } from '../shared/contract';

/** The part of `ipcRenderer` the bridge uses, so tests can hand in a fake. */
export type IpcRendererLike = Pick<IpcRenderer, 'invoke' | 'on' | 'removeListener'>;

/**
 * Builds `window.berth`: an allow-listed invoke and subscribe derived from the contract, nothing else.
 * Names not in the contract are refused before anything crosses to main.
 */
export function createBridge(ipc: IpcRendererLike): BerthBridge {
  return {
    invoke: (name, params) => {
      if (!isOperation(name)) {
        return Promise.resolve({
          ok: false,
          error: { code: 'BAD_REQUEST', message: `unknown operation ${JSON.stringify(name)}` },
        } as const);
      }
      return ipc.invoke(name, params) as ReturnType<BerthBridge['invoke']>;
    },
    subscribe: (name, listener) => {
      if (!isEventName(name)) throw new Error(`unknown event ${String(name)}`);
      const onEvent = (_event: IpcRendererEvent, eventName: unknown, payload: unknown) => {
        if (eventName === name) (listener as (p: unknown) => void)(payload);
      };
      ipc.on(eventChannel, onEvent);
      return () => ipc.removeListener(eventChannel, onEvent);
    },
  };
}
