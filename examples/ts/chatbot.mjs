// Chatbot with per-user memory and profile injection: the two integration shapes of the
// "chat application" guide (seed 000).
//   Shape 1: engram drives the loop. You give agentFn; engram calls it, records both turns and
//            runs extraction.
//   Shape 2: you drive the loop. Inject profile and context before your own LLM call, record
//            both turns after it.
// Run: ENGRAM_URL=http://127.0.0.1:8420 node examples/ts/chatbot.mjs   (after examples/run.sh linked the SDK)
import { Engram } from "engram"; // the only line that differs from the guide (and the client below)

const client = new Engram({ baseUrl: process.env.ENGRAM_URL ?? "http://127.0.0.1:8420" });
const memory = client.memory({ contextId: "assistant" });
const USER = process.env.ENGRAM_EXAMPLE_USER ?? "alice";

// A stand-in for a real model so the example runs offline: it says what memory it was given.
function yourLlm({ system }) {
  const i = system.indexOf("\n\n");
  const known = i < 0 ? "" : system.slice(i + 2).replace(/## (User context|Relevant memory)/g, "").split(/\s+/).join(" ").trim();
  return known ? `Got it. (What I know about you: ${known.slice(0, 200)})` : "Got it. (I don't know anything about you yet.)";
}

// ---- Shape 1: engram drives the loop ----
async function llmCall(messages) {
  // Build a memory-aware system prompt
  const userId = messages[0].user_id; // passed as metadata
  const profile = await memory.profile({ scope: { user: userId } });
  let system = "You are a helpful assistant.";
  if (profile.summary) system += `\n\n${profile.summary}`;
  return yourLlm({ system, messages });
}

async function shapeOne(userId) {
  // Per conversation
  const session = await memory.sessions.create({ scope: { user: userId }, agentFn: llmCall });
  for (const userMessage of ["I work at Acme Corp as a backend engineer.", "I just moved from Berlin to London"]) {
    // Each user message
    const result = await session.chat({ content: userMessage });
    const reply = result.response;
    console.log(`[shape 1] user: ${userMessage}`);
    console.log(`[shape 1] assistant: ${reply}`);
    for (const d of result.diff) {
      if (d.action === "unchanged") continue;
      const was = d.previous_value ? ` (was ${d.previous_value})` : "";
      console.log(`[shape 1] memory ${d.action}: ${d.key} = ${d.value}${was}`);
    }
  }
  return session.id;
}

// ---- Shape 2: the caller drives the loop ----
async function handleMessage(userId, sessionId, userMessage) {
  // Re-open existing session or create a new one
  const session = sessionId
    ? memory.sessions.open(sessionId)
    : await memory.sessions.create({ scope: { user: userId } });

  const profile = await memory.profile({ scope: { user: userId } });
  const ctx = await session.context({ query: userMessage });

  // Build system prompt
  let system = "You are a helpful assistant.";
  if (profile.summary) system += `\n\n## User context\n${profile.summary}`;
  if (ctx.formatted) system += `\n\n## Relevant memory\n${ctx.formatted}`;

  // Your LLM call
  const response = yourLlm({ system, user: userMessage });

  // Record the exchange
  await session.turn({ role: "user", content: userMessage });
  await session.turn({ role: "assistant", content: response });
  return response;
}

const first = await shapeOne(USER);
// A later conversation: memory is user-scoped, not session-scoped.
console.log(`[shape 2] new session reply: ${await handleMessage(USER, null, "Where do I live now?")}`);
console.log(`[shape 2] reopened session reply: ${await handleMessage(USER, first, "I just moved to the platform team.")}`);

// Querying accumulated memory
const profile = await memory.profile({ scope: { user: USER } });
console.log(`profile summary: ${profile.summary}`);
for (const [category, attrs] of Object.entries(profile.attributes)) {
  for (const a of attrs) console.log(`profile ${category}: ${a.key} = ${a.value}`);
}
