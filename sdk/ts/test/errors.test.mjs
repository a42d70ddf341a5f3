// Each error class, with the server's code, message, status and request id.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import {
  Engram, EngramError, NotFound, InvalidRequest, Unauthorized, Forbidden, Conflict,
  RateLimited, ServerError, ConnectionFailed,
} from "../dist/index.js";
import { startServer, startStub, cli, freePort } from "./helpers.mjs";

let srv;
let keyed;
before(async () => {
  srv = await startServer();
  if (!srv.external) {
    keyed = await startServer({
      setup: (db) => {
        const k = (...a) => JSON.parse(cli(db, "keys", "create", ...a)).key;
        return {
          full: k("--context", "assistant"),
          alice: k("--context", "assistant", "--scope-floor", "user/alice"),
          read: k("--context", "assistant", "--grant", "read"),
          other: k("--context", "elsewhere"),
        };
      },
    });
  }
});
after(async () => {
  if (srv) await srv.stop();
  if (keyed) await keyed.stop();
});

function check(err, Cls, status) {
  assert.ok(err instanceof Cls && err instanceof EngramError, `${err}`);
  assert.equal(err.name, Cls.name);
  assert.equal(err.status, status);
  assert.ok(err.code && err.code !== `http_${status}`, err.code);
  assert.ok(err.message);
  assert.ok(err.requestId);
  return true;
}

test("NotFound", async () => {
  const memory = new Engram({ baseUrl: srv.url }).memory({ contextId: "assistant" });
  await assert.rejects(memory.sessions.open("ses_nope").turn({ role: "user", content: "hi" }), (e) => check(e, NotFound, 404));
  await assert.rejects(memory.sessions.get("ses_nope"), NotFound);
});

test("InvalidRequest (400, 413)", async () => {
  const memory = new Engram({ baseUrl: srv.url }).memory({ contextId: "assistant" });
  await assert.rejects(memory.sessions.create({ scope: { "Bad Name!": "x" } }), (e) => check(e, InvalidRequest, 400));
  await assert.rejects(memory.profile({ scope: { user: "a/b" } }), InvalidRequest);
  await assert.rejects(
    memory.turn({ scope: { user: "big" }, role: "user", content: "x".repeat(2 * 1024 * 1024) }),
    (e) => e instanceof InvalidRequest && e.status === 413,
  );
  await assert.rejects(memory.turn({ scope: { user: "a" }, role: "robot", content: "hi" }), TypeError);
});

test("Conflict when an Idempotency-Key is reused with another body", async () => {
  const memory = new Engram({ baseUrl: srv.url }).memory({ contextId: "assistant" });
  const s = await memory.sessions.create({ scope: { user: "conflict" } });
  await s.turn({ role: "user", content: "I live in Berlin.", idempotencyKey: "same-key" });
  await assert.rejects(
    s.turn({ role: "user", content: "Something else entirely.", idempotencyKey: "same-key" }),
    (e) => check(e, Conflict, 409),
  );
});

test("ConnectionFailed when nothing listens", async () => {
  const port = await freePort();
  const memory = new Engram({ baseUrl: `http://127.0.0.1:${port}`, maxRetries: 1 }).memory({ contextId: "assistant" });
  await assert.rejects(memory.profile({ scope: { user: "a" } }), (e) => e instanceof ConnectionFailed && e.status === undefined && e.code === "connection_refused");
});

test("Unauthorized and Forbidden", async (t) => {
  if (!keyed) return t.skip("needs a server started by the test");
  const keys = keyed.extra;
  const mem = (apiKey) => new Engram({ baseUrl: keyed.url, apiKey }).memory({ contextId: "assistant" });
  await assert.rejects(mem(undefined).profile({ scope: { user: "alice" } }), (e) => check(e, Unauthorized, 401));
  await assert.rejects(mem("not-a-key").profile({ scope: { user: "alice" } }), Unauthorized);
  const s = await mem(keys.full).sessions.create({ scope: { user: "alice" } });
  await s.turn({ role: "user", content: "I live in Berlin." });
  assert.match((await mem(keys.alice).profile({ scope: { user: "alice" } })).summary, /Berlin/);
  await assert.rejects(mem(keys.alice).profile({ scope: { user: "bob" } }), (e) => check(e, Forbidden, 403));
  await mem(keys.read).profile({ scope: { user: "alice" } });
  await assert.rejects(mem(keys.read).turn({ scope: { user: "alice" }, role: "user", content: "I live in Rome." }), Forbidden);
  await assert.rejects(mem(keys.read).forget({ scope: { user: "alice" }, attributeKey: "location" }), Forbidden);
  await assert.rejects(mem(keys.other).profile({ scope: { user: "alice" } }), Forbidden);
});

// Statuses a healthy server does not produce on demand: a scripted stub answers instead.
for (const [status, Cls] of [[409, Conflict], [429, RateLimited], [500, ServerError], [405, InvalidRequest], [415, InvalidRequest]]) {
  test(`status ${status} -> ${Cls.name}`, async () => {
    const body = { error: { code: `code_${status}`, message: `message ${status}` } };
    const stub = await startStub([[status, body, {}]]);
    try {
      const memory = new Engram({ baseUrl: stub.url, maxRetries: 0 }).memory({ contextId: "assistant" });
      await assert.rejects(memory.import("{}\n"), (e) => {
        assert.ok(e instanceof Cls);
        assert.equal(e.code, `code_${status}`);
        assert.equal(e.message, `message ${status}`);
        assert.equal(e.status, status);
        assert.equal(e.requestId, "req_stub_1");
        return true;
      });
    } finally {
      await stub.close();
    }
  });
}
