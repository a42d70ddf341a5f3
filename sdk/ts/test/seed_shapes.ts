// Type-checked only (tsc --noEmit -p test): the seeds' TypeScript call shapes, verbatim apart
// from the import line and the client construction, compile under strict mode.
import { Engram, type Session, type Message } from "engram";

declare function yourLlm(args: { system: string; messages?: Message[]; user?: string }): Promise<string>;

const client = new Engram({ apiKey: "sk-...", baseUrl: "http://127.0.0.1:8420" });
const memory = client.memory({ contextId: "assistant" });

export async function startConversation(userId: string) {
  const session = await memory.sessions.create({
    scope: { user: userId },
  });
  return session;
}

async function buildSystemPrompt(userId: string): Promise<string> {
  const profile = await memory.profile({ scope: { user: userId } });

  const base = "You are a personal AI assistant. Be concise, direct, and helpful.";

  if (profile.summary) {
    return `${base}\n\n## What you know about this user\n\n${profile.summary}`;
  }

  return base;
}

export async function chat(session: Session, userId: string, userMessage: string): Promise<string> {
  // Build context-aware system prompt
  let system = await buildSystemPrompt(userId);

  // Retrieve session-specific relevant context
  const ctx = await session.context({ query: userMessage, topK: 5 });
  if (ctx.items.length > 0) {
    system += `\n\n## Relevant context\n\n${ctx.formatted}`;
  }

  // Call your LLM
  const response = await yourLlm({ system, user: userMessage });

  // Record both turns
  await session.turn({ role: "user", content: userMessage });
  await session.turn({ role: "assistant", content: response });

  return response;
}

export async function agentDriven(userId: string) {
  const session = await memory.sessions.create({
    scope: { user: userId },
    agentFn: async (messages) => {
      const system = await buildSystemPrompt(userId);
      return yourLlm({ system, messages });
    },
  });

  const result = await session.chat({ content: "What are my current projects?" });
  console.log(result.response);
}

export async function forgetting(userId: string) {
  // Forget a specific attribute
  await memory.forget({
    scope: { user: userId },
    entityType: "Person",
    entityName: "alice",
    attributeKey: "employer",
  });

  // Or forget everything in a category
  await memory.forget({
    scope: { user: userId },
    category: "context",
  });
}

export async function callerDriven(userId: string, userMessage: string) {
  const session = memory.sessions.open("ses_123");
  const profile = await memory.profile({ scope: { user: userId } });
  const ctx = await memory.context({ scope: { user: userId }, query: userMessage, maxTokens: 500 });
  let system = "You are a helpful assistant.";
  if (profile.summary) system += `\n\n## User context\n${profile.summary}`;
  if (ctx.formatted) system += `\n\n## Relevant memory\n${ctx.formatted}`;
  const response = await yourLlm({ system, user: userMessage });
  await session.turn({ role: "user", content: userMessage });
  await session.turn({ role: "assistant", content: response });
  const jsonl: string = await memory.export({ scope: { user: userId } });
  await memory.import(jsonl);
  await memory.erase({ scope: { user: userId } });
  const attrs = await memory.attributes({ scope: { user: userId }, includeExpired: true });
  return attrs.map((a) => a.chain?.length ?? 0);
}
