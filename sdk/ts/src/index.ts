/**
 * engram: persistent memory for LLM applications, the TypeScript client.
 *
 * ```ts
 * import { Engram } from "engram";
 * const client = new Engram({ baseUrl: "http://127.0.0.1:8420" });
 * const memory = client.memory({ contextId: "assistant" });
 * const session = await memory.sessions.create({ scope: { user: "alice" } });
 * await session.turn({ role: "user", content: "I live in Berlin" });
 * const profile = await memory.profile({ scope: { user: "alice" } });
 * ```
 */

import { Transport, VERSION, jsonRequest, newIdempotencyKey, type RequestSpec } from "./http.js";
import type {
  AgentFn,
  AgentReply,
  Attribute,
  AuditEntry,
  Context,
  DiffEntry,
  ForgetResult,
  JsonObject,
  Message,
  Profile,
  Role,
  Scope,
  SessionData,
  Turn,
  TurnResult,
} from "./types.js";
import { CATEGORIES } from "./types.js";

export * from "./errors.js";
export * from "./types.js";
export { VERSION };

export interface EngramOptions {
  /** Default `$ENGRAM_URL`, else `http://127.0.0.1:8420`. */
  baseUrl?: string;
  /** Default `$ENGRAM_API_KEY` (none when unset). */
  apiKey?: string;
  /** Per attempt, in milliseconds (default 10000). */
  timeout?: number;
  /** Extra attempts for retryable calls (default 2). */
  maxRetries?: number;
  /** Extra headers on every request. */
  headers?: Record<string, string>;
  /** A fetch implementation (default: the global one). */
  fetch?: typeof fetch;
}

/** $NAME on Node/Deno/Bun; undefined in browsers (no `process`). */
function env(name: string): string | undefined {
  const p = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process;
  const v = p?.env?.[name];
  return v ? v : undefined;
}

const ROLES: readonly string[] = ["user", "assistant", "system", "tool"];

/** Path form of a scope: dimensions sorted by name, `org/acme/user/alice`. */
export function scopePath(scope: Scope): string {
  if (typeof scope === "string") return scope.replace(/^\/+|\/+$/g, "");
  return Object.keys(scope)
    .sort()
    .map((k) => `${k}/${scope[k]}`)
    .join("/");
}

export function scopeObject(scope: Scope | undefined | null): Record<string, string> {
  if (!scope) return {};
  if (typeof scope !== "string") return { ...scope };
  const parts = scope.replace(/^\/+|\/+$/g, "").split("/");
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < parts.length; i += 2) out[parts[i]!] = parts[i + 1]!;
  return out;
}

function checkScope(scope: Scope): Scope {
  if (typeof scope === "string") return scope;
  if (scope && typeof scope === "object" && !Array.isArray(scope)) return { ...scope };
  throw new TypeError('scope must be an object like { user: "alice" } or a path "user/alice"');
}

function iso(t: Date | string | undefined): string | undefined {
  if (t === undefined || t === null) return undefined;
  return t instanceof Date ? t.toISOString() : t;
}

function put(body: JsonObject, fields: JsonObject): JsonObject {
  for (const [k, v] of Object.entries(fields)) if (v !== undefined && v !== null) body[k] = v;
  return body;
}

const seg = encodeURIComponent;

function toTurnResult(d: Partial<TurnResult> | undefined): TurnResult {
  return { turn: (d?.turn ?? {}) as Turn, diff: d?.diff ?? [], queued: Boolean(d?.queued) };
}

function toTurnResults(d: { turns?: Partial<TurnResult>[] } | undefined): TurnResult[] {
  return (d?.turns ?? []).map(toTurnResult);
}

const TURN_FIELDS: readonly string[] = ["role", "content", "createdAt", "metadata"];

/** One element of a batch, checked as `Calls.turn` checks its options, naming it (`turns[1].role`). */
function batchTurn(i: number, t: TurnInput): JsonObject {
  if (!t || typeof t !== "object" || Array.isArray(t)) {
    throw new TypeError(`turns[${i}] must be an object with role and content`);
  }
  const extra = Object.keys(t).find((k) => !TURN_FIELDS.includes(k));
  if (extra !== undefined) {
    throw new TypeError(`turns[${i}] has unknown field ${JSON.stringify(extra)} (a turn has ${TURN_FIELDS.join(", ")})`);
  }
  if (!ROLES.includes(t.role)) throw new TypeError(`turns[${i}].role must be one of ${ROLES.join(", ")}; got ${t.role}`);
  if (typeof t.content !== "string") throw new TypeError(`turns[${i}].content must be a string`);
  if (t.metadata !== undefined && t.metadata !== null && (typeof t.metadata !== "object" || Array.isArray(t.metadata))) {
    throw new TypeError(`turns[${i}].metadata must be an object`);
  }
  return put({ role: t.role, content: t.content }, { created_at: iso(t.createdAt), metadata: t.metadata });
}

/** The `turns` of a batch as sent (1 to 1,000; the server enforces the upper bound). */
function batchTurns(turns: readonly TurnInput[]): JsonObject[] {
  if (!Array.isArray(turns)) throw new TypeError("turns must be an array of { role, content, ... }");
  if (turns.length === 0) throw new TypeError("turns must hold at least one turn (1 to 1,000)");
  return turns.map((t, i) => batchTurn(i, t));
}

function toContext(d: Partial<Context> | undefined): Context {
  return { items: d?.items ?? [], formatted: d?.formatted ?? "" };
}

function toProfile(d: Partial<Profile> | undefined): Profile {
  const attributes = {} as Profile["attributes"];
  for (const c of CATEGORIES) attributes[c] = [];
  const src = d?.attributes as unknown;
  if (Array.isArray(src)) {
    for (const a of src as Attribute[]) (attributes[a.category] ??= []).push(a);
  } else if (src && typeof src === "object") {
    for (const [k, v] of Object.entries(src as Record<string, Attribute[]>)) attributes[k] = v ?? [];
  }
  return { summary: d?.summary ?? "", attributes };
}

function replyText(reply: unknown): string {
  if (typeof reply === "string") return reply;
  if (reply && typeof reply === "object") {
    const r = reply as { content?: unknown; choices?: { message?: { content?: unknown } }[] };
    if (typeof r.content === "string") return r.content;
    const c = r.choices?.[0]?.message?.content;
    if (typeof c === "string") return c;
  }
  if (reply === undefined || reply === null) {
    throw new TypeError("agentFn returned nothing; it must return the assistant's reply text");
  }
  return String(reply);
}

/** Request builders for one context: `/api/v1/{contextId}/...`. */
class Calls {
  readonly base: string;
  constructor(readonly contextId: string) {
    if (!contextId) throw new TypeError("contextId is required");
    this.base = `/api/v1/${seg(contextId)}`;
  }

  createSession(scope: Scope, metadata?: JsonObject): RequestSpec {
    return jsonRequest("POST", `${this.base}/sessions`, put({ scope: checkScope(scope) }, { metadata }));
  }

  getSession(id: string): RequestSpec {
    return jsonRequest("GET", `${this.base}/sessions/${seg(id)}`, undefined, true);
  }

  turn(sessionId: string | undefined, o: TurnOptions & { scope?: Scope }): RequestSpec {
    if (!ROLES.includes(o.role)) throw new TypeError(`role must be one of ${ROLES.join(", ")}; got ${o.role}`);
    if (typeof o.content !== "string") throw new TypeError("content must be a string");
    const body: JsonObject = {};
    if (sessionId === undefined) {
      if (o.scope === undefined) throw new TypeError("a turn without a session needs a scope");
      body["scope"] = checkScope(o.scope);
    }
    body["role"] = o.role;
    body["content"] = o.content;
    put(body, { created_at: iso(o.createdAt), metadata: o.metadata });
    if (o.async) body["async"] = true;
    // One key per logical turn, reused by every retry: the server stores the turn once.
    const headers = { "Idempotency-Key": o.idempotencyKey ?? newIdempotencyKey() };
    const path = sessionId === undefined ? `${this.base}/turns` : `${this.base}/sessions/${seg(sessionId)}/turns`;
    return jsonRequest("POST", path, body, true, headers);
  }

  /** A batch: `{turns: [...], async?, scope?}`, recorded in order, all or none. */
  turns(sessionId: string | undefined, turns: JsonObject[], o: TurnsOptions & { scope?: Scope }): RequestSpec {
    const body: JsonObject = {};
    if (sessionId === undefined) {
      if (o.scope === undefined) throw new TypeError("turns without a session need a scope");
      body["scope"] = checkScope(o.scope);
    }
    body["turns"] = turns;
    if (o.async) body["async"] = true;
    // One key per batch, reused by every retry: the server records the batch once.
    const headers = { "Idempotency-Key": o.idempotencyKey ?? newIdempotencyKey() };
    const path = sessionId === undefined ? `${this.base}/turns` : `${this.base}/sessions/${seg(sessionId)}/turns`;
    return jsonRequest("POST", path, body, true, headers);
  }

  sessionContext(id: string, o: SessionContextOptions): RequestSpec {
    const body = put({ query: o.query }, { top_k: o.topK, max_tokens: o.maxTokens });
    return jsonRequest("POST", `${this.base}/sessions/${seg(id)}/context`, body, true);
  }

  context(o: ContextOptions): RequestSpec {
    const body = put(
      { scope: checkScope(o.scope), query: o.query },
      { top_k: o.topK, max_tokens: o.maxTokens, as_of: iso(o.asOf) },
    );
    return jsonRequest("POST", `${this.base}/context`, body, true);
  }

  profile(o: ProfileOptions): RequestSpec {
    return jsonRequest("POST", `${this.base}/profile`, put({ scope: checkScope(o.scope) }, { as_of: iso(o.asOf) }), true);
  }

  forget(o: ForgetOptions): RequestSpec {
    const body = put(
      { scope: checkScope(o.scope) },
      { entity_type: o.entityType, entity_name: o.entityName, attribute_key: o.attributeKey, category: o.category },
    );
    body["dry_run"] = Boolean(o.dryRun);
    // A dry run changes nothing, so it may be replayed.
    return jsonRequest("POST", `${this.base}/forget`, body, Boolean(o.dryRun));
  }

  attributes(o: AttributesOptions): RequestSpec {
    const body = put({ scope: checkScope(o.scope) }, { key: o.key, category: o.category });
    body["include_expired"] = Boolean(o.includeExpired);
    return jsonRequest("POST", `${this.base}/attributes`, body, true);
  }

  audit(scope: Scope): RequestSpec {
    return jsonRequest("GET", `${this.base}/audit?scope=${seg(scopePath(scope))}`, undefined, true);
  }

  export(scope: Scope): RequestSpec {
    const spec = jsonRequest("POST", `${this.base}/export`, { scope: checkScope(scope) }, true);
    spec.headers = { Accept: "application/x-ndjson, application/json" };
    return spec;
  }

  import(data: string | readonly unknown[]): RequestSpec {
    const text =
      typeof data === "string"
        ? data
        : data.map((r) => (typeof r === "string" ? r : JSON.stringify(r))).join("\n") + "\n";
    return { method: "POST", path: `${this.base}/import`, body: text, contentType: "application/x-ndjson", retryable: false };
  }

  erase(scope: Scope): RequestSpec {
    return jsonRequest("POST", `${this.base}/erase`, { scope: checkScope(scope) });
  }
}

export interface TurnOptions {
  role: Role;
  content: string;
  /** To import history: when the turn happened (relative dates resolve against it). */
  createdAt?: Date | string;
  metadata?: JsonObject;
  /** Queue extraction instead of running it inline (the diff comes back empty). */
  async?: boolean;
  /** Reused across retries; generated when absent. */
  idempotencyKey?: string;
}
export interface ScopedTurnOptions extends TurnOptions {
  scope: Scope;
}
/** One turn of a batch (`session.turns`, `memory.turns`). */
export interface TurnInput {
  role: Role;
  content: string;
  /** When the turn happened, to backfill a history (relative dates resolve against it). */
  createdAt?: Date | string;
  metadata?: JsonObject;
}
export interface TurnsOptions {
  /** Queue extraction for the whole batch instead of running it inline (the diffs come back empty). */
  async?: boolean;
  /** One key for the whole batch, reused across retries; generated when absent. */
  idempotencyKey?: string;
}
export interface ScopedTurnsOptions extends TurnsOptions {
  scope: Scope;
  turns: TurnInput[];
}
export interface SessionContextOptions {
  query: string;
  topK?: number;
  maxTokens?: number;
}
export interface ContextOptions extends SessionContextOptions {
  scope: Scope;
  asOf?: Date | string;
}
export interface ProfileOptions {
  scope: Scope;
  asOf?: Date | string;
}
export interface ForgetOptions {
  scope: Scope;
  entityType?: string;
  entityName?: string;
  attributeKey?: string;
  category?: string;
  dryRun?: boolean;
}
export interface AttributesOptions {
  scope: Scope;
  includeExpired?: boolean;
  key?: string;
  category?: string;
}
export interface ScopeOptions {
  scope: Scope;
}
export interface CreateSessionOptions {
  scope: Scope;
  metadata?: JsonObject;
  agentFn?: AgentFn;
}
export interface OpenSessionOptions {
  agentFn?: AgentFn;
}
export interface ChatOptions {
  content: string;
  metadata?: JsonObject;
  agentFn?: AgentFn;
}
export interface ChatResult {
  /** The agent's reply, as recorded. */
  response: string;
  /** The diff of both recorded turns. */
  diff: DiffEntry[];
  /** The session; `session.messages` now includes the exchange. */
  session: Session;
  turns: Turn[];
}

export class Engram {
  private readonly transport: Transport;

  constructor(opts: EngramOptions = {}) {
    this.transport = new Transport({
      baseUrl: opts.baseUrl ?? env("ENGRAM_URL") ?? "http://127.0.0.1:8420",
      apiKey: opts.apiKey ?? env("ENGRAM_API_KEY"),
      timeout: opts.timeout ?? 10_000,
      maxRetries: opts.maxRetries ?? 2,
      headers: opts.headers,
      fetch: opts.fetch,
    });
  }

  get baseUrl(): string {
    return this.transport.baseUrl;
  }

  memory(opts: { contextId: string } | string = { contextId: "default" }): Memory {
    const contextId = typeof opts === "string" ? opts : opts.contextId;
    return new Memory(this.transport, contextId);
  }

  async healthz(): Promise<JsonObject> {
    const r = await this.transport.request(jsonRequest("GET", "/healthz", undefined, true));
    try {
      return (r.text ? JSON.parse(r.text) : {}) as JsonObject;
    } catch {
      return { status: r.text };
    }
  }
}

/** One context (a named memory space): `client.memory({ contextId: "assistant" })`. */
export class Memory {
  readonly contextId: string;
  readonly sessions: Sessions;
  /** @internal */ readonly calls: Calls;

  /** @internal */
  constructor(
    /** @internal */ readonly transport: Transport,
    contextId: string,
  ) {
    this.contextId = contextId;
    this.calls = new Calls(contextId);
    this.sessions = new Sessions(this);
  }

  /** Record a turn without a session (`POST /turns`). */
  async turn(opts: ScopedTurnOptions): Promise<TurnResult> {
    return toTurnResult(await this.transport.json(this.calls.turn(undefined, opts)));
  }

  /** Record several turns without a session (`POST /turns` with a batch body); see
   * {@link Session.turns}. */
  async turns(opts: ScopedTurnsOptions): Promise<TurnResult[]> {
    const items = batchTurns(opts.turns);
    return toTurnResults(await this.transport.json(this.calls.turns(undefined, items, opts)));
  }

  async context(opts: ContextOptions): Promise<Context> {
    return toContext(await this.transport.json(this.calls.context(opts)));
  }

  async profile(opts: ProfileOptions): Promise<Profile> {
    return toProfile(await this.transport.json(this.calls.profile(opts)));
  }

  async forget(opts: ForgetOptions): Promise<ForgetResult> {
    const d = await this.transport.json<Partial<ForgetResult>>(this.calls.forget(opts));
    return { expired: d?.expired ?? 0, dry_run: Boolean(d?.dry_run), attributes: d?.attributes ?? [] };
  }

  async attributes(opts: AttributesOptions): Promise<Attribute[]> {
    const d = await this.transport.json<{ attributes?: Attribute[] }>(this.calls.attributes(opts));
    return d?.attributes ?? [];
  }

  async audit(opts: ScopeOptions): Promise<AuditEntry[]> {
    const d = await this.transport.json<{ entries?: AuditEntry[] }>(this.calls.audit(opts.scope));
    return d?.entries ?? [];
  }

  /** Everything inside the scope as JSON Lines (sessions, turns, attributes). */
  async export(opts: ScopeOptions): Promise<string> {
    return (await this.transport.request(this.calls.export(opts.scope))).text;
  }

  /** Load JSON Lines (text, or an array of records) as `export` wrote them; ids are kept. */
  async import(data: string | readonly unknown[]): Promise<JsonObject> {
    return (await this.transport.json<JsonObject>(this.calls.import(data))) ?? {};
  }

  /** Delete everything inside the scope (and narrower scopes). Irreversible. */
  async erase(opts: ScopeOptions): Promise<JsonObject> {
    return (await this.transport.json<JsonObject>(this.calls.erase(opts.scope))) ?? {};
  }
}

export class Sessions {
  /** @internal */
  constructor(private readonly memory: Memory) {}

  async create(opts: CreateSessionOptions): Promise<Session> {
    const d = await this.memory.transport.json<SessionData>(this.memory.calls.createSession(opts.scope, opts.metadata));
    return new Session(this.memory, d.id, d, opts.agentFn, []);
  }

  /** A handle on an existing session, without a network call; its scope and past messages
   * are fetched when first needed (`await session.refresh()` to do it now). */
  open(sessionId: string, opts: OpenSessionOptions = {}): Session {
    if (!sessionId) throw new TypeError("sessionId is required");
    return new Session(this.memory, sessionId, undefined, opts.agentFn, undefined);
  }

  async get(sessionId: string, opts: OpenSessionOptions = {}): Promise<Session> {
    return this.open(sessionId, opts).refresh();
  }
}

function historyFromTurns(turns: readonly unknown[], sessionId: string): Message[] {
  const rows: { m: Message; at: string; i: number }[] = [];
  turns.forEach((t, i) => {
    if (!t || typeof t !== "object") return;
    const r = t as { session_id?: string; session?: string; role?: string; content?: string; created_at?: string };
    const sid = r.session_id ?? r.session;
    if (sid !== undefined && sid !== sessionId) return;
    rows.push({ m: { role: r.role ?? "", content: r.content ?? "" }, at: r.created_at ?? "", i });
  });
  rows.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : a.i - b.i));
  return rows.map((r) => r.m);
}

function turnsFromExport(text: string): unknown[] {
  const out: unknown[] = [];
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    try {
      const rec = JSON.parse(line) as { type?: string };
      if (rec && rec.type === "turn") out.push(rec);
    } catch {
      /* skip */
    }
  }
  return out;
}

/** A conversation: `id`, `scope`, `metadata`, `createdAt`, `turnCount`, `messages`. */
export class Session {
  id: string;
  contextId: string;
  scope: Record<string, string> | undefined;
  createdAt: string | undefined;
  metadata: JsonObject = {};
  turnCount = 0;
  /** The server's last JSON for this session. */
  raw: SessionData | undefined;
  agentFn: AgentFn | undefined;
  private history: Message[] | undefined;

  /** @internal */
  constructor(
    private readonly memory: Memory,
    id: string,
    data: SessionData | undefined,
    agentFn: AgentFn | undefined,
    history: Message[] | undefined,
  ) {
    this.id = id;
    this.contextId = memory.contextId;
    this.scope = undefined;
    this.createdAt = undefined;
    this.raw = undefined;
    this.agentFn = agentFn;
    this.history = history;
    if (data) this.apply(data);
  }

  private apply(d: SessionData): void {
    this.raw = d;
    this.id = d.id ?? this.id;
    if (typeof d.context === "string") this.contextId = d.context;
    if (d.scope !== undefined) this.scope = scopeObject(d.scope);
    this.createdAt = d.created_at ?? this.createdAt;
    this.metadata = d.metadata && typeof d.metadata === "object" ? d.metadata : {};
    this.turnCount = Number(d.turn_count ?? 0);
  }

  /** The scope's `user` dimension, when there is one. */
  get userId(): string | undefined {
    return this.scope?.["user"];
  }

  /** `[{ role, content }, ...]`; the first also carries `user_id`. */
  get messages(): Message[] {
    const msgs = (this.history ?? []).map((m) => ({ ...m }));
    if (msgs.length > 0) msgs[0]!.user_id = this.userId;
    return msgs;
  }

  /** Re-read the session (`GET /sessions/{id}`): scope, metadata, turn count. */
  async refresh(): Promise<this> {
    this.apply(await this.memory.transport.json<SessionData>(this.memory.calls.getSession(this.id)));
    return this;
  }

  async turn(opts: TurnOptions): Promise<TurnResult> {
    const res = toTurnResult(await this.memory.transport.json(this.memory.calls.turn(this.id, opts)));
    this.turnCount += 1;
    this.history?.push({ role: opts.role, content: opts.content });
    return res;
  }

  /** Record several turns in one request, in order, all or none: an exchange's two turns, or a
   * conversation's history (each turn may carry its own `createdAt`). 1 to 1,000 turns; the
   * answer is one TurnResult per turn, in the same order. An invalid element fails the whole
   * batch, naming it (`turns[1].role`): checked here (TypeError, nothing sent) or by the server
   * (InvalidRequest). One Idempotency-Key covers the batch, so a retried batch is recorded once. */
  async turns(turns: TurnInput[], opts: TurnsOptions = {}): Promise<TurnResult[]> {
    const items = batchTurns(turns);
    const res = toTurnResults(await this.memory.transport.json(this.memory.calls.turns(this.id, items, opts)));
    this.turnCount += items.length;
    for (const t of turns) this.history?.push({ role: t.role, content: t.content });
    return res;
  }

  async context(opts: SessionContextOptions): Promise<Context> {
    return toContext(await this.memory.transport.json(this.memory.calls.sessionContext(this.id, opts)));
  }

  /** Fetch scope and past messages of a session opened by id (no-op once known). */
  async loadHistory(): Promise<Message[]> {
    if (this.scope === undefined) await this.refresh();
    if (this.history === undefined) {
      const turns = (this.raw as { turns?: unknown } | undefined)?.turns;
      if (Array.isArray(turns)) {
        this.history = historyFromTurns(turns, this.id);
      } else if (this.turnCount === 0) {
        this.history = [];
      } else {
        // The API has no per-session turn listing; the scope's export holds them.
        const text = await this.memory.export({ scope: this.scope ?? {} });
        this.history = historyFromTurns(turnsFromExport(text), this.id);
      }
    }
    return this.messages;
  }

  /** Record the user's message, call `agentFn(messages)`, record its reply, and return both
   * with the combined diff. The user turn is recorded first so the agent's profile/context
   * lookups already see what the message taught. */
  async chat(opts: ChatOptions | string): Promise<ChatResult> {
    const o: ChatOptions = typeof opts === "string" ? { content: opts } : opts;
    const fn = o.agentFn ?? this.agentFn;
    if (!fn) throw new TypeError("chat() needs an agentFn: pass it to sessions.create/open or chat");
    await this.loadHistory();
    const userOpts: TurnOptions = { role: "user", content: o.content };
    if (o.metadata) userOpts.metadata = o.metadata;
    const user = await this.turn(userOpts);
    const reply: AgentReply = await fn(this.messages);
    const text = replyText(reply);
    const bot = await this.turn({ role: "assistant", content: text });
    return { response: text, diff: [...user.diff, ...bot.diff], session: this, turns: [user.turn, bot.turn] };
  }
}
