#!/usr/bin/env python3
"""
http_test.py - drive a real `engram serve` over HTTP (standard library only).

Starts the server on a free loopback port (--listen 127.0.0.1:0; the bound URL is read
from the server's "listening" log line) with a temporary SQLite file, then exercises every
route of DESIGN.md section 4 and every error the server owns: 400 (malformed JSON, invalid
fields), 401/403 (keys, grants, contexts, scope floors), 404, 405 (+Allow), 413, 415, 429,
X-Request-Id, Idempotency-Key, batched ingest, /metrics, /healthz, the JSON access log,
the loopback rule, keys created and revoked while the server runs, and a draining SIGTERM.
Assertions are about behaviour only; the deadlines below exist so
that a hung server fails the test instead of hanging ctest, and never decide a pass.

Environment: ENGRAM_BIN (the built engram binary). Exit status 0 when every check passed.
"""
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

BIN = os.environ.get("ENGRAM_BIN", "build/engram")
CTX = "assistant"
API = "/api/v1/" + CTX
GUARD = 60.0  # seconds: only ever a hang guard
# Extra serve options for every server, e.g. ENGRAM_HTTP_SERVE_ARGS="--threads 4" to run
# the same checks against MHD's epoll thread pool instead of thread-per-connection.
EXTRA = os.environ.get("ENGRAM_HTTP_SERVE_ARGS", "").split()

failures = []
checks = 0


def check(cond, what, detail=None):
    global checks
    checks += 1
    if cond:
        return True
    msg = "FAIL: " + what
    if detail is not None:
        msg += "\n      got: " + (detail if isinstance(detail, str) else repr(detail))[:600]
    print(msg, flush=True)
    failures.append(what)
    return False


class Resp:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def json(self):
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    def __repr__(self):
        return "%d %s" % (self.status, self.body[:400])


class Server:
    """One `engram serve` process, its log file and a keep-alive client connection."""

    def __init__(self, tmp, db, *args, name="server"):
        self.log_path = os.path.join(tmp, name + ".log")
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [BIN, "--db", db, "serve", "--listen", "127.0.0.1:0"] + list(args) + EXTRA,
            stdout=subprocess.DEVNULL, stderr=self.log)
        self.host, self.port = None, None
        deadline = time.monotonic() + GUARD
        while time.monotonic() < deadline and self.port is None:
            if self.proc.poll() is not None:
                raise RuntimeError("server exited with %d:\n%s" % (self.proc.returncode,
                                                                   self.log_text()))
            for line in self.log_lines():
                if line.get("msg") == "listening":
                    url = line["url"]
                    hostport = url.split("//", 1)[1]
                    self.host, port = hostport.rsplit(":", 1)
                    self.port = int(port)
            time.sleep(0.05)
        if self.port is None:
            raise RuntimeError("server did not report listening:\n" + self.log_text())
        self.conn = None
        # /healthz must answer before anything else is tried.
        while time.monotonic() < deadline:
            try:
                if self.request("GET", "/healthz").status == 200:
                    break
            except OSError:
                time.sleep(0.05)

    def log_text(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def log_lines(self):
        out = []
        for raw in self.log_text().splitlines():
            try:
                out.append(json.loads(raw))
            except ValueError:
                out.append({"_raw": raw})
        return out

    def request(self, method, path, body=None, headers=None, key=None, ctype="application/json"):
        hdrs = dict(headers or {})
        if body is not None and not isinstance(body, (bytes, str)):
            body = json.dumps(body)
        if isinstance(body, str):
            body = body.encode()
        if body is not None and ctype is not None and "Content-Type" not in hdrs:
            hdrs["Content-Type"] = ctype
        if key:
            hdrs["Authorization"] = "Bearer " + key
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=GUARD)
            try:
                self.conn.request(method, path, body=body, headers=hdrs)
                r = self.conn.getresponse()
                data = r.read()
                resp = Resp(r.status, r.getheaders(), data)
                if (resp.header("Connection") or "").lower() == "close":
                    self.conn.close()
                    self.conn = None
                return resp
            except (ConnectionError, http.client.HTTPException):
                # A keep-alive connection the server closed (after a 413, say): reconnect.
                self.conn.close()
                self.conn = None
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def raw(self, data):
        """A raw socket that has sent `data` and not read anything yet."""
        s = socket.create_connection((self.host, self.port), timeout=GUARD)
        s.sendall(data)
        return s

    def stop(self, sig=signal.SIGTERM):
        if self.conn:
            self.conn.close()
            self.conn = None
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=GUARD)
        finally:
            self.log.close()


def read_http(sock):
    """Read one HTTP response from a raw socket: (status, headers dict, body bytes)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    if not lines or not lines[0].startswith("HTTP/"):
        return 0, {}, data
    status = int(lines[0].split()[1])
    hdrs = {}
    for l in lines[1:]:
        k, _, v = l.partition(":")
        hdrs[k.strip().lower()] = v.strip()
    n = int(hdrs.get("content-length", "0"))
    while len(body) < n:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return status, hdrs, body


def cli(db, *args):
    p = subprocess.run([BIN, "--db", db] + list(args), capture_output=True, timeout=GUARD)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def is_error(r, status, code=None):
    """An error answer: the status, X-Request-Id, and {"error":{"code","message"}}."""
    j = r.json()
    ok = (r.status == status and isinstance(j, dict) and isinstance(j.get("error"), dict)
          and isinstance(j["error"].get("code"), str) and isinstance(j["error"].get("message"), str)
          and j["error"]["message"] != "" and bool(r.header("X-Request-Id")))
    if ok and code is not None:
        ok = j["error"]["code"] == code
    return ok


# --------------------------------------------------------------------------------------
# Phase A: no keys. Every route and every error the server owns.
# --------------------------------------------------------------------------------------

def phase_routes(tmp):
    db = os.path.join(tmp, "a.db")
    s = Server(tmp, db, "--max-body", "65536", "--max-inflight", "2", name="a")
    try:
        r = s.request("GET", "/healthz")
        check(r.status == 200 and (r.json() or {}).get("status") == "ok", "healthz 200 ok", r)
        check(bool(r.header("X-Request-Id")), "healthz has X-Request-Id")
        r = s.request("GET", "/healthz", headers={"X-Request-Id": "client-id_1.2:3"})
        check(r.header("X-Request-Id") == "client-id_1.2:3", "sane X-Request-Id is echoed",
              r.header("X-Request-Id"))
        r = s.request("GET", "/healthz", headers={"X-Request-Id": "bad id\twith junk"})
        rid = r.header("X-Request-Id") or ""
        check(rid and rid != "bad id\twith junk" and " " not in rid,
              "insane X-Request-Id is replaced", rid)

        # Sessions and session turns.
        r = s.request("POST", API + "/sessions",
                      {"scope": {"user": "alice"}, "metadata": {"app": "test"}})
        sess = r.json() or {}
        check(r.status == 200 and isinstance(sess.get("id"), str), "POST /sessions", r)
        sid = sess.get("id", "missing")
        r = s.request("POST", API + "/sessions/%s/turns" % sid,
                      {"role": "user", "content": "I live in London and I work at Acme Corp."})
        j = r.json() or {}
        check(r.status == 200 and "turn" in j and isinstance(j.get("diff"), list),
              "POST /sessions/{id}/turns answers {turn, diff}", r)
        r = s.request("POST", API + "/sessions/%s/turns" % sid,
                      {"role": "user", "content": "I prefer TypeScript over JavaScript."})
        check(r.status == 200, "second session turn", r)
        r = s.request("GET", API + "/sessions/" + sid)
        j = r.json() or {}
        check(r.status == 200 and j.get("id") == sid and j.get("turn_count") == 2,
              "GET /sessions/{id} with turn_count 2", r)
        r = s.request("GET", API + "/sessions/no-such-session")
        check(is_error(r, 404), "GET unknown session is 404", r)
        r = s.request("GET", "/api/v1/elsewhere/sessions/" + sid)
        check(is_error(r, 404), "a session is not found under another context", r)
        t1 = s.request("POST", API + "/sessions/%s/turns" % sid,
                       {"role": "user", "content": "I have a dog named Rex."},
                       headers={"Idempotency-Key": "sess-k-1"})
        t2 = s.request("POST", API + "/sessions/%s/turns" % sid,
                       {"role": "user", "content": "I have a dog named Rex."},
                       headers={"Idempotency-Key": "sess-k-1"})
        check(t1.status == 200 and t2.status == 200
              and (t1.json() or {}).get("turn") == (t2.json() or {}).get("turn"),
              "Idempotency-Key on a session turn returns the first turn", (t1, t2))
        r = s.request("POST", API + "/sessions/no-such-session/turns",
                      {"role": "user", "content": "hello"})
        check(is_error(r, 404), "turn on unknown session is 404", r)
        r = s.request("POST", API + "/sessions/%s/context" % sid, {"query": "where do I live"})
        j = r.json() or {}
        check(r.status == 200 and isinstance(j.get("items"), list)
              and isinstance(j.get("formatted"), str),
              "POST /sessions/{id}/context answers {items, formatted}", r)

        # Session-less turns, with Idempotency-Key.
        body = {"scope": "user/bob", "role": "user", "content": "My name is Bob and I live in Paris."}
        r1 = s.request("POST", API + "/turns", body, headers={"Idempotency-Key": "k-1"})
        r2 = s.request("POST", API + "/turns", body, headers={"Idempotency-Key": "k-1"})
        j1, j2 = r1.json() or {}, r2.json() or {}
        check(r1.status == 200 and "turn" in j1 and isinstance(j1.get("diff"), list),
              "POST /turns answers {turn, diff}", r1)
        check(r2.status == 200 and j1.get("turn") == j2.get("turn"),
              "Idempotency-Key retry returns the first turn", (r1, r2))
        r3 = s.request("POST", API + "/turns", dict(body, content="Something else entirely."),
                       headers={"Idempotency-Key": "k-1"})
        check(is_error(r3, 409), "Idempotency-Key reused with another body is 409", r3)
        r = s.request("POST", API + "/turns", body, headers={"Idempotency-Key": "x" * 300})
        check(is_error(r, 400), "overlong Idempotency-Key is 400", r)

        phase_batches(s, sid)

        # Reads.
        r = s.request("POST", API + "/context", {"scope": "user/alice", "query": "London",
                                                  "top_k": 5, "max_tokens": 200})
        j = r.json() or {}
        check(r.status == 200 and isinstance(j.get("items"), list)
              and isinstance(j.get("formatted"), str), "POST /context", r)
        r = s.request("POST", API + "/profile", {"scope": {"user": "alice"}})
        j = r.json() or {}
        check(r.status == 200 and isinstance(j.get("summary"), str) and "attributes" in j,
              "POST /profile answers {summary, attributes}", r)
        check("London" in r.body.decode(), "profile reflects the ingested turn (London)", r)
        r = s.request("POST", API + "/context", {"scope": "user/alice", "query": "where do I live"})
        check(r.status == 200 and "London" in (r.json() or {}).get("formatted", ""),
              "context finds the ingested turn", r)
        r = s.request("POST", API + "/attributes", {"scope": "user/alice", "include_expired": True})
        j = r.json() or {}
        check(r.status == 200 and isinstance(j.get("attributes"), list), "POST /attributes", r)
        r = s.request("POST", API + "/forget", {"scope": "user/alice", "category": "identity",
                                                 "dry_run": True})
        j = r.json() or {}
        check(r.status == 200 and isinstance(j.get("expired"), int) and j.get("dry_run") is True
              and isinstance(j.get("attributes"), list), "POST /forget dry_run", r)
        r = s.request("GET", API + "/audit?scope=user/alice")
        j = r.json() or {}
        check(r.status == 200 and isinstance(j.get("entries"), list), "GET /audit?scope=", r)
        r = s.request("GET", API + "/audit?scope=user/alice&limit=zero")
        check(is_error(r, 400), "GET /audit with a bad limit is 400", r)

        # Export, erase, import back (ids are kept, so the same data cannot be imported
        # twice), export again.
        for text in ("My name is Zed and I live in Oslo.", "I work at Globex."):
            r = s.request("POST", "/api/v1/copy/turns",
                          {"scope": "user/zed", "role": "user", "content": text})
            check(r.status == 200, "turn into context copy", r)
        r = s.request("POST", "/api/v1/copy/export", {"scope": "user/zed"})
        lines = [l for l in r.body.decode().split("\n") if l]
        parsed = []
        for l in lines:
            try:
                parsed.append(json.loads(l))
            except ValueError:
                parsed.append(None)
        check(r.status == 200 and (r.header("Content-Type") or "").startswith("application/x-ndjson")
              and len(lines) >= 2 and all(isinstance(p, dict) and "type" in p for p in parsed),
              "POST /export answers JSON Lines", r)
        exported = r.body
        r = s.request("POST", "/api/v1/copy/erase", {"scope": "user/zed"})
        check(r.status == 200 and isinstance(r.json(), dict), "POST /erase", r)
        r = s.request("POST", "/api/v1/copy/export", {"scope": "user/zed"})
        check(r.status == 200 and len([l for l in r.body.split(b"\n") if l]) < len(lines),
              "erase removed the scope's data", r)
        r = s.request("POST", "/api/v1/copy/import", exported, ctype="application/x-ndjson")
        check(r.status == 200 and isinstance(r.json(), dict), "POST /import (x-ndjson)", r)
        r = s.request("POST", "/api/v1/copy/export", {"scope": "user/zed"})
        # The audit log gains erase's tombstone, so compare everything but audit lines.
        def memory_ids(body):
            out = set()
            for l in body.decode().split("\n"):
                if l:
                    j = json.loads(l)
                    if j.get("type") != "audit":
                        out.add((j.get("type"), j.get("id")))
            return out
        check(r.status == 200 and memory_ids(r.body) == memory_ids(exported)
              and len(memory_ids(exported)) >= 2,
              "export after import holds the same sessions, turns and attributes", r)
        r = s.request("POST", "/api/v1/copy/import", exported, ctype="application/jsonl")
        check(is_error(r, 409), "importing the same ids again is 409 (application/jsonl accepted)", r)
        r = s.request("POST", "/api/v1/copy/import", "not json\n", ctype="application/x-ndjson")
        check(is_error(r, 400), "POST /import of garbage is 400", r)
        r = s.request("POST", "/api/v1/copy/import", exported, ctype="text/csv")
        check(is_error(r, 415, "unsupported_media_type"), "POST /import as text/csv is 415", r)
        r = s.request("POST", API + "/export", {"scope": "user/alice"})
        check(r.status == 200 and len(r.body) > 0, "export of user/alice", r)

        # Errors the server owns.
        r = s.request("POST", API + "/profile", '{"scope": ')
        check(is_error(r, 400, "invalid_json") and "JSON" in r.json()["error"]["message"],
              "malformed JSON is 400 and says so", r)
        r = s.request("POST", API + "/profile", "[1, 2]")
        check(is_error(r, 400, "invalid_json"), "a JSON array body is 400", r)
        r = s.request("POST", API + "/profile", "")
        check(is_error(r, 400), "an empty body is 400", r)
        r = s.request("POST", API + "/profile", b'{"scope": "user/alice"}\x00junk')
        check(is_error(r, 400, "invalid_json"), "a body with a NUL byte is 400", r)
        r = s.request("POST", API + "/profile", {"scope": "user/UPPER/bad/"})
        check(is_error(r, 400), "an invalid scope is 400 (library names it)", r)
        r = s.request("POST", API + "/context", {"scope": "user/alice"})
        check(is_error(r, 400), "a missing query is 400", r)
        r = s.request("POST", API + "/profile", {"scope": "user/alice"}, ctype="text/plain")
        check(is_error(r, 415, "unsupported_media_type"), "text/plain is 415", r)
        r = s.request("POST", API + "/profile", {"scope": "user/alice"},
                      ctype="application/json; charset=utf-8")
        check(r.status == 200, "application/json with a charset is accepted", r)
        r = s.request("GET", "/api/v1/assistant/nothing-here")
        check(is_error(r, 404, "not_found"), "unknown route is 404", r)
        r = s.request("GET", "/nope")
        check(is_error(r, 404), "unknown top-level path is 404", r)
        r = s.request("GET", API + "/profile")
        check(is_error(r, 405) and r.header("Allow") == "POST", "GET /profile is 405 Allow: POST", r)
        r = s.request("DELETE", API + "/sessions/" + sid)
        check(is_error(r, 405) and r.header("Allow") == "GET, HEAD",
              "DELETE session is 405 Allow: GET, HEAD", r)
        r = s.request("POST", API + "/audit", {"scope": "user/alice"})
        check(is_error(r, 405) and r.header("Allow") == "GET, HEAD", "POST /audit is 405", r)
        r = s.request("HEAD", "/healthz")
        check(r.status == 200 and r.body == b"", "HEAD /healthz is 200 without a body", r)

        # 413: a declared Content-Length over the limit is refused before the body...
        sk = s.raw(("POST %s/profile HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    "Content-Length: 10000000\r\n\r\n" % API).encode())
        st, hd, bd = read_http(sk)
        sk.close()
        check(st == 413 and b"too_large" in bd and "x-request-id" in hd,
              "Content-Length over the limit is 413", (st, bd))
        # ...and a chunked body that grows past it is read, dropped and refused.
        big = json.dumps({"scope": "user/alice", "pad": "x" * 70000})
        conn = http.client.HTTPConnection(s.host, s.port, timeout=GUARD)
        conn.request("POST", API + "/profile", body=iter([big[:30000].encode(),
                                                          big[30000:].encode()]),
                     headers={"Content-Type": "application/json"}, encode_chunked=True)
        rr = conn.getresponse()
        body413 = rr.read()
        conn.close()
        check(rr.status == 413 and b"too_large" in body413, "chunked body over the limit is 413",
              (rr.status, body413))
        # ...and a moderately oversized body with its length declared is read and dropped
        # before the 413, so a client still sending gets the answer, not a broken pipe.
        conn = http.client.HTTPConnection(s.host, s.port, timeout=GUARD)
        conn.request("POST", API + "/profile", body=b"x" * 3000000,
                     headers={"Content-Type": "application/json"})
        rr = conn.getresponse()
        body413 = rr.read()
        conn.close()
        check(rr.status == 413 and b"too_large" in body413,
              "a 3 MB body with Content-Length is answered 413", (rr.status, body413))
        r = s.request("POST", API + "/profile", {"scope": "user/alice", "pad": "x" * 60000})
        check(r.status == 200, "a body under the limit is fine", r)

        # 429: two requests held open mid-body fill --max-inflight 2; the next is refused.
        # A slot is released when MHD reports a request complete, which can come just
        # after the client has read its answer, so each step waits for the gauge.
        def wait_inflight(n):
            deadline = time.monotonic() + GUARD
            while time.monotonic() < deadline:
                m = s.request("GET", "/metrics").body.decode()
                if "engram_http_inflight_requests %d\n" % n in m:
                    return True
                time.sleep(0.02)
            return False
        check(wait_inflight(0), "nothing in flight before the 429 check")
        held = []
        for n in (1, 2):
            held.append(s.raw(("POST %s/profile HTTP/1.1\r\nHost: x\r\n"
                               "Content-Type: application/json\r\nContent-Length: 30\r\n\r\n{"
                               % API).encode()))
            check(wait_inflight(n), "held request %d is in flight" % n)
        got429, seen = None, []
        deadline = time.monotonic() + GUARD
        for _ in range(3):
            r = s.request("POST", API + "/profile", {"scope": "user/alice"})
            seen.append(r)
            if r.status == 429:
                got429 = r
                break
        check(got429 is not None and is_error(got429, 429, "overloaded")
              and got429.header("Retry-After") is not None, "over --max-inflight is 429",
              got429 or seen[-10:])
        r = s.request("GET", "/healthz")
        check(r.status == 200, "healthz still answers under overload", r)
        # Finish one held request: it is answered normally.
        held[0].sendall(b'"scope":"user/alice"}'.ljust(29))
        st, _, bd = read_http(held[0])
        check(st == 200, "a held request completes once its body arrives", (st, bd))
        for h in held:
            h.close()
        ok = False
        while time.monotonic() < deadline:
            r = s.request("POST", API + "/profile", {"scope": "user/alice"})
            if r.status == 200:
                ok = True
                break
            time.sleep(0.02)  # slots are released as MHD notices the closed sockets
        check(ok, "requests are admitted again after the held ones finish")

        # /metrics.
        r = s.request("GET", "/metrics")
        text = r.body.decode()
        check(r.status == 200 and (r.header("Content-Type") or "").startswith("text/plain"),
              "GET /metrics is text/plain", r)
        for needle in ['engram_http_requests_total{route="sessions",status="200"}',
                       'engram_http_requests_total{route="profile",status="413"}',
                       'engram_http_requests_total{route="profile",status="429"}',
                       'engram_http_request_duration_seconds_bucket{route="profile",le="+Inf"}',
                       'engram_http_request_duration_seconds_count{route="context"}',
                       "engram_http_inflight_requests", "engram_store_turns",
                       "engram_queue_jobs_pending"]:
            check(needle in text, "metrics has " + needle)

        # The access log: one JSON line per request with the required fields.
        marker = "log-marker-42"
        s.request("GET", "/healthz", headers={"X-Request-Id": marker})
        s.request("GET", "/nope")
        deadline = time.monotonic() + GUARD
        found = None
        while time.monotonic() < deadline and not found:
            found = [l for l in s.log_lines() if l.get("request_id") == marker]
            if not found:
                time.sleep(0.05)
        check(bool(found) and all(k in found[0] for k in ("ts", "request_id", "method", "path",
                                                          "status", "ms"))
              and found[0]["status"] == 200 and found[0]["path"] == "/healthz",
              "access log line has ts, request_id, method, path, status, ms", found)
        bad = [l for l in s.log_lines() if "_raw" in l]
        check(not bad, "every stderr line is JSON", bad[:3])

        # Draining shutdown: a request mid-body when SIGTERM lands is still answered.
        held = s.raw(("POST %s/profile HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                      "Content-Length: 22\r\n\r\n{" % API).encode())
        deadline = time.monotonic() + GUARD
        while time.monotonic() < deadline:  # wait until the server has the request
            m = s.request("GET", "/metrics").body.decode()
            if "engram_http_inflight_requests 1" in m:
                break
            time.sleep(0.02)
        s.conn.close()
        s.conn = None
        s.proc.send_signal(signal.SIGTERM)
        while time.monotonic() < deadline:
            if any(l.get("msg") == "draining" for l in s.log_lines()):
                break
            time.sleep(0.02)
        try:
            c2 = socket.create_connection((s.host, s.port), timeout=2)
            c2.close()
            refused = False
        except OSError:
            refused = True
        check(refused, "no new connections while draining")
        held.sendall(b'"scope":"user/alice"}')
        st, hd, bd = read_http(held)
        held.close()
        check(st == 200, "in-flight request is answered during drain", (st, bd))
        rc = s.proc.wait(timeout=GUARD)
        check(rc == 0, "SIGTERM exits 0", rc)
        check(any(l.get("msg") == "stopped" for l in s.log_lines()), "server logged 'stopped'")
    finally:
        if s.proc.poll() is None:
            s.proc.kill()
            s.proc.wait()
    return db


def turn_lines(s, ctx_api, scope):
    """The turns an export of `scope` holds, as parsed JSON Lines."""
    r = s.request("POST", ctx_api + "/export", {"scope": scope})
    out = []
    for l in r.body.decode().split("\n"):
        if l:
            j = json.loads(l)
            if j.get("type") == "turn":
                out.append(j)
    return out


def phase_batches(s, sid):
    """Batched ingest: {"turns": [...]} on /turns and on a session's /turns."""
    texts = ["I live in Madrid.", "I work at Initech as an engineer.",
             "My favourite language is Go."]
    batch = {"scope": "user/batch", "turns": [{"role": "user", "content": t} for t in texts]}
    r = s.request("POST", API + "/turns", batch)
    j = r.json() or {}
    items = j.get("turns") if isinstance(j.get("turns"), list) else []
    check(r.status == 200 and len(items) == 3
          and all(isinstance(i, dict) and "turn" in i and isinstance(i.get("diff"), list)
                  and i.get("queued") is False for i in items),
          "a batch of 3 turns answers {turns: [{turn, diff, queued: false}] x 3}", r)
    check([(i.get("turn") or {}).get("content") for i in items] == texts,
          "batch answers come in request order", items)
    check(sorted(t.get("content") for t in turn_lines(s, API, "user/batch")) == sorted(texts),
          "every turn of the batch is stored", r)
    r = s.request("POST", API + "/profile", {"scope": "user/batch"})
    check(r.status == 200 and "Madrid" in r.body.decode(), "a batch turn is extracted (Madrid)", r)

    # All or nothing: one bad element fails the request, names itself, and writes nothing.
    bad = {"scope": "user/batchbad",
           "turns": [{"role": "user", "content": "I live in Oslo."},
                     {"role": "robot", "content": "beep"}]}
    r = s.request("POST", API + "/turns", bad)
    check(is_error(r, 400) and "turns[1].role" in r.json()["error"]["message"],
          "a bad batch element is 400 naming turns[1].role", r)
    check(turn_lines(s, API, "user/batchbad") == [], "a refused batch writes nothing")
    r = s.request("POST", API + "/turns", {"scope": "user/batchbad",
                                           "turns": [{"role": "user", "content": "ok"}, 7]})
    check(is_error(r, 400) and "turns[1]" in r.json()["error"]["message"],
          "a batch element that is not an object is 400 naming turns[1]", r)

    # Session batches.
    before = (s.request("GET", API + "/sessions/" + sid).json() or {}).get("turn_count", -1)
    r = s.request("POST", API + "/sessions/%s/turns" % sid,
                  {"turns": [{"role": "user", "content": "I am learning Rust."},
                             {"role": "assistant", "content": "Rust is a fine choice."}]})
    j = r.json() or {}
    check(r.status == 200 and isinstance(j.get("turns"), list) and len(j["turns"]) == 2,
          "a session batch of 2 answers 2 turns", r)
    r = s.request("POST", API + "/sessions/%s/turns" % sid,
                  {"turns": [{"role": "user", "content": "fine"}, {"role": "user"}]})
    check(is_error(r, 400) and "turns[1].content" in r.json()["error"]["message"],
          "a session batch missing turns[1].content is 400 naming it", r)
    after = (s.request("GET", API + "/sessions/" + sid).json() or {}).get("turn_count", -1)
    check(after == before + 2, "the session holds the good batch and none of the bad one",
          (before, after))

    # An Idempotency-Key covers the whole batch.
    idem = {"scope": "user/batchidem",
            "turns": [{"role": "user", "content": "I moved to Lisbon last year."},
                      {"role": "user", "content": "I prefer Rust over everything else."}]}
    r1 = s.request("POST", API + "/turns", idem, headers={"Idempotency-Key": "batch-1"})
    r2 = s.request("POST", API + "/turns", idem, headers={"Idempotency-Key": "batch-1"})
    ids = lambda r: [(i.get("turn") or {}).get("id") for i in (r.json() or {}).get("turns", [])]
    check(r1.status == 200 and r2.status == 200 and len(ids(r1)) == 2 and ids(r1) == ids(r2),
          "a retried batch with the same Idempotency-Key answers the same turns", (r1, r2))
    check(len(turn_lines(s, API, "user/batchidem")) == 2, "a retried batch is stored once")
    r3 = s.request("POST", API + "/turns", dict(idem, turns=idem["turns"][:1]),
                   headers={"Idempotency-Key": "batch-1"})
    check(is_error(r3, 409), "the same Idempotency-Key with another batch is 409", r3)

    # At most 1,000 turns per request; more is refused whole.
    many = {"scope": "user/batchmany", "turns": [{"role": "user", "content": "t%d" % i}
                                                  for i in range(1001)]}
    r = s.request("POST", API + "/turns", many)
    check(is_error(r, 400) and "1000" in r.json()["error"]["message"],
          "a batch of 1,001 turns is 400 and states the limit", r)
    check(turn_lines(s, API, "user/batchmany") == [], "an oversized batch writes nothing")
    r = s.request("POST", API + "/turns", {"scope": "user/batchmany", "turns": []})
    check(is_error(r, 400), "an empty batch is 400", r)


# --------------------------------------------------------------------------------------
# Phase B: API keys, grants, contexts and scope floors.
# --------------------------------------------------------------------------------------

def create_key(db, *args):
    rc, out, err = cli(db, "keys", "create", *args)
    j = None
    try:
        j = json.loads(out)
    except ValueError:
        pass
    check(rc == 0 and isinstance(j, dict) and isinstance(j.get("key"), str),
          "keys create %s prints {key}" % " ".join(args), (rc, out, err))
    return j or {"key": "none", "id": "none"}


def phase_keys(tmp):
    db = os.path.join(tmp, "b.db")
    # Without keys, a non-loopback address is refused outright.
    rc, out, err = cli(db, "serve", "--listen", "0.0.0.0:0")
    check(rc == 1 and "refus" in err, "no keys + non-loopback listen exits 1 with a reason",
          (rc, err))

    admin = create_key(db, "--context", CTX)
    alice = create_key(db, "--context", CTX, "--scope-floor", "user/alice", "--grant", "read,write")
    ro = create_key(db, "--context", CTX, "--grant", "read")
    other = create_key(db, "--context", "other")
    rc, out, err = cli(db, "keys", "list")
    check(rc == 0 and admin["key"] not in out and '"keys"' in out,
          "keys list shows keys without secrets", (rc, out, err))

    s = Server(tmp, db, name="b")
    try:
        r = s.request("GET", "/healthz")
        check(r.status == 200, "healthz needs no key", r)
        r = s.request("POST", API + "/profile", {"scope": "user/alice"})
        check(is_error(r, 401) and r.header("WWW-Authenticate"), "no key is 401", r)
        r = s.request("POST", API + "/profile", {"scope": "user/alice"}, key="not-a-key")
        check(is_error(r, 401), "an unknown key is 401", r)
        r = s.request("POST", API + "/profile", {"scope": "user/alice"},
                      headers={"Authorization": "Basic " + admin["key"]})
        check(is_error(r, 401), "a non-Bearer Authorization is 401", r)
        r = s.request("GET", "/metrics")
        check(is_error(r, 401), "/metrics needs a key once keys exist", r)
        r = s.request("GET", "/metrics", key=ro["key"])
        check(r.status == 200, "/metrics with any valid key", r)

        r = s.request("POST", API + "/turns", {"scope": "user/bob", "role": "user",
                                               "content": "I live in Berlin."}, key=admin["key"])
        check(r.status == 200, "admin key writes user/bob", r)
        r = s.request("POST", API + "/profile", {"scope": "user/bob"}, key=admin["key"])
        check(r.status == 200, "admin key reads user/bob", r)
        r = s.request("POST", API + "/profile", {"scope": "user/bob"}, key=other["key"])
        check(is_error(r, 403), "a key for another context is 403", r)

        # Scope floor user/alice.
        r = s.request("POST", API + "/turns", {"scope": "user/alice", "role": "user",
                                               "content": "I work at Acme."}, key=alice["key"])
        check(r.status == 200, "floor key writes inside its floor", r)
        r = s.request("POST", API + "/profile", {"scope": "user/alice"}, key=alice["key"])
        check(r.status == 200, "floor key reads inside its floor", r)
        r = s.request("POST", API + "/profile", {"scope": "user/bob"}, key=alice["key"])
        check(is_error(r, 403), "floor user/alice cannot read user/bob", r)
        r = s.request("POST", API + "/context", {"scope": "user/bob", "query": "Berlin"},
                      key=alice["key"])
        check(is_error(r, 403), "floor user/alice cannot query user/bob's context", r)
        r = s.request("POST", API + "/sessions", {"scope": "user/bob"}, key=alice["key"])
        check(is_error(r, 403), "floor user/alice cannot open a session for user/bob", r)
        r = s.request("POST", API + "/sessions", {"scope": "user/bob"}, key=admin["key"])
        bob_sid = (r.json() or {}).get("id", "none")
        r = s.request("GET", API + "/sessions/" + bob_sid, key=alice["key"])
        check(r.status in (403, 404) and is_error(r, r.status),
              "floor user/alice cannot get user/bob's session", r)
        r = s.request("POST", API + "/sessions/%s/turns" % bob_sid,
                      {"role": "user", "content": "hi"}, key=alice["key"])
        check(r.status in (403, 404) and is_error(r, r.status),
              "floor user/alice cannot write to user/bob's session", r)
        r = s.request("GET", API + "/audit?scope=user/bob", key=alice["key"])
        check(is_error(r, 403), "floor user/alice cannot read user/bob's audit", r)

        # Grants.
        r = s.request("POST", API + "/forget", {"scope": "user/alice", "attribute_key": "employer",
                                                "dry_run": True}, key=alice["key"])
        check(is_error(r, 403), "no forget grant is 403", r)
        r = s.request("POST", API + "/erase", {"scope": "user/alice"}, key=alice["key"])
        check(is_error(r, 403), "no erase grant is 403", r)
        r = s.request("POST", API + "/turns", {"scope": "user/carol", "role": "user",
                                               "content": "hello"}, key=ro["key"])
        check(is_error(r, 403), "a read-only key cannot write", r)
        r = s.request("POST", API + "/import", b"", key=ro["key"], ctype="application/x-ndjson")
        check(is_error(r, 403), "a read-only key cannot import", r)
        r = s.request("POST", API + "/export", {"scope": "user/bob"}, key=ro["key"])
        check(r.status == 200, "a read-only key can export", r)
        r = s.request("POST", API + "/forget", {"scope": "user/bob", "attribute_key": "location",
                                                "dry_run": True}, key=admin["key"])
        check(r.status == 200, "admin key can forget", r)

        # Revocation takes effect on the running server.
        rc, out, err = cli(db, "keys", "revoke", ro["id"])
        check(rc == 0, "keys revoke", (rc, out, err))
        r = s.request("POST", API + "/profile", {"scope": "user/bob"}, key=ro["key"])
        check(is_error(r, 401), "a revoked key is 401", r)

        audit = s.request("GET", API + "/audit?scope=user/alice", key=admin["key"])
        check(audit.status == 200, "admin reads the audit log", audit)
        rc = s.stop(signal.SIGINT)
        check(rc == 0, "SIGINT exits 0", rc)
    finally:
        if s.proc.poll() is None:
            s.proc.kill()
            s.proc.wait()

    # With keys, a non-loopback address is allowed, and every API call needs a key.
    s = Server(tmp, db, "--listen", "0.0.0.0:0", name="c")
    try:
        s.host = "127.0.0.1"
        r = s.request("POST", API + "/profile", {"scope": "user/bob"})
        check(is_error(r, 401), "off loopback, no key is 401", r)
        r = s.request("POST", API + "/profile", {"scope": "user/bob"}, key=admin["key"])
        check(r.status == 200, "off loopback, a key works", r)
        check(s.stop() == 0, "SIGTERM exits 0 (second server)")
    finally:
        if s.proc.poll() is None:
            s.proc.kill()
            s.proc.wait()


# --------------------------------------------------------------------------------------
# Phase C: keys created or revoked by another process while the server runs.
# --------------------------------------------------------------------------------------

def phase_live_keys(tmp):
    db = os.path.join(tmp, "d.db")
    s = Server(tmp, db, name="d")
    body = {"scope": "user/dora"}
    try:
        r = s.request("POST", API + "/profile", body)
        check(r.status == 200, "no keys: a keyless request is served", r)
        key = create_key(db, "--context", CTX)
        # "Are there keys?" is cached for about a second: the first key switches auth on
        # soon, not necessarily at once. Poll (the deadline is only a hang guard).
        deadline = time.monotonic() + GUARD
        while time.monotonic() < deadline:
            r = s.request("POST", API + "/profile", body)
            if r.status != 200:
                break
            time.sleep(0.05)
        check(is_error(r, 401), "a key created by another process switches auth on", r)
        r = s.request("POST", API + "/profile", body, key=key["key"])
        check(r.status == 200, "the new key works on the running server", r)
        # A presented key is checked against the store every time: revocation is at once.
        rc, out, err = cli(db, "keys", "revoke", key["id"])
        check(rc == 0, "keys revoke (live)", (rc, out, err))
        r = s.request("POST", API + "/profile", body, key=key["key"])
        check(is_error(r, 401), "a key revoked by another process is refused at once", r)
        # With no active key left, keyless requests are served again (after the cache).
        while time.monotonic() < deadline:
            r = s.request("POST", API + "/profile", body)
            if r.status == 200:
                break
            time.sleep(0.05)
        check(r.status == 200, "revoking the last key switches auth off again", r)
        check(s.stop() == 0, "SIGTERM exits 0 (live keys server)")
    finally:
        if s.proc.poll() is None:
            s.proc.kill()
            s.proc.wait()


def main():
    with tempfile.TemporaryDirectory(prefix="engram-http-") as tmp:
        try:
            phase_routes(tmp)
            phase_keys(tmp)
            phase_live_keys(tmp)
        except Exception as e:  # a crash is a failure, with the server logs for context
            import traceback
            traceback.print_exc()
            failures.append("exception: %r" % e)
            for name in ("a", "b", "c", "d"):
                p = os.path.join(tmp, name + ".log")
                if os.path.exists(p):
                    print("---- %s.log (tail)" % name)
                    with open(p, "rb") as f:
                        print(f.read().decode("utf-8", "replace")[-3000:])
    print("http tests: %d checks, %d failed" % (checks, len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
