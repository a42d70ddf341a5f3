#!/usr/bin/env python3
"""
crash_test.py - an acknowledged turn survives kill -9 of the server (standard library only).

Each round starts `engram serve` on a temporary SQLite file (the same file every round),
lets writer threads send single turns and batches with Idempotency-Keys, each to its own
scope and each turn carrying a unique word, kills the server with SIGKILL while they are
writing, restarts it on the same file, and then checks, through the HTTP API:

- every turn whose request was answered 200 before the kill is in the export of its scope;
- requests that were in flight at the kill, retried with the same key and body, are
  recorded exactly once (committed before the kill: the first answer; otherwise ingested
  now), and no turn is ever recorded twice;
- the full-text index agrees with the turns after recovery: every turn has exactly its
  full-text row (read from the file once the server is stopped), and a context query for a
  turn's unique word finds that turn (turns are indexed in the transaction that writes them);
- profile and attributes still answer for every scope.

When the kill lands is random; what is checked never depends on it. Deadlines only guard
against a hung server. Environment: ENGRAM_BIN (the built engram binary).
"""
import http.client
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time

BIN = os.environ.get("ENGRAM_BIN", "build/engram")
API = "/api/v1/crash"
GUARD = 60.0
WRITERS = 6
ROUNDS = 3

failures = []
checks = 0
lock = threading.Lock()


def check(cond, what):
    global checks
    with lock:
        checks += 1
        if not cond:
            print("FAIL: " + what, flush=True)
            failures.append(what)
    return cond


CONSONANTS = "bcdfghjklmnpqrstvwxz"  # no vowels, no y: Snowball leaves such words as they are


def word(n):
    """A unique word for n that stays unique after stemming (the tokenizer keeps letters
    together; stemming would merge e.g. '...zy' and '...zi')."""
    s = ""
    n += len(CONSONANTS) ** 2
    while n:
        n, r = divmod(n, len(CONSONANTS))
        s = CONSONANTS[r] + s
    return "zq" + s


def fts_consistent(db):
    """Every turn has exactly its full-text row: the rowids of the FTS5 docsize table (one
    row per indexed document) equal the turns' rids. Read with Python's own sqlite3; the
    server is stopped."""
    import sqlite3
    con = sqlite3.connect(db)
    try:
        turns = {r[0] for r in con.execute("SELECT rid FROM turns")}
        fts = {r[0] for r in con.execute("SELECT id FROM turns_fts2_docsize")}
        ok = con.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        con.close()
    return turns, fts, ok


class Server:
    def __init__(self, tmp, db, n):
        self.log_path = os.path.join(tmp, "server%d.log" % n)
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen([BIN, "--db", db, "serve", "--listen", "127.0.0.1:0",
                                          "--no-access-log"],
                                         stdout=subprocess.DEVNULL, stderr=log)
        self.port = None
        deadline = time.monotonic() + GUARD
        while self.port is None and time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("server exited %d:\n%s" % (self.proc.returncode, self.log()))
            for raw in self.log().splitlines():
                try:
                    line = json.loads(raw)
                except ValueError:
                    continue
                if line.get("msg") == "listening":
                    self.port = int(line["url"].rsplit(":", 1)[1])
            time.sleep(0.05)
        if self.port is None:
            raise RuntimeError("server did not start:\n" + self.log())

    def log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=GUARD)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=GUARD)


def post(port, path, body, key=None, conn=None):
    """(status, parsed body); raises OSError/HTTPException when the server is gone."""
    own = conn is None
    if own:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=GUARD)
    headers = {"Content-Type": "application/json"}
    if key:
        headers["Idempotency-Key"] = key
    try:
        conn.request("POST", API + path, body=json.dumps(body).encode(), headers=headers)
        r = conn.getresponse()
        data = r.read()
    finally:
        if own:
            conn.close()
    text = data.decode("utf-8", "replace")
    if path == "/export":
        return r.status, [json.loads(line) for line in text.splitlines() if line.strip()]
    return r.status, json.loads(text) if text else None


class Writer(threading.Thread):
    """Sends requests to one scope until the server dies; remembers what was acknowledged
    and the one request (if any) that was in flight when it died."""

    def __init__(self, port, idx, rnd, acked):
        super().__init__(daemon=True)
        self.port, self.idx, self.rnd, self.acked = port, idx, rnd, acked
        self.inflight = None
        self.seq = 0

    def request(self):
        n = random.choice([1, 1, 1, 5, 20])
        turns = []
        for _ in range(n):
            w = word((self.idx * 1000 + self.rnd) * 100000 + self.seq)
            self.seq += 1
            city = random.choice(["Paris", "Oslo", "Lima", "Accra", "Hanoi"])
            turns.append({"role": random.choice(["user", "user", "assistant"]),
                          "content": "I live in %s now, remember %s." % (city, w),
                          "_word": w})
        body_turns = [{"role": t["role"], "content": t["content"]} for t in turns]
        scope = {"user": "crash%d" % self.idx}
        body = ({"scope": scope, "turns": body_turns} if n > 1 else
                dict(scope=scope, **body_turns[0]))
        key = "w%d-r%d-%d" % (self.idx, self.rnd, self.seq)
        return key, body, [t["_word"] for t in turns]

    def run(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=GUARD)
        while True:
            key, body, words = self.request()
            try:
                status, answer = post(self.port, "/turns", body, key, conn)
            except (OSError, http.client.HTTPException, ValueError):
                self.inflight = (key, body, words)
                return
            if not check(status == 200, "ingest answered %d: %r" % (status, answer)):
                return
            got = answer["turns"] if "turns" in body else [answer]
            with lock:
                for w, t in zip(words, got):
                    self.acked[w] = (self.idx, t["turn"]["id"])


def verify(port, acked, rnd):
    by_scope = {}
    for idx in range(WRITERS):
        status, lines = post(port, "/export", {"scope": {"user": "crash%d" % idx}})
        check(status == 200, "export of crash%d answered %d" % (idx, status))
        by_scope[idx] = [l for l in lines if l.get("type") == "turn"]
    ids = {t["id"] for turns in by_scope.values() for t in turns}
    missing = [w for w, (_, tid) in acked.items() if tid not in ids]
    check(not missing, "round %d: %d acknowledged turns lost after kill -9 (e.g. %s)"
          % (rnd, len(missing), missing[:3]))
    seen = {}
    for turns in by_scope.values():
        for t in turns:
            w = t["content"].rsplit(" ", 1)[-1].rstrip(".")
            seen[w] = seen.get(w, 0) + 1
    dup = [w for w, c in seen.items() if c > 1]
    check(not dup, "round %d: turns recorded twice: %s" % (rnd, dup[:3]))
    # The full-text index survived with the turns: find sampled turns by their word.
    sample = random.sample(sorted(acked), min(12, len(acked)))
    for w in sample:
        idx, tid = acked[w]
        status, ctx = post(port, "/context", {"scope": {"user": "crash%d" % idx},
                                               "query": w, "top_k": 5})
        found = status == 200 and any(it.get("id") == tid for it in ctx["items"])
        check(found, "round %d: context for '%s' does not find turn %s: %r"
              % (rnd, w, tid, ctx if status != 200 else [i["id"] for i in ctx["items"]]))
    for idx in range(WRITERS):
        status, prof = post(port, "/profile", {"scope": {"user": "crash%d" % idx}})
        check(status == 200 and "summary" in prof, "profile of crash%d after recovery" % idx)
    return seen


def main():
    random.seed(os.environ.get("CRASH_SEED", time.time()))
    with tempfile.TemporaryDirectory(prefix="engram-crash-") as tmp:
        db = os.path.join(tmp, "crash.db")
        acked = {}
        for rnd in range(ROUNDS):
            srv = Server(tmp, db, 2 * rnd)
            writers = [Writer(srv.port, i, rnd, acked) for i in range(WRITERS)]
            for w in writers:
                w.start()
            # Kill once some turns of this round are acknowledged, at a random moment.
            before = len(acked)
            deadline = time.monotonic() + GUARD
            while len(acked) < before + 50 and time.monotonic() < deadline:
                time.sleep(0.01)
            time.sleep(random.uniform(0.0, 0.3))
            srv.kill()
            for w in writers:
                w.join(timeout=GUARD)
            srv = Server(tmp, db, 2 * rnd + 1)
            # Retry what was in flight, with the same key and body: exactly once either way.
            retried = []
            for w in writers:
                if w.inflight:
                    key, body, words = w.inflight
                    status, answer = post(srv.port, "/turns", body, key)
                    if check(status == 200, "retry after restart answered %d: %r"
                             % (status, answer)):
                        got = answer["turns"] if "turns" in body else [answer]
                        for word_, t in zip(words, got):
                            acked[word_] = (w.idx, t["turn"]["id"])
                            retried.append(word_)
            seen = verify(srv.port, acked, rnd)
            for word_ in retried:
                check(seen.get(word_) == 1, "round %d: retried turn '%s' recorded %d times"
                      % (rnd, word_, seen.get(word_, 0)))
            check(srv.stop() == 0, "server exits cleanly after recovery:\n" + srv.log()[-2000:])
            turns, fts, ok = fts_consistent(db)
            check(ok == "ok", "round %d: integrity_check: %s" % (rnd, ok))
            check(turns == fts, "round %d: %d turns without full-text rows, %d rows without turns"
                  % (rnd, len(turns - fts), len(fts - turns)))
            print("round %d: %d turns acknowledged so far, %d retried after the kill"
                  % (rnd, len(acked), len(retried)), flush=True)
    print("%d checks, %d failures" % (checks, len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
