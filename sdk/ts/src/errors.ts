/**
 * Errors raised by the engram client. Every failure is an {@link EngramError} carrying what the
 * server said: `code` (the machine-readable `error.code`, e.g. "invalid_scope"), `message`, the
 * HTTP `status` and the `requestId` from `X-Request-Id`. Failures that never got an HTTP answer
 * (refused, reset, timeout) have `status` undefined.
 */

export interface EngramErrorOptions {
  code?: string;
  status?: number;
  requestId?: string;
  body?: unknown;
  cause?: unknown;
}

export class EngramError extends Error {
  readonly code: string;
  readonly status: number | undefined;
  readonly requestId: string | undefined;
  readonly body: unknown;

  constructor(message: string, opts: EngramErrorOptions = {}) {
    super(message, opts.cause !== undefined ? { cause: opts.cause } : undefined);
    this.name = new.target.name;
    this.code = opts.code ?? "error";
    this.status = opts.status;
    this.requestId = opts.requestId;
    this.body = opts.body;
  }
}

/** 400, 405, 413, 415, 422: the request itself is wrong; retrying will not help. */
export class InvalidRequest extends EngramError {}
/** 401: no API key, or one the server does not know. */
export class Unauthorized extends EngramError {}
/** 403: the key is valid but not for this context, scope floor or operation. */
export class Forbidden extends EngramError {}
/** 404: no such session, context or route. */
export class NotFound extends EngramError {}
/** 409: conflicts with the current state (e.g. an idempotency key reused with another body). */
export class Conflict extends EngramError {}
/** 429: overloaded or over the key's rate; `retryAfter` is the server's hint in seconds. */
export class RateLimited extends EngramError {
  readonly retryAfter: number | undefined;
  constructor(message: string, opts: EngramErrorOptions & { retryAfter?: number } = {}) {
    super(message, opts);
    this.retryAfter = opts.retryAfter;
  }
}
/** 5xx: the server failed; retryable calls were already retried. */
export class ServerError extends EngramError {}
/** The server could not be reached, or the connection broke before an answer. */
export class ConnectionFailed extends EngramError {}
/** No answer within the client's `timeout`. */
export class Timeout extends ConnectionFailed {}

type ErrorClass = new (message: string, opts?: EngramErrorOptions) => EngramError;

export function errorClassFor(status: number): ErrorClass {
  switch (status) {
    case 401:
      return Unauthorized;
    case 403:
      return Forbidden;
    case 404:
      return NotFound;
    case 409:
      return Conflict;
    case 429:
      return RateLimited;
    default:
      if (status >= 500) return ServerError;
      if (status >= 400) return InvalidRequest;
      return EngramError;
  }
}
