// Personal AI assistant (seed 002): user-scoped memory across sessions, a profile injected as a
// system prompt fragment, the caller-driven chat and the engram-driven chat (agentFn), and
// forget when the user's situation changes.
// Run: ENGRAM_URL=http://127.0.0.1:8420 node examples/ts/personal_assistant.mjs
import { Engram } from "engram";

const client = new Engram({ baseUrl: process.env.ENGRAM_URL ?? "http://127.0.0.1:8420" });
const memory = client.memory({ contextId: "assistant" });

// Offline stand-in for a model: it answers from the memory in its system prompt.
async function yourLlm({ system }) {
  const known = system.split("\n\n").slice(1).filter((p) => !p.startsWith("##")).map((p) => p.split(/\s+/).join(" ")).join(" ");
  return known ? `Noted. (Known: ${known.slice(0, 300)})` : "Noted.";
}

async function startConversation(userId) {
  const session = await memory.sessions.create({
    scope: { user: userId },
  });
  return session;
}

async function buildSystemPrompt(userId) {
  const profile = await memory.profile({ scope: { user: userId } });

  const base = "You are a personal AI assistant. Be concise, direct, and helpful.";

  if (profile.summary) {
    return `${base}\n\n## What you know about this user\n\n${profile.summary}`;
  }

  return base;
}

async function chat(session, userId, userMessage) {
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
  const r = await session.turn({ role: "user", content: userMessage });
  await session.turn({ role: "assistant", content: response });
  for (const d of r.diff) {
    if (d.action === "unchanged") continue;
    const was = d.previous_value !== undefined && d.previous_value !== null ? ` (was ${d.previous_value})` : "";
    console.log(`  memory ${d.action}: ${d.category}/${d.key} = ${d.value}${was}`);
  }
  return response;
}

const userId = process.env.ENGRAM_EXAMPLE_USER ?? "alice";

let session = await startConversation(userId);
for (const msg of [
  "I'm Alice Chen, Head of Platform at Acme Corp.",
  "I live in Berlin.",
  "I prefer TypeScript over JavaScript.",
  "I prefer bullet-point responses.",
  "I'm currently leading a migration from CommonJS to ESM.",
]) {
  console.log(`user: ${msg}`);
  await chat(session, userId, msg);
}

// A new session, days later: the profile carries over.
session = await startConversation(userId);
console.log("user: I just moved from Berlin to London");
await chat(session, userId, "I just moved from Berlin to London");
let profile = await memory.profile({ scope: { user: userId } });
console.log(`profile summary: ${profile.summary}`);

// engram drives the loop
session = await memory.sessions.create({
  scope: { user: userId },
  agentFn: async (messages) => {
    const system = await buildSystemPrompt(userId);
    return yourLlm({ system, messages });
  },
});
const result = await session.chat({ content: "What are my current projects?" });
console.log(`chat response: ${result.response}`);

// Forget a specific attribute
let res = await memory.forget({
  scope: { user: userId },
  entityType: "Person",
  entityName: userId,
  attributeKey: "employer",
});
console.log(`forgot employer: ${res.expired} expired`);

// Or forget everything in a category
res = await memory.forget({
  scope: { user: userId },
  category: "context",
});
console.log(`forgot context: ${res.expired} expired`);

profile = await memory.profile({ scope: { user: userId } });
console.log(`profile after forget: ${profile.summary}`);
for (const [category, attrs] of Object.entries(profile.attributes)) {
  console.log(`category ${category}: ${attrs.map((a) => `${a.key}=${a.value}`).join(", ")}`);
}
