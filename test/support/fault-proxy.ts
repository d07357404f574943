import {
  createServer as createHttpServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';

/** What the proxy does to one matching request instead of (or while) forwarding it. */
export type Fault =
  /** Answer with this status (and headers/body) without asking the upstream. */
  | { kind: 'status'; status: number; headers?: Record<string, string>; body?: string | Buffer }
  /** Forward, then destroy the connection once `afterBytes` body bytes went out. */
  | { kind: 'reset'; afterBytes: number }
  /** Forward with the body byte at `offset` inverted. */
  | { kind: 'flip'; offset: number }
  /** Forward `afterBytes` body bytes, then send nothing more and keep the connection open. */
  | { kind: 'stall'; afterBytes: number }
  /** Forward with these response headers replaced. */
  | { kind: 'headers'; set: Record<string, string> }
  /** Forward, then send these extra bytes after the real body (Content-Length grows to match). */
  | { kind: 'append'; bytes: Buffer }
  /** Answer with `total` bytes made of `chunk` repeated, written as the client reads (never buffered). */
  | {
      kind: 'generate';
      status: number;
      headers?: Record<string, string>;
      chunk: Buffer;
      total: number;
      declareLength?: boolean;
    }
  /** Answer with a redirect. */
  | { kind: 'redirect'; status?: number; location: string }
  /** Forward the body no faster than `bytesPerSecond`, as a slow link would (for observable progress). */
  | { kind: 'throttle'; bytesPerSecond: number }
  /** Forward only the first `afterBytes` body bytes as a complete response (Content-Length shrunk to match). */
  | { kind: 'truncate'; afterBytes: number };

/** When a fault applies: method, path (exact pathname or a RegExp over path and query), how many times. */
export interface FaultRule {
  method?: string;
  path: string | RegExp;
  /** Matching requests it applies to before it retires (default 1). */
  times?: number;
  fault: Fault;
}

/** One request the proxy saw, and what it answered. */
export interface ProxyRequestRecord {
  method: string;
  /** Path and query. */
  url: string;
  /** The Host header the client sent. */
  host: string | undefined;
  range: string | undefined;
  /** True when the request carried an Authorization header (its value is never recorded). */
  authorization: boolean;
  fault: Fault['kind'] | undefined;
  status: number | undefined;
  /** Response body bytes written to the client. */
  bytesSent: number;
  /** The client went away before the response was complete. */
  clientClosed: boolean;
}

/** A fault-injecting reverse proxy on loopback in front of a real registry. */
export interface FaultProxy {
  /** `http(s)://127.0.0.1:PORT`. */
  url: string;
  /** `127.0.0.1:PORT`. */
  host: string;
  port: number;
  /** Adds a rule; rules are tried in the order added. */
  add(rule: FaultRule): void;
  /** Drops every rule and the request log. */
  clear(): void;
  requests(): ProxyRequestRecord[];
  /** TCP connections clients opened since the start or the last `clear` (TLS or not). */
  connections(): number;
  stop(): Promise<void>;
}

interface LiveRule extends FaultRule {
  left: number;
}

/**
 * Starts a proxy on 127.0.0.1 forwarding to `upstream` (an http URL), applying the first matching rule to
 * each request. With `tls` it serves HTTPS itself (the upstream stays plain http).
 */
export async function startFaultProxy(
  upstream: string,
  options: { tls?: { cert: string; key: string } } = {},
): Promise<FaultProxy> {
  const target = new URL(upstream);
  const rules: LiveRule[] = [];
  const records: ProxyRequestRecord[] = [];
  const sockets = new Set<Socket>();
  let connections = 0;

  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const url = req.url ?? '/';
    const pathname = url.split('?')[0] ?? url;
    const rule = rules.find(
      (r) =>
        r.left > 0 &&
        (r.method === undefined || r.method === req.method) &&
        (typeof r.path === 'string' ? r.path === pathname : r.path.test(url)),
    );
    if (rule) rule.left--;
    const fault = rule?.fault;
    const record: ProxyRequestRecord = {
      method: req.method ?? 'GET',
      url,
      host: req.headers.host,
      range: typeof req.headers.range === 'string' ? req.headers.range : undefined,
      authorization: req.headers.authorization !== undefined,
      fault: fault?.kind,
      status: undefined,
      bytesSent: 0,
      clientClosed: false,
    };
    records.push(record);
    res.on('close', () => {
      if (!res.writableFinished) record.clientClosed = true;
    });

    if (fault?.kind === 'status' || fault?.kind === 'redirect') {
      req.resume();
      const status = fault.kind === 'status' ? fault.status : (fault.status ?? 307);
      const headers = fault.kind === 'status' ? { ...fault.headers } : { location: fault.location };
      const body =
        fault.kind === 'status' && fault.body !== undefined ? Buffer.from(fault.body) : Buffer.alloc(0);
      record.status = status;
      res.writeHead(status, { ...headers, 'content-length': String(body.length) });
      record.bytesSent = body.length;
      res.end(req.method === 'HEAD' ? undefined : body);
      return;
    }
    if (fault?.kind === 'generate') {
      req.resume();
      record.status = fault.status;
      const headers: Record<string, string> = { ...fault.headers };
      if (fault.declareLength) headers['content-length'] = String(fault.total);
      res.writeHead(fault.status, headers);
      const pump = (): void => {
        while (record.bytesSent < fault.total && !res.destroyed) {
          const piece = fault.chunk.subarray(0, Math.min(fault.chunk.length, fault.total - record.bytesSent));
          record.bytesSent += piece.length;
          if (!res.write(piece)) {
            res.once('drain', pump);
            return;
          }
        }
        if (!res.destroyed) res.end();
      };
      pump();
      return;
    }

    const headers = { ...req.headers, host: target.host };
    const forward = httpRequest(
      { host: target.hostname, port: target.port, method: req.method, path: url, headers },
      (up) => {
        const outHeaders: Record<string, string | string[]> = {};
        for (const [name, value] of Object.entries(up.headers))
          if (value !== undefined) outHeaders[name] = value;
        if (typeof outHeaders.location === 'string') {
          outHeaders.location = outHeaders.location.replace(
            target.origin,
            `${options.tls ? 'https' : 'http'}://${req.headers.host}`,
          );
        }
        if (fault?.kind === 'headers') Object.assign(outHeaders, fault.set);
        if (fault?.kind === 'append' && typeof outHeaders['content-length'] === 'string') {
          outHeaders['content-length'] = String(Number(outHeaders['content-length']) + fault.bytes.length);
        }
        if (fault?.kind === 'truncate' && typeof outHeaders['content-length'] === 'string') {
          outHeaders['content-length'] = String(
            Math.min(Number(outHeaders['content-length']), fault.afterBytes),
          );
        }
        record.status = up.statusCode ?? 502;
        res.writeHead(record.status, outHeaders);
        let stalled = false;
        up.on('data', (chunk: Buffer) => {
          if (stalled || res.destroyed) return;
          let piece = chunk;
          const start = record.bytesSent;
          if (fault?.kind === 'flip' && fault.offset >= start && fault.offset < start + piece.length) {
            piece = Buffer.from(piece);
            piece[fault.offset - start] = (piece[fault.offset - start] as number) ^ 0xff;
          }
          if (
            (fault?.kind === 'reset' || fault?.kind === 'stall') &&
            start + piece.length >= fault.afterBytes
          ) {
            piece = piece.subarray(0, fault.afterBytes - start);
            record.bytesSent += piece.length;
            if (fault.kind === 'reset') {
              res.write(piece, () => res.socket?.destroy());
            } else {
              res.write(piece);
              stalled = true;
              up.destroy();
            }
            return;
          }
          if (fault?.kind === 'truncate' && start + piece.length >= fault.afterBytes) {
            piece = piece.subarray(0, fault.afterBytes - start);
            record.bytesSent += piece.length;
            stalled = true;
            res.end(piece);
            up.destroy();
            return;
          }
          record.bytesSent += piece.length;
          if (fault?.kind === 'throttle') {
            res.write(piece);
            up.pause();
            const resume = () => !res.destroyed && up.resume();
            setTimeout(resume, (piece.length / fault.bytesPerSecond) * 1000);
            return;
          }
          if (!res.write(piece)) {
            up.pause();
            res.once('drain', () => up.resume());
          }
        });
        up.on('end', () => {
          if (stalled || res.destroyed) return;
          if (fault?.kind === 'append') {
            record.bytesSent += fault.bytes.length;
            res.end(fault.bytes);
          } else {
            res.end();
          }
        });
        up.on('error', () => res.destroy());
      },
    );
    forward.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.pipe(forward);
  };

  const server: Server = options.tls ? createHttpsServer(options.tls, handler) : createHttpServer(handler);
  server.on('connection', (socket: Socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('secureConnection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = `127.0.0.1:${port}`;
  return {
    url: `${options.tls ? 'https' : 'http'}://${host}`,
    host,
    port,
    add: (rule) => rules.push({ ...rule, left: rule.times ?? 1 }),
    clear: () => {
      rules.length = 0;
      records.length = 0;
      connections = 0;
    },
    requests: () => records.slice(),
    connections: () => connections,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
