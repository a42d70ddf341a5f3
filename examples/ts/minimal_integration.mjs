// Minimal integration around an existing LLM call (seed 001): retrieve context before the call,
// record the exchange after it, and leave the prompt exactly as it was when memory has nothing
// relevant (the `if (ctx.formatted)` guard). Then widen from one org-wide scope to per-user
// scopes without migrating anything (scope floor matching).
// Run: ENGRAM_URL=http://127.0.0.1:8420 node examples/ts/minimal_integration.mjs
import { Engram } from "engram";

const client = new Engram({ baseUrl: process.env.ENGRAM_URL ?? "http://127.0.0.1:8420" });
const memory = client.memory({ contextId: "assistant" });

// Phase 1: single scope, all conversations share it
const DEFAULT_SCOPE = { org: "my-app" };

function yourExistingSystemPrompt() {
  return "You are the support assistant of my-app.";
}

// The application's LLM call, unchanged (a stand-in that runs offline).
async function yourExistingLlmCall({ system }) {
  if (system === yourExistingSystemPrompt()) return "Happy to help!";
  const given = system.slice(system.indexOf("\n\n") + 2).split(/\s+/).join(" ");
  return `Happy to help! (I was given: ${given.slice(0, 200)})`;
}

// The existing wrapper around LLM calls, with memory added; `session` is optional so every
// existing call site keeps working.
async function answer(userMessage, session = undefined, scope = DEFAULT_SCOPE) {
  // 1. Retrieve relevant context
  const ctx = session
    ? await session.context({ query: userMessage })
    : await memory.context({ scope, query: userMessage });

  // 2. Inject into your existing system prompt
  let system = yourExistingSystemPrompt();
  if (ctx.formatted) system = `${system}\n\n## Relevant context\n${ctx.formatted}`;
  console.log(`prompt unchanged: ${system === yourExistingSystemPrompt() ? "True" : "False"}`);

  // 3. Your existing LLM call – unchanged
  const response = await yourExistingLlmCall({ system, user: userMessage });

  // 4. Record the exchange
  if (session) {
    await session.turn({ role: "user", content: userMessage });
    await session.turn({ role: "assistant", content: response });
  } else {
    await memory.turn({ scope, role: "user", content: userMessage });
    await memory.turn({ scope, role: "assistant", content: response });
  }
  return response;
}

const userId = process.env.ENGRAM_EXAMPLE_USER ?? "alice";

// Phase 1: one org-wide scope.
console.log("reply:", await answer("What is the capital of Australia?")); // nothing stored yet
let session = await memory.sessions.create({ scope: { org: "my-app" } });
console.log("reply:", await answer("Our company uses PostgreSQL for everything.", session));
console.log("reply:", await answer("Which database do we use, PostgreSQL?", session));

// Expanding to multi-user: only the session's scope changes.
session = await memory.sessions.create({ scope: { org: "my-app", user: userId } });
console.log("reply:", await answer("I live in Lisbon.", session));

// Profile injection at session start
const profile = await memory.profile({ scope: { org: "my-app", user: userId } });
let system = yourExistingSystemPrompt();
if (profile.summary) system = `${system}\n\n## About this user\n${profile.summary}`;
console.log(`about this user: ${profile.summary}`);

// Scope floor: the user's view includes org-wide memory; another user's does not see hers.
const mine = await memory.context({ scope: { org: "my-app", user: userId }, query: "database PostgreSQL" });
console.log(`user sees org memory: ${mine.formatted.includes("PostgreSQL") ? "True" : "False"}`);
const other = await memory.profile({ scope: { org: "my-app", user: "bob" } });
console.log(`bob sees alice's city: ${other.summary.includes("Lisbon") ? "True" : "False"}`);
