#!/usr/bin/env python3
"""
embed_test.py - the optional OpenAI-compatible /v1/embeddings provider, end to end.

A fake provider (standard library HTTP server) embeds text into a small space where words
of one topic share a dimension, so "recommend a restaurant for dinner" lands near "I'm
allergic to shellfish" although they share no word. `engram serve` runs with
ENGRAM_EMBED_URL pointing at it and no offline data files (ENGRAM_DATA is an empty
directory), so only the provider can connect such texts. Checks:

- ingest embeds each turn and extracted value, and does so on the callers' threads: with
  several writers and a slow provider, the provider sees overlapping requests (a provider
  call made under the write lock would serialise them all);
- a context query sharing no word with the memories finds them, with `scores.embedding`;
- a provider that changes its dimension, or is down, never costs a turn: ingest still
  answers 200 and context still answers.

Deadlines only guard against hangs. Environment: ENGRAM_BIN.
"""
import http.client
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

BIN = os.environ.get("ENGRAM_BIN", "build/engram")
API = "/api/v1/emb"
GUARD = 60.0

TOPICS = [
    {"restaurant", "dinner", "food", "italian", "pasta", "shellfish", "allergic", "eat",
     "lunch", "cook", "meal"},
    {"dog", "cat", "pet", "puppy", "vet"},
    {"flight", "trip", "travel", "holiday", "hotel"},
    {"meeting", "tuesday", "calendar", "schedule"},
    {"laptop", "battery", "computer", "charger"},
]

failures = []
checks = 0


def check(cond, what):
    global checks
    checks += 1
    if not cond:
        print("FAIL: " + what, flush=True)
        failures.append(what)
    return cond


class Provider:
    """state shared with the handler: dimension, delay, counters."""
    dim = 16
    delay = 0.0
    calls = 0
    inflight = 0
    max_inflight = 0
    lock = threading.Lock()


def embed(text, dim):
    v = [0.0] * dim
    for w in "".join(c.lower() if c.isalnum() else " " for c in text).split():
        for i, topic in enumerate(TOPICS):
            if w in topic or w.rstrip("s") in topic:
                v[i] += 1.0
        v[len(TOPICS) + hash(w) % (dim - len(TOPICS))] += 0.05
    if not any(v):
        v[-1] = 1.0
    return v


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_POST(self):
        with Provider.lock:
            Provider.calls += 1
            Provider.inflight += 1
            Provider.max_inflight = max(Provider.max_inflight, Provider.inflight)
        try:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            time.sleep(Provider.delay)
            ok = self.path.endswith("/v1/embeddings") and isinstance(body.get("input"), str)
            data = json.dumps({"object": "list", "model": body.get("model"),
                               "data": [{"object": "embedding", "index": 0,
                                         "embedding": embed(body["input"], Provider.dim)}]})
            self.send_response(200 if ok else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data.encode())
        finally:
            with Provider.lock:
                Provider.inflight -= 1


def start_server(tmp, db, env):
    log_path = os.path.join(tmp, "serve.log")
    log = open(log_path, "wb")
    proc = subprocess.Popen([BIN, "--db", db, "serve", "--listen", "127.0.0.1:0",
                             "--no-access-log"], stdout=subprocess.DEVNULL, stderr=log, env=env)
    deadline = time.monotonic() + GUARD
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("server exited:\n" + open(log_path).read())
        for raw in open(log_path, "rb").read().decode("utf-8", "replace").splitlines():
            try:
                line = json.loads(raw)
            except ValueError:
                continue
            if line.get("msg") == "listening":
                return proc, int(line["url"].rsplit(":", 1)[1]), log_path
        time.sleep(0.05)
    raise RuntimeError("server did not start")


def post(port, path, body):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=GUARD)
    try:
        conn.request("POST", API + path, body=json.dumps(body),
                     headers={"Content-Type": "application/json"})
        r = conn.getresponse()
        return r.status, json.loads(r.read() or b"null")
    finally:
        conn.close()


def main():
    provider = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=provider.serve_forever, daemon=True).start()
    with tempfile.TemporaryDirectory(prefix="engram-embed-") as tmp:
        empty = os.path.join(tmp, "nodata")
        os.mkdir(empty)
        env = dict(os.environ, ENGRAM_DATA=empty,
                   ENGRAM_EMBED_URL="http://127.0.0.1:%d/v1" % provider.server_port,
                   ENGRAM_EMBED_MODEL="fake-topics")
        env.pop("ENGRAM_EMBED_DIM", None)
        proc, port, log_path = start_server(tmp, os.path.join(tmp, "emb.db"), env)
        try:
            # Concurrent writers against a slow provider: calls must overlap.
            Provider.delay = 0.15
            statuses = []

            def writer(i):
                st, _ = post(port, "/turns", {"scope": {"user": "w%d" % i}, "role": "user",
                                              "content": "The meeting moved to Tuesday"})
                statuses.append(st)

            ts = [threading.Thread(target=writer, args=(i,)) for i in range(6)]
            for t in ts:
                t.start()
            for t in ts:
                t.join(GUARD)
            check(statuses == [200] * 6, "concurrent ingest answered %r" % statuses)
            check(Provider.max_inflight >= 2,
                  "provider calls overlap across writers (max in flight %d): embeddings are "
                  "made outside the write lock" % Provider.max_inflight)
            Provider.delay = 0.0

            calls = Provider.calls
            scope = {"user": "alice"}
            st, ans = post(port, "/turns", {"scope": scope, "turns": [
                {"role": "user", "content": "I'm allergic to shellfish"},
                {"role": "user", "content": "I love Italian pasta"},
                {"role": "user", "content": "My laptop battery died again"},
                {"role": "assistant", "content": "Sorry to hear about the laptop"}]})
            check(st == 200 and len(ans["turns"]) == 4, "batch ingest: %d %r" % (st, ans))
            check(Provider.calls - calls >= 4, "every turn was embedded (%d calls)"
                  % (Provider.calls - calls))
            st, ctx = post(port, "/context", {"scope": scope,
                                              "query": "recommend a restaurant for dinner"})
            texts = " ".join(i["text"] for i in ctx.get("items", [])) if st == 200 else ""
            check(st == 200 and ("shellfish" in texts or "pasta" in texts),
                  "a query sharing no word finds the food memories: %d %r" % (st, ctx))
            emb = [i["scores"].get("embedding", 0) for i in ctx.get("items", [])
                   if "shellfish" in i["text"] or "pasta" in i["text"]]
            check(emb and max(emb) > 0, "items carry scores.embedding: %r" % emb)

            # The provider changes its dimension: refused, logged, and the turn is kept.
            Provider.dim = 24
            st, ans = post(port, "/turns", {"scope": scope, "role": "user",
                                            "content": "I have a dog called Rex"})
            check(st == 200 and ans["turn"]["id"].startswith("turn_"),
                  "a provider dimension change does not lose the turn: %d %r" % (st, ans))
            # The provider is down: same.
            provider.shutdown()
            provider.server_close()
            st, ans = post(port, "/turns", {"scope": scope, "role": "user",
                                            "content": "I live in Lisbon"})
            check(st == 200, "a provider that is down does not lose the turn: %d %r" % (st, ans))
            st, ctx = post(port, "/context", {"scope": scope, "query": "where do I live"})
            check(st == 200, "context answers with the provider down: %d %r" % (st, ctx))
            st, prof = post(port, "/profile", {"scope": scope})
            check(st == 200 and "Lisbon" in prof["summary"], "profile: %d %r" % (st, prof))
        finally:
            proc.terminate()
            rc = proc.wait(GUARD)
        log = open(log_path, "rb").read().decode("utf-8", "replace")
        check(rc == 0, "server exits cleanly: %d\n%s" % (rc, log[-2000:]))
        check("dimension" in log, "the dimension change is logged:\n" + log[-2000:])
    print("%d checks, %d failures" % (checks, len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
