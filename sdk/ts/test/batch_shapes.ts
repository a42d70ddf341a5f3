// Type-checked only (tsc --noEmit -p test): the batch call shapes compile under strict mode,
// and what they must reject does not.
import { Engram, type Session, type TurnInput, type TurnResult } from "engram";

const memory = new Engram({ baseUrl: "http://127.0.0.1:8420" }).memory({ contextId: "assistant" });

export async function exchange(session: Session, userMessage: string, response: string): Promise<TurnResult[]> {
  return session.turns([
    { role: "user", content: userMessage },
    { role: "assistant", content: response },
  ]);
}

export async function backfill(userId: string, history: { role: "user" | "assistant"; text: string; at: Date }[]) {
  const turns: TurnInput[] = history.map((h) => ({ role: h.role, content: h.text, createdAt: h.at }));
  const results = await memory.turns({ scope: { user: userId }, turns, async: true, idempotencyKey: "import-1" });
  return results.map((r) => [r.turn.id, r.diff.length, r.queued] as const);
}

export async function rejected(session: Session) {
  // @ts-expect-error role must be a Role
  await session.turns([{ role: "robot", content: "x" }]);
  // @ts-expect-error createdAt, not created_at
  await session.turns([{ role: "user", content: "x", created_at: "2024-01-01T00:00:00Z" }]);
  // @ts-expect-error memory.turns needs a scope
  await memory.turns({ turns: [{ role: "user", content: "x" }] });
}
