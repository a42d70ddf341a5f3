/**
 * Wire types. Result objects keep the server's JSON field names (snake_case, as in the API
 * reference and export files), so what you log is what the server sent; method options are
 * camelCase.
 */

/** `{ org: "acme", user: "alice" }` or the path form `"org/acme/user/alice"`. */
export type Scope = Record<string, string> | string;

export type Role = "user" | "assistant" | "system" | "tool";

export type Category = "identity" | "knowledge" | "context" | "instructions" | "unknowns";

export const CATEGORIES: readonly Category[] = [
  "identity",
  "knowledge",
  "context",
  "instructions",
  "unknowns",
];

export type JsonObject = Record<string, unknown>;

export interface SessionData {
  id: string;
  context: string;
  scope: Record<string, string>;
  created_at: string;
  metadata: JsonObject;
  turn_count?: number;
  [extra: string]: unknown;
}

export interface Turn {
  id: string;
  session_id: string | null;
  role: Role;
  content: string;
  created_at: string;
  metadata: JsonObject;
  [extra: string]: unknown;
}

/** One change a turn made to memory. */
export interface DiffEntry {
  action: "added" | "updated" | "expired" | "unchanged" | "flagged";
  /** `[type, name]`, e.g. `["Person", "alice"]`. */
  entity: [string, string] | string[];
  category: Category | string;
  key: string;
  value: unknown;
  previous_value?: unknown;
  attribute_id?: string;
  [extra: string]: unknown;
}

export interface TurnResult {
  turn: Turn;
  diff: DiffEntry[];
  /** True when extraction was queued (`async: true`) rather than run inline. */
  queued: boolean;
}

export interface ContextItem {
  kind: "attribute" | "turn";
  id: string;
  text: string;
  score: number;
  scores: Record<string, number>;
  tokens: number;
  created_at?: string;
  // turn items
  session_id?: string;
  role?: Role;
  metadata?: JsonObject;
  // attribute items
  entity?: string[];
  category?: string;
  key?: string;
  value?: unknown;
  valid_from?: string;
  source_turn?: string;
  [extra: string]: unknown;
}

/** `formatted` is "" when nothing is relevant: `if (ctx.formatted)` leaves a prompt as it was. */
export interface Context {
  items: ContextItem[];
  formatted: string;
}

export interface Attribute {
  id: string;
  entity: string[];
  category: Category | string;
  key: string;
  value: unknown;
  confidence?: number;
  importance?: number;
  source_turn?: string | null;
  valid_from?: string;
  valid_until?: string | null;
  recorded_at?: string;
  supersedes?: string | null;
  /** The supersession chain (newest first), from `attributes()`. */
  chain?: Attribute[];
  [extra: string]: unknown;
}

export interface Profile {
  /** Dense prose for a system prompt; "" when nothing is known. */
  summary: string;
  attributes: Record<Category, Attribute[]> & Record<string, Attribute[]>;
}

export interface ForgetResult {
  expired: number;
  dry_run: boolean;
  attributes: Attribute[];
}

export interface AuditEntry {
  [field: string]: unknown;
}

/** A message handed to `agentFn`; the first one carries `user_id` (the scope's `user`). */
export interface Message {
  role: Role | string;
  content: string;
  user_id?: string | undefined;
  [extra: string]: unknown;
}

export type AgentReply = string | { content: string } | { choices: { message: { content: string } }[] };

export type AgentFn = (messages: Message[]) => AgentReply | Promise<AgentReply>;
