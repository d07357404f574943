/** Every error code that may cross the contract; closed so callers can switch over it exhaustively. */
export const errorCodes = [
  'BAD_REQUEST',
  'INVALID_REFERENCE',
  'INVALID_DIGEST',
  'IMAGE_UNKNOWN',
  'AMBIGUOUS_ID',
  'IMAGE_IN_USE',
  'CONFLICT',
  'MANIFEST_UNKNOWN',
  'MANIFEST_INVALID',
  'BLOB_UNKNOWN',
  'DIGEST_MISMATCH',
  'SIZE_MISMATCH',
  'PLATFORM_UNAVAILABLE',
  'UNAUTHORIZED',
  'DENIED',
  'TOO_MANY_REQUESTS',
  'REGISTRY_UNAVAILABLE',
  'REGISTRY_BLOCKED',
  'NETWORK',
  'TOO_LARGE',
  'CANCELLED',
  'STORE_LOCKED',
  'STORE_CORRUPT',
  'ARCHIVE_INVALID',
  'NO_SPACE',
  'NOT_FOUND',
  'UNSUPPORTED',
  'INTERNAL',
] as const;

/** A code from the closed set in `errorCodes`. */
export type ErrorCode = (typeof errorCodes)[number];

/** The plain, structured-cloneable shape an error takes on the wire. */
export interface WireError {
  code: ErrorCode;
  message: string;
  detail?: Record<string, unknown>;
}

/** An error with a contract code; the only kind handlers should throw on purpose. */
export class BerthError extends Error {
  override readonly name = 'BerthError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly detail?: Record<string, unknown>,
  ) {
    super(message);
  }

  /** Plain form for IPC and WebSocket. */
  toWire(): WireError {
    return this.detail === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, detail: this.detail };
  }

  /** Rebuilds an error received from the other side of a transport. */
  static fromWire(wire: WireError): BerthError {
    return new BerthError(wire.code, wire.message, wire.detail);
  }
}

/** True when `value` is an ErrorCode. */
export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && (errorCodes as readonly string[]).includes(value);
}

/**
 * Turns anything thrown into a WireError. Unknown errors keep their message but become INTERNAL;
 * the detail is reduced to JSON-safe values so it survives structured clone and JSON alike.
 */
export function toWireError(err: unknown): WireError {
  if (err instanceof BerthError) return { ...err.toWire(), detail: jsonSafe(err.detail) };
  if (err instanceof Error) return { code: 'INTERNAL', message: err.message || err.name };
  return { code: 'INTERNAL', message: String(err) };
}

function jsonSafe(detail: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  if (detail === undefined) return undefined;
  try {
    return JSON.parse(JSON.stringify(detail)) as Record<string, unknown>;
  } catch {
    return { note: 'detail was not serializable' };
  }
}
