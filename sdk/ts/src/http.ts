/**
 * Transport on the platform's `fetch` (Node 20+, browsers, Deno, Bun): per-attempt timeout,
 * bounded retries with exponential backoff and jitter, error mapping.
 *
 * Retry policy (`maxRetries` extra attempts; `Retry-After` honoured on 429/503):
 *  - a request the server cannot have seen (connection refused) or refused to do (429) is
 *    retried whatever it is;
 *  - a retryable request (GET, context, profile, attributes, export, audit, and turn posts,
 *    which carry an `Idempotency-Key` reused by every attempt) is also retried after a broken
 *    connection, a timeout, or 502/503/504;
 *  - anything else (session create, forget, import, erase) is never replayed once it may
 *    have reached the server.
 */

import { ConnectionFailed, EngramError, RateLimited, Timeout, errorClassFor } from "./errors.js";

export const VERSION = "0.1.0";
const RETRY_STATUSES = new Set([502, 503, 504]);

export interface RequestSpec {
  method: "GET" | "POST";
  /** Absolute path below the base URL, already encoded. */
  path: string;
  body?: string;
  contentType?: string;
  headers?: Record<string, string>;
  retryable: boolean;
}

export interface TransportOptions {
  baseUrl: string;
  apiKey?: string | undefined;
  /** Per attempt, in milliseconds. */
  timeout: number;
  maxRetries: number;
  headers?: Record<string, string> | undefined;
  fetch?: typeof fetch | undefined;
  /** First backoff step in milliseconds (doubles each attempt, capped at 8 s). */
  backoff?: number | undefined;
}

export interface RawResponse {
  status: number;
  headers: Headers;
  text: string;
  requestId: string | undefined;
}

class AttemptFailed extends Error {
  constructor(
    readonly error: EngramError,
    readonly sent: boolean,
  ) {
    super(error.message);
  }
}

export function jsonRequest(
  method: "GET" | "POST",
  path: string,
  body?: unknown,
  retryable = false,
  headers?: Record<string, string>,
): RequestSpec {
  const spec: RequestSpec = { method, path, retryable };
  if (body !== undefined) {
    spec.body = JSON.stringify(body);
    spec.contentType = "application/json";
  }
  if (headers) spec.headers = headers;
  return spec;
}

export function newIdempotencyKey(): string {
  const c = (globalThis as { crypto?: { randomUUID?: () => string } }).crypto;
  if (c?.randomUUID) return "idem_" + c.randomUUID().replace(/-/g, "");
  let s = "idem_";
  for (let i = 0; i < 32; i++) s += Math.floor(Math.random() * 16).toString(16);
  return s;
}

function retryAfter(headers: Headers): number | undefined {
  const v = headers.get("retry-after");
  if (!v) return undefined;
  const n = Number(v);
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

export function errorFromResponse(r: RawResponse): EngramError {
  let code = `http_${r.status}`;
  let message = "";
  let body: unknown = r.text;
  try {
    body = r.text ? JSON.parse(r.text) : undefined;
  } catch {
    body = r.text.slice(0, 500);
  }
  const err = (body as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  if (err && typeof err === "object") {
    if (typeof err.code === "string" && err.code) code = err.code;
    if (typeof err.message === "string") message = err.message;
  } else if (typeof body === "string") {
    message = body.trim();
  }
  if (!message) message = `HTTP ${r.status}`;
  const Cls = errorClassFor(r.status);
  const opts = { code, status: r.status, requestId: r.requestId, body };
  if (Cls === RateLimited) {
    const ra = retryAfter(r.headers);
    return new RateLimited(message, ra === undefined ? opts : { ...opts, retryAfter: ra });
  }
  return new Cls(message, opts);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Node's fetch reports "fetch failed" with the socket error in `cause` (undici). */
function causeCode(e: unknown): string | undefined {
  let cur: unknown = e;
  for (let i = 0; i < 4 && cur && typeof cur === "object"; i++) {
    const code = (cur as { code?: unknown }).code;
    if (typeof code === "string") return code;
    cur = (cur as { cause?: unknown }).cause;
  }
  return undefined;
}

export class Transport {
  readonly baseUrl: string;
  private readonly apiKey: string | undefined;
  private readonly timeout: number;
  private readonly maxRetries: number;
  private readonly headers: Record<string, string>;
  private readonly fetchFn: typeof fetch;
  private readonly backoff: number;

  constructor(opts: TransportOptions) {
    let u: URL;
    try {
      u = new URL(opts.baseUrl);
    } catch {
      throw new TypeError(`baseUrl must be an absolute http(s) URL, got ${JSON.stringify(opts.baseUrl)}`);
    }
    if (u.protocol !== "http:" && u.protocol !== "https:") {
      throw new TypeError(`baseUrl must be http:// or https://, got ${opts.baseUrl}`);
    }
    this.baseUrl = opts.baseUrl.replace(/\/+$/, "");
    this.apiKey = opts.apiKey;
    this.timeout = opts.timeout;
    this.maxRetries = Math.max(0, Math.floor(opts.maxRetries));
    this.headers = { ...(opts.headers ?? {}) };
    const f = opts.fetch ?? (globalThis as { fetch?: typeof fetch }).fetch;
    if (!f) throw new TypeError("no fetch available: pass { fetch } to new Engram()");
    this.fetchFn = f;
    this.backoff = opts.backoff ?? 200;
  }

  private async once(spec: RequestSpec): Promise<RawResponse> {
    const headers: Record<string, string> = { Accept: "application/json", ...this.headers };
    if (this.apiKey) headers["Authorization"] = `Bearer ${this.apiKey}`;
    if (spec.contentType) headers["Content-Type"] = spec.contentType;
    Object.assign(headers, spec.headers ?? {});
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), this.timeout);
    const where = `${spec.method} ${spec.path}`;
    try {
      const init: RequestInit = { method: spec.method, headers, signal: ctl.signal };
      if (spec.body !== undefined) init.body = spec.body;
      const res = await this.fetchFn(this.baseUrl + spec.path, init);
      const text = await res.text();
      return {
        status: res.status,
        headers: res.headers,
        text,
        requestId: res.headers.get("x-request-id") ?? undefined,
      };
    } catch (e) {
      if (ctl.signal.aborted) {
        throw new AttemptFailed(
          new Timeout(`no answer from ${this.baseUrl} within ${this.timeout} ms (${where})`, {
            code: "timeout",
            cause: e,
          }),
          true,
        );
      }
      const code = causeCode(e);
      const refused = code === "ECONNREFUSED" || code === "ENOTFOUND" || code === "EAI_AGAIN";
      throw new AttemptFailed(
        new ConnectionFailed(
          `connection to ${this.baseUrl} failed (${where}): ${code ?? (e as Error)?.message ?? e}`,
          { code: code === "ECONNREFUSED" ? "connection_refused" : "connection_error", cause: e },
        ),
        !refused,
      );
    } finally {
      clearTimeout(timer);
    }
  }

  private delay(spec: RequestSpec, attempt: number, res?: RawResponse, fail?: AttemptFailed): number | undefined {
    if (attempt >= this.maxRetries) return undefined;
    let hint: number | undefined;
    if (fail) {
      if (fail.sent && !spec.retryable) return undefined;
    } else if (res) {
      if (res.status === 429 || (RETRY_STATUSES.has(res.status) && spec.retryable)) {
        hint = retryAfter(res.headers);
      } else {
        return undefined;
      }
    }
    const base = Math.min(8000, this.backoff * 2 ** attempt);
    let ms = base * (0.5 + Math.random() / 2);
    if (hint !== undefined) ms = Math.max(ms, Math.min(hint * 1000, 8000));
    return ms;
  }

  /** Send with retries; resolves with a 2xx/3xx answer or rejects with an EngramError. */
  async request(spec: RequestSpec): Promise<RawResponse> {
    for (let attempt = 0; ; attempt++) {
      let res: RawResponse | undefined;
      let fail: AttemptFailed | undefined;
      try {
        res = await this.once(spec);
        if (res.status < 400) return res;
      } catch (e) {
        if (!(e instanceof AttemptFailed)) throw e;
        fail = e;
      }
      const ms = this.delay(spec, attempt, res, fail);
      if (ms === undefined) throw fail ? fail.error : errorFromResponse(res!);
      await sleep(ms);
    }
  }

  async json<T>(spec: RequestSpec): Promise<T> {
    const r = await this.request(spec);
    if (!r.text) return undefined as T;
    try {
      return JSON.parse(r.text) as T;
    } catch (e) {
      throw new EngramError(`invalid JSON from server (${spec.method} ${spec.path})`, {
        code: "invalid_response",
        status: r.status,
        requestId: r.requestId,
        body: r.text.slice(0, 500),
        cause: e,
      });
    }
  }
}
