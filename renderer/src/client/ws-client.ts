import {
  isEventName,
  type BerthClient,
  type EventName,
  type Operation,
  type Outcome,
  type Params,
  type Payload,
  type Result,
} from '../../../shared/contract';
import { BerthError, isErrorCode, type WireError } from '../../../shared/error';
import type { PreloadedAnswer } from '../../../shared/image-page';

/** Where the link to the main process stands: first dial, up, or down and redialling. */
export type ConnectionState = 'connecting' | 'open' | 'lost';

/** The connection state and a way to follow it; the preload bridge is always `open`. */
export interface Connection {
  getState(): ConnectionState;
  subscribeState(listener: (state: ConnectionState) => void): () => void;
}

/** A contract client that also reports its connection and can be shut down. */
export interface WsClient extends BerthClient, Connection {
  close(): void;
}

/** The part of the WebSocket API the client uses; both the browser's and the `ws` package's class fit. */
export interface SocketLike {
  send(data: string): void;
  close(): void;
  addEventListener(type: 'open' | 'close' | 'error', listener: () => void): void;
  addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
}

/** A WebSocket constructor, such as `window.WebSocket` or `ws`'s `WebSocket`. */
export type SocketConstructor = new (url: string) => SocketLike;

/** What the WebSocket client needs: a socket class, the `/ws` URL and, optionally, a redial schedule. */
export interface WsClientOptions {
  WebSocket: SocketConstructor;
  url: string;
  /** Milliseconds to wait before redial number `attempt` (1-based). */
  backoff?: (attempt: number) => number;
  /** Answers the page came with (see `firstImagePageParams`): each serves the first identical call, once. */
  preloaded?: readonly PreloadedAnswer[];
}

/** Doubling redial delays from 250 ms, capped at 5 s. */
export const defaultBackoff = (attempt: number): number => Math.min(5000, 250 * 2 ** (attempt - 1));

interface Pending {
  resolve(value: unknown): void;
  reject(error: BerthError): void;
}

const decoder = new TextDecoder();

function messageText(data: unknown): string | undefined {
  if (typeof data === 'string') return data;
  if (data instanceof ArrayBuffer) return decoder.decode(data);
  if (ArrayBuffer.isView(data))
    return decoder.decode(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  return undefined;
}

function wireError(value: unknown): WireError {
  const error = (value ?? {}) as Partial<WireError>;
  const message = typeof error.message === 'string' ? error.message : 'the server sent a malformed error';
  if (!isErrorCode(error.code)) return { code: 'INTERNAL', message };
  return error.detail === undefined
    ? { code: error.code, message }
    : { code: error.code, message, detail: error.detail };
}

/**
 * A contract client over the `berth serve` WebSocket (`{id, op, params}` out; `{id, outcome}` and
 * `{event, payload}` in). Calls made while the first dial is under way wait for it; calls made while the
 * connection is lost, and calls still unanswered when it drops, reject with a `NETWORK` BerthError.
 * The socket is redialled with backoff until `close()`; event subscriptions survive redials.
 */
export function createWsClient(options: WsClientOptions): WsClient {
  const backoff = options.backoff ?? defaultBackoff;
  const pending = new Map<number, Pending>();
  const queued: string[] = [];
  const listeners = new Map<EventName, Set<(payload: never) => void>>();
  const stateListeners = new Set<(state: ConnectionState) => void>();
  let state: ConnectionState = 'connecting';
  let socket: SocketLike | undefined;
  let isOpen = false;
  let nextId = 1;
  let attempt = 0;
  let closed = false;
  let redial: ReturnType<typeof setTimeout> | undefined;

  const setState = (next: ConnectionState) => {
    if (next === state) return;
    state = next;
    for (const listener of [...stateListeners]) listener(next);
  };

  const failAll = (message: string) => {
    const error = new BerthError('NETWORK', message);
    const waiting = [...pending.values()];
    pending.clear();
    queued.length = 0;
    for (const call of waiting) call.reject(error);
  };

  const settle = (call: Pending, outcome: Outcome<unknown>) => {
    if (outcome.ok) call.resolve(outcome.value);
    else call.reject(BerthError.fromWire(wireError(outcome.error)));
  };
  const preloaded = [...(options.preloaded ?? [])];
  const takePreloaded = (op: string, params: unknown): Outcome<unknown> | undefined => {
    const key = JSON.stringify(params);
    const at = preloaded.findIndex((answer) => answer.op === op && JSON.stringify(answer.params) === key);
    if (at < 0) return undefined;
    const [answer] = preloaded.splice(at, 1);
    const outcome = answer?.outcome as Outcome<unknown> | undefined;
    return outcome && typeof outcome === 'object' && typeof outcome.ok === 'boolean' ? outcome : undefined;
  };

  const dispatch = (text: string) => {
    let message: unknown;
    try {
      message = JSON.parse(text);
    } catch {
      return;
    }
    if (typeof message !== 'object' || message === null) return;
    const m = message as { id?: unknown; outcome?: Outcome<unknown>; event?: unknown; payload?: unknown };
    if (typeof m.id === 'number' && m.outcome) {
      const call = pending.get(m.id);
      if (!call) return;
      pending.delete(m.id);
      settle(call, m.outcome);
      return;
    }
    if (isEventName(m.event)) {
      for (const listener of [...(listeners.get(m.event) ?? [])]) {
        try {
          (listener as (payload: unknown) => void)(m.payload);
        } catch (err) {
          console.error(`berth: a ${m.event} listener threw`, err);
        }
      }
    }
  };

  const dial = () => {
    redial = undefined;
    const current = new options.WebSocket(options.url);
    socket = current;
    current.addEventListener('open', () => {
      if (socket !== current) return;
      isOpen = true;
      attempt = 0;
      for (const frame of queued.splice(0)) current.send(frame);
      setState('open');
    });
    current.addEventListener('message', (event) => {
      if (socket !== current) return;
      const text = messageText(event.data);
      if (text !== undefined) dispatch(text);
    });
    current.addEventListener('close', () => {
      if (socket !== current) return;
      socket = undefined;
      isOpen = false;
      failAll('the connection to Berth was lost');
      if (closed) return;
      setState('lost');
      attempt += 1;
      redial = setTimeout(dial, backoff(attempt));
    });
    // Errors are always followed by a close event; the close handler does the work.
    current.addEventListener('error', () => undefined);
  };

  dial();

  return {
    invoke<N extends Operation>(name: N, params: Params<N>): Promise<Result<N>> {
      if (closed) return Promise.reject(new BerthError('NETWORK', 'the client was closed'));
      const ahead = takePreloaded(name, params);
      if (ahead) return new Promise<Result<N>>((resolve, reject) => settle({ resolve, reject }, ahead));
      if (state === 'lost') {
        return Promise.reject(new BerthError('NETWORK', 'not connected to Berth; reconnecting'));
      }
      const id = nextId++;
      const frame = JSON.stringify({ id, op: name, params });
      return new Promise<Result<N>>((resolve, reject) => {
        pending.set(id, { resolve, reject });
        if (isOpen && socket) socket.send(frame);
        else queued.push(frame);
      });
    },
    subscribe<E extends EventName>(name: E, listener: (payload: Payload<E>) => void): () => void {
      let set = listeners.get(name);
      if (!set) listeners.set(name, (set = new Set()));
      set.add(listener);
      return () => set.delete(listener);
    },
    getState: () => state,
    subscribeState(listener) {
      stateListeners.add(listener);
      return () => stateListeners.delete(listener);
    },
    close() {
      if (closed) return;
      closed = true;
      if (redial !== undefined) clearTimeout(redial);
      const current = socket;
      socket = undefined;
      isOpen = false;
      failAll('the client was closed');
      current?.close();
    },
  };
}
