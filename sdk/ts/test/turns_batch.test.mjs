// Batched turn recording (session.turns, memory.turns): one request, in order, all or none,
// against a real `engram serve`; the retry path against the scripted stub.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { Engram, InvalidRequest, Conflict } from "../dist/index.js";
import { startServer, startStub, newUser } from "./helpers.mjs";

let srv;
let memory;
before(async () => {
  srv = await startServer();
  memory = new Engram({ baseUrl: srv.url }).memory({ contextId: "assistant" });
});
after(async () => srv && srv.stop());

async function turnContents(user) {
  const text = await memory.export({ scope: { user } });
  return text
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l))
    .filter((r) => r.type === "turn")
    .map((r) => r.content);
}

test("session.turns records in order, each with its own diff", async () => {
  const user = newUser();
  const s = await memory.sessions.create({ scope: { user } });
  const res = await s.turns([
    { role: "user", content: "I live in Berlin.", metadata: { source: "test" } },
    { role: "assistant", content: "Berlin is lovely." },
    { role: "user", content: "I just moved from Berlin to London" },
  ]);
  assert.equal(res.length, 3);
  assert.deepEqual(res.map((r) => r.turn.role), ["user", "assistant", "user"]);
  assert.deepEqual(res.map((r) => r.turn.content), ["I live in Berlin.", "Berlin is lovely.", "I just moved from Berlin to London"]);
  assert.ok(res.every((r) => r.turn.session_id === s.id && r.queued === false));
  assert.deepEqual(res[0].turn.metadata, { source: "test" });
  assert.equal(new Set(res.map((r) => r.turn.id)).size, 3);
  const added = res[0].diff.find((d) => d.key === "location");
  assert.equal(added.action, "added");
  assert.equal(added.value, "Berlin");
  assert.deepEqual(res[1].diff.filter((d) => d.action !== "unchanged"), []);
  const upd = res[2].diff.find((d) => d.key === "location");
  assert.equal(upd.action, "updated");
  assert.equal(upd.value, "London");
  assert.equal(upd.previous_value, "Berlin");

  // The local message list and count follow, as with turn().
  assert.deepEqual(s.messages.map((m) => m.content), res.map((r) => r.turn.content));
  assert.equal(s.messages[0].user_id, user);
  assert.equal(s.turnCount, 3);
  assert.equal((await memory.sessions.get(s.id)).turnCount, 3);
  assert.match((await memory.profile({ scope: { user } })).summary, /London/);
});

test("backfill with createdAt; a session opened by id sees the turns", async () => {
  const user = newUser();
  const s = await memory.sessions.create({ scope: { user } });
  const res = await s.turns([
    { role: "user", content: "I live in Berlin.", createdAt: new Date("2024-01-01T09:00:00Z") },
    { role: "user", content: "I moved to London.", createdAt: "2024-06-01T00:00:00Z" },
  ]);
  assert.match(res[0].turn.created_at, /^2024-01-01T09:00:00/);
  assert.match(res[1].turn.created_at, /^2024-06-01T00:00:00/);
  const then = await memory.profile({ scope: { user }, asOf: "2024-03-01T00:00:00Z" });
  assert.deepEqual(then.attributes.identity.filter((a) => a.key === "location").map((a) => a.value), ["Berlin"]);
  const again = memory.sessions.open(s.id);
  assert.deepEqual((await again.loadHistory()).map((m) => m.content), ["I live in Berlin.", "I moved to London."]);
});

test("memory.turns without a session, and async", async () => {
  const user = newUser();
  const res = await memory.turns({
    scope: { user },
    turns: [
      { role: "user", content: "I work at Acme Corp as a backend engineer." },
      { role: "assistant", content: "Noted." },
    ],
  });
  assert.deepEqual(res.map((r) => r.turn.session_id), [null, null]);
  assert.ok(res[0].diff.some((d) => d.key === "employer"));
  const q = await memory.turns({ scope: `user/${user}`, async: true, turns: [{ role: "user", content: "I live in Oslo." }] });
  assert.equal(q.length, 1);
  assert.equal(q[0].queued, true);
  assert.deepEqual(q[0].diff, []);
});

test("a bad element fails the whole batch, naming it", async () => {
  const user = newUser();
  const s = await memory.sessions.create({ scope: { user } });
  await s.turn({ role: "user", content: "I live in Berlin." });
  const good = { role: "user", content: "I just moved from Berlin to Rome" };

  // The server names the element; the good one before it is not recorded either.
  await assert.rejects(
    s.turns([good, { role: "user", content: "x", createdAt: "yesterday" }]),
    (e) => e instanceof InvalidRequest && e.status === 400 && e.message.includes("turns[1].created_at"),
  );
  await assert.rejects(
    memory.turns({ scope: { user }, turns: [good, good, { role: "user", content: "y", createdAt: "soon" }] }),
    (e) => e instanceof InvalidRequest && e.message.includes("turns[2].created_at"),
  );

  // What the SDK checks itself (as turn() does) it names the same way, sending nothing.
  await assert.rejects(s.turns([good, { role: "robot", content: "beep" }]), (e) => e instanceof TypeError && e.message.includes("turns[1].role"));
  await assert.rejects(s.turns([{ role: "user" }]), (e) => e instanceof TypeError && e.message.includes("turns[0].content"));
  await assert.rejects(s.turns([good, { role: "user", content: "hi", created_at: "2024-01-01T00:00:00Z" }]), (e) => e instanceof TypeError && e.message.includes('turns[1] has unknown field "created_at"'));
  await assert.rejects(s.turns([]), TypeError);

  assert.equal(s.turnCount, 1);
  assert.deepEqual(s.messages.map((m) => m.content), ["I live in Berlin."]);
  assert.equal((await memory.sessions.get(s.id)).turnCount, 1);
  const p = await memory.profile({ scope: { user } });
  assert.match(p.summary, /Berlin/);
  assert.doesNotMatch(p.summary, /Rome/);
  assert.deepEqual(await turnContents(user), ["I live in Berlin."]);
});

test("a retried batch is recorded once", async () => {
  const user = newUser();
  const s = await memory.sessions.create({ scope: { user } });
  const batch = [
    { role: "user", content: "I have a dog named Rex." },
    { role: "assistant", content: "Hello Rex!" },
  ];
  const a = await s.turns(batch, { idempotencyKey: "kb-" + user });
  const b = await s.turns(batch, { idempotencyKey: "kb-" + user });
  assert.deepEqual(b.map((r) => r.turn.id), a.map((r) => r.turn.id));
  assert.equal((await memory.sessions.get(s.id)).turnCount, 2);
  await assert.rejects(s.turns(batch.slice(0, 1), { idempotencyKey: "kb-" + user }), Conflict);
});

test("batch posts are retried with one Idempotency-Key", async () => {
  const ok = {
    turns: [
      { turn: { id: "trn_1", session_id: "ses_1", role: "user", content: "hi" }, diff: [{ action: "added", entity: ["Person", "a"], category: "identity", key: "location", value: "Paris" }], queued: false },
      { turn: { id: "trn_2", session_id: "ses_1", role: "assistant", content: "yo" }, diff: [], queued: false },
    ],
  };
  const err = { error: { code: "unavailable", message: "try later" } };
  const stub = await startStub([[503, err], "close", [200, ok]]);
  try {
    const m = new Engram({ baseUrl: stub.url, maxRetries: 2 }).memory({ contextId: "assistant" });
    const s = m.sessions.open("ses_1");
    const res = await s.turns([{ role: "user", content: "hi" }, { role: "assistant", content: "yo" }], { async: true });
    assert.deepEqual(res.map((r) => r.turn.id), ["trn_1", "trn_2"]);
    assert.equal(res[0].diff[0].value, "Paris");
    assert.equal(stub.requests.length, 3);
    const keys = new Set(stub.requests.map((q) => q.headers["idempotency-key"]));
    assert.equal(keys.size, 1);
    assert.ok([...keys][0]);
    assert.equal(new Set(stub.requests.map((q) => q.body)).size, 1);
    assert.equal(stub.requests[0].url, "/api/v1/assistant/sessions/ses_1/turns");
    assert.deepEqual(JSON.parse(stub.requests[0].body), {
      turns: [{ role: "user", content: "hi" }, { role: "assistant", content: "yo" }],
      async: true,
    });
    assert.equal(s.turnCount, 2);
  } finally {
    await stub.close();
  }
  const stub2 = await startStub([[502, err], [200, { turns: ok.turns.slice(0, 1) }]]);
  try {
    const m = new Engram({ baseUrl: stub2.url, maxRetries: 1 }).memory({ contextId: "assistant" });
    const r = await m.turns({ scope: { user: "a" }, turns: [{ role: "user", content: "hi" }], idempotencyKey: "mine" });
    assert.deepEqual(r.map((x) => x.turn.id), ["trn_1"]);
    assert.deepEqual(stub2.requests.map((q) => q.headers["idempotency-key"]), ["mine", "mine"]);
    assert.equal(stub2.requests[1].url, "/api/v1/assistant/turns");
    assert.deepEqual(JSON.parse(stub2.requests[1].body), { scope: { user: "a" }, turns: [{ role: "user", content: "hi" }] });
  } finally {
    await stub2.close();
  }
});
