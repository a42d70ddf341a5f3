// session.chat: the SDK drives the loop around agentFn (seed 000 shape 1, seed 002).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { Engram } from "../dist/index.js";
import { startServer, newUser } from "./helpers.mjs";

let srv;
let memory;
before(async () => {
  srv = await startServer();
  memory = new Engram({ baseUrl: srv.url }).memory({ contextId: "assistant" });
});
after(async () => srv && srv.stop());

test("chat with an async agentFn that injects the profile", async () => {
  const user = newUser();
  const seen = [];
  const session = await memory.sessions.create({
    scope: { user },
    agentFn: async (messages) => {
      seen.push(structuredClone(messages));
      const profile = await memory.profile({ scope: { user: messages[0].user_id } });
      let system = "You are a helpful assistant.";
      if (profile.summary) system += `\n\n${profile.summary}`;
      return `[${system}] ok`;
    },
  });
  const r1 = await session.chat({ content: "I just moved from Berlin to London" });
  assert.equal(r1.session, session);
  assert.match(r1.response, /London/); // the user turn was recorded before agentFn ran
  assert.ok(r1.diff.some((d) => d.key === "location" && d.value === "London"));
  assert.deepEqual(r1.turns.map((t) => t.role), ["user", "assistant"]);
  await session.chat({ content: "What city do I live in?" });
  assert.equal(session.turnCount, 4);
  assert.deepEqual(seen[0], [{ role: "user", content: "I just moved from Berlin to London", user_id: user }]);
  assert.deepEqual(seen[1].map((m) => m.role), ["user", "assistant", "user"]);
});

test("chat with a sync agentFn; a reopened session sees its history", async () => {
  const user = newUser();
  const fn = (messages) => ({ content: `reply #${messages.length}` });
  const s = await memory.sessions.create({ scope: { user }, agentFn: fn });
  assert.equal((await s.chat({ content: "I prefer bullet-point responses." })).response, "reply #1");
  const again = memory.sessions.open(s.id, { agentFn: fn });
  assert.equal((await again.chat({ content: "Thanks" })).response, "reply #3");
  assert.equal(again.messages[0].user_id, user);
  assert.deepEqual(again.messages.map((m) => m.content), ["I prefer bullet-point responses.", "reply #1", "Thanks", "reply #3"]);
  assert.equal((await again.chat({ content: "x", agentFn: () => "override" })).response, "override");
});

test("chat without an agentFn is a TypeError", async () => {
  const s = await memory.sessions.create({ scope: { user: newUser() } });
  await assert.rejects(s.chat({ content: "hi" }), TypeError);
});
