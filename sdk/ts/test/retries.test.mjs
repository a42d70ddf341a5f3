// Timeouts and bounded retries, against a scripted stub (the real server does not fail on demand).
import { test } from "node:test";
import assert from "node:assert/strict";
import { Engram, ServerError, ConnectionFailed, Timeout, RateLimited } from "../dist/index.js";
import { startStub } from "./helpers.mjs";

const OK_TURN = { turn: { id: "trn_1", session_id: "ses_1", role: "user", content: "hi", created_at: "2024-11-15T10:23:00.000Z", metadata: {} }, diff: [], queued: false };
const ERR = { error: { code: "unavailable", message: "try later" } };

async function withStub(script, fn) {
  const stub = await startStub(script);
  try {
    await fn(stub);
  } finally {
    await stub.close();
  }
}

test("turn posts are retried with the same Idempotency-Key", () =>
  withStub([[503, ERR], "close", [201, OK_TURN]], async (stub) => {
    const memory = new Engram({ baseUrl: stub.url, maxRetries: 2 }).memory({ contextId: "assistant" });
    const r = await memory.sessions.open("ses_1").turn({ role: "user", content: "hi" });
    assert.equal(r.turn.id, "trn_1");
    assert.equal(stub.requests.length, 3);
    const keys = new Set(stub.requests.map((q) => q.headers["idempotency-key"]));
    assert.equal(keys.size, 1);
    assert.ok([...keys][0]);
    assert.equal(stub.requests[0].url, "/api/v1/assistant/sessions/ses_1/turns");
    assert.deepEqual(JSON.parse(stub.requests[2].body), { role: "user", content: "hi" });
  }));

test("reads are retried, then give up", () =>
  withStub(Array(10).fill([504, ERR]), async (stub) => {
    const memory = new Engram({ baseUrl: stub.url, maxRetries: 2 }).memory({ contextId: "assistant" });
    await assert.rejects(memory.profile({ scope: { user: "a" } }), (e) => e instanceof ServerError && e.status === 504);
    assert.equal(stub.requests.length, 3);
  }));

test("non-idempotent calls are not replayed", async () => {
  await withStub([[503, ERR], [201, { id: "ses_x" }]], async (stub) => {
    const memory = new Engram({ baseUrl: stub.url, maxRetries: 3 }).memory({ contextId: "assistant" });
    await assert.rejects(memory.sessions.create({ scope: { user: "a" } }), ServerError);
    assert.equal(stub.requests.length, 1);
  });
  await withStub(["close", [200, {}]], async (stub) => {
    const memory = new Engram({ baseUrl: stub.url, maxRetries: 3 }).memory({ contextId: "assistant" });
    await assert.rejects(memory.erase({ scope: { user: "a" } }), ConnectionFailed);
    assert.equal(stub.requests.length, 1);
  });
});

test("429 is retried for any call, honouring Retry-After", async () => {
  await withStub([[429, ERR, { "Retry-After": "0.3" }], [201, { id: "ses_x", scope: { user: "a" } }]], async (stub) => {
    const memory = new Engram({ baseUrl: stub.url, maxRetries: 1 }).memory({ contextId: "assistant" });
    const t0 = Date.now();
    const s = await memory.sessions.create({ scope: { user: "a" } });
    assert.equal(s.id, "ses_x");
    assert.ok(Date.now() - t0 >= 290);
  });
  await withStub([[429, ERR, { "Retry-After": "7" }]], async (stub) => {
    const memory = new Engram({ baseUrl: stub.url, maxRetries: 0 }).memory({ contextId: "assistant" });
    await assert.rejects(memory.profile({ scope: "user/a" }), (e) => e instanceof RateLimited && e.retryAfter === 7);
  });
});

test("timeouts", () =>
  withStub(["hang", "hang"], async (stub) => {
    const memory = new Engram({ baseUrl: stub.url, timeout: 300, maxRetries: 1 }).memory({ contextId: "assistant" });
    const t0 = Date.now();
    await assert.rejects(memory.context({ scope: { user: "a" }, query: "q" }), (e) => e instanceof Timeout && e.code === "timeout");
    assert.equal(stub.requests.length, 2);
    assert.ok(Date.now() - t0 < 3000);
  }));

test("apiKey is sent as a bearer token", () =>
  withStub([[200, { summary: "", attributes: {} }]], async (stub) => {
    const memory = new Engram({ baseUrl: stub.url, apiKey: "sk-test" }).memory({ contextId: "my ctx" });
    await memory.profile({ scope: { user: "a" } });
    assert.equal(stub.requests[0].headers.authorization, "Bearer sk-test");
    assert.equal(stub.requests[0].url, "/api/v1/my%20ctx/profile");
  }));
