// Every method of the TypeScript client, end to end against a real `engram serve`.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { Engram, Session, NotFound } from "../dist/index.js";
import { startServer, newUser } from "./helpers.mjs";

let srv;
let memory;
before(async () => {
  srv = await startServer();
  memory = new Engram({ baseUrl: srv.url }).memory({ contextId: "assistant" });
});
after(async () => srv && srv.stop());

test("healthz", async () => {
  assert.equal(typeof (await new Engram({ baseUrl: srv.url }).healthz()), "object");
});

test("sessions: create, open, get, refresh", async () => {
  const user = newUser();
  const s = await memory.sessions.create({ scope: { user }, metadata: { channel: "web" } });
  assert.ok(s instanceof Session);
  assert.match(s.id, /^ses_/);
  assert.deepEqual(s.scope, { user });
  assert.deepEqual(s.metadata, { channel: "web" });
  assert.equal(s.contextId, "assistant");
  assert.match(s.createdAt, /Z$/);
  assert.equal(s.turnCount, 0);
  await s.turn({ role: "user", content: "Hello there" });

  const again = memory.sessions.open(s.id); // no network
  assert.equal(again.scope, undefined);
  await again.refresh();
  assert.deepEqual(again.scope, { user });
  assert.equal(again.turnCount, 1);
  const got = await memory.sessions.get(s.id);
  assert.deepEqual(got.metadata, { channel: "web" });

  const byPath = await memory.sessions.create({ scope: `org/acme/user/${user}` });
  assert.deepEqual(byPath.scope, { org: "acme", user });
});

test("turns answer with their diff", async () => {
  const user = newUser();
  const s = await memory.sessions.create({ scope: { user } });
  const r = await s.turn({ role: "user", content: "I live in Berlin.", metadata: { source: "test" } });
  assert.ok(r.turn.id);
  assert.equal(r.turn.session_id, s.id);
  assert.deepEqual(r.turn.metadata, { source: "test" });
  assert.equal(r.queued, false);
  const added = r.diff.find((d) => d.key === "location");
  assert.equal(added.action, "added");
  assert.equal(added.value, "Berlin");
  assert.deepEqual(added.entity, ["Person", user]);

  const r2 = await s.turn({ role: "user", content: "I just moved from Berlin to London" });
  const upd = r2.diff.find((d) => d.key === "location");
  assert.equal(upd.action, "updated");
  assert.equal(upd.value, "London");
  assert.equal(upd.previous_value, "Berlin");

  const r3 = await s.turn({ role: "assistant", content: "Welcome!", createdAt: new Date("2024-11-15T10:23:00Z") });
  assert.match(r3.turn.created_at, /^2024-11-15T10:23:00/);

  const q = await s.turn({ role: "user", content: "I work at Acme Corp.", async: true });
  assert.equal(q.queued, true);

  const a = await s.turn({ role: "user", content: "I have a dog.", idempotencyKey: "k-" + user });
  const b = await s.turn({ role: "user", content: "I have a dog.", idempotencyKey: "k-" + user });
  assert.equal(a.turn.id, b.turn.id);
});

test("session-less turn, context and profile", async () => {
  const user = newUser();
  const r = await memory.turn({ scope: { user }, role: "user", content: "I work at Acme Corp as a backend engineer." });
  assert.ok(r.diff.some((d) => d.key === "employer"));
  const s = await memory.sessions.create({ scope: { user } });
  await s.turn({ role: "user", content: "I live in Berlin." });

  const ctx = await s.context({ query: "Where do I live?", topK: 5 });
  assert.ok(ctx.items.length > 0 && ctx.items.length <= 5);
  assert.match(ctx.formatted, /Berlin/);
  await s.turn({ role: "user", content: "I just moved from Berlin to London" });
  const it = ctx.items[0];
  assert.ok(["attribute", "turn"].includes(it.kind));
  assert.equal(typeof it.score, "number");
  assert.equal(typeof it.scores, "object");

  const ctx2 = await memory.context({ scope: { user }, query: "moved to London", maxTokens: 200 });
  assert.match(ctx2.formatted, /London/);
  assert.ok(ctx2.items.reduce((n, i) => n + i.tokens, 0) <= 200);
  const none = await memory.context({ scope: { user: "nobody" + user }, query: "zebra quantum" });
  assert.deepEqual(none, { items: [], formatted: "" });

  const p = await memory.profile({ scope: { user } });
  assert.match(p.summary, /London/);
  for (const c of ["identity", "knowledge", "context", "instructions", "unknowns"]) assert.ok(Array.isArray(p.attributes[c]));
  const loc = p.attributes.identity.find((a) => a.key === "location");
  assert.equal(loc.value, "London");
  assert.equal(loc.valid_until, null);
  const empty = await memory.profile({ scope: { user: "nobody" + user } });
  assert.equal(empty.summary, "");
});

test("attributes with chains, forget, audit", async () => {
  const user = newUser();
  const s = await memory.sessions.create({ scope: { user } });
  await s.turn({ role: "user", content: "I live in Berlin." });
  await s.turn({ role: "user", content: "I just moved from Berlin to London" });
  await s.turn({ role: "user", content: "I work at Acme Corp." });
  await s.turn({ role: "user", content: "I'm currently leading a migration from CommonJS to ESM." });

  const cur = await memory.attributes({ scope: { user } });
  const loc = cur.filter((a) => a.key === "location");
  assert.equal(loc.length, 1);
  assert.equal(loc[0].value, "London");
  assert.ok(loc[0].chain.some((c) => c.value === "Berlin"));
  const all = await memory.attributes({ scope: { user }, includeExpired: true });
  assert.ok(all.some((a) => a.key === "location" && a.value === "Berlin"));
  const byKey = await memory.attributes({ scope: { user }, key: "location" });
  assert.ok(byKey.length > 0 && byKey.every((a) => a.key === "location"));

  const dry = await memory.forget({ scope: { user }, entityType: "Person", entityName: user, attributeKey: "employer", dryRun: true });
  assert.equal(dry.dry_run, true);
  assert.ok(dry.expired >= 1);
  const f = await memory.forget({ scope: { user }, entityType: "Person", entityName: user, attributeKey: "employer" });
  assert.ok(f.expired >= 1);
  let p = await memory.profile({ scope: { user } });
  assert.ok(!p.attributes.identity.some((a) => a.key === "employer"));
  const fc = await memory.forget({ scope: { user }, category: "context" });
  assert.ok(fc.expired >= 1);
  p = await memory.profile({ scope: { user } });
  assert.deepEqual(p.attributes.context, []);

  const entries = await memory.audit({ scope: { user } });
  assert.ok(Array.isArray(entries) && entries.length > 0);
});

test("export, erase, import", async () => {
  const user = newUser();
  const s = await memory.sessions.create({ scope: { user } });
  await s.turn({ role: "user", content: "I live in Madrid." });
  await s.turn({ role: "assistant", content: "Nice city." });
  const text = await memory.export({ scope: { user } });
  const recs = text.split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l));
  const types = new Set(recs.map((r) => r.type));
  for (const t of ["session", "turn", "attribute"]) assert.ok(types.has(t), t);

  const counts = await memory.erase({ scope: { user } });
  assert.equal(typeof counts, "object");
  assert.equal((await memory.profile({ scope: { user } })).summary, "");
  await assert.rejects(memory.sessions.get(s.id), NotFound);

  await memory.import(text);
  assert.match((await memory.profile({ scope: { user } })).summary, /Madrid/);
  await memory.erase({ scope: { user } });
  await memory.import(recs);
  assert.match((await memory.profile({ scope: { user } })).summary, /Madrid/);
});

test("scope floor and context isolation", async () => {
  const user = newUser();
  const org = "o" + user;
  await memory.turn({ scope: { org }, role: "user", content: "I live in Oslo." });
  const bob = await memory.sessions.create({ scope: { org, user: "bob" } });
  await bob.turn({ role: "user", content: "I work at Initech." });
  const p = await memory.profile({ scope: { org, user } });
  const vals = Object.values(p.attributes).flat().map((a) => a.value);
  assert.ok(vals.includes("Oslo"));
  assert.ok(!vals.includes("Initech"));
  const other = new Engram({ baseUrl: srv.url }).memory({ contextId: "other_ctx" });
  assert.doesNotMatch((await other.profile({ scope: { org, user } })).summary, /Oslo/);
});
