import { contextBridge, ipcRenderer } from 'electron';
import { createBridge } from './preload-bridge';

contextBridge.exposeInMainWorld('berth', createBridge(ipcRenderer));
