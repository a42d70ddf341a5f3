"""Fixtures: a real ``engram serve`` on a temporary database and a free loopback port.

The binary is ``$ENGRAM_BIN`` (default ``build/engram`` from the repository root). Set
``ENGRAM_TEST_URL`` to run against a server you started yourself instead (the key-based tests
are skipped then, since they need to create keys in the server's database).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Dict, Iterator, List, Optional

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # the package under test, not an installed copy

ROOT = HERE.parent.parent.parent


def engram_bin() -> str:
    b = os.environ.get("ENGRAM_BIN") or str(ROOT / "build" / "engram")
    if not os.path.exists(b):
        pytest.skip(f"engram binary not found at {b} (build it, or set ENGRAM_BIN)")
    return b


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def child_env() -> Dict[str, str]:
    env = dict(os.environ)
    env.setdefault("ASAN_OPTIONS", "detect_leaks=0")
    return env


class Server:
    def __init__(self, db: str, url: str, proc: Optional[subprocess.Popen], log: Optional[str]):
        self.db = db
        self.url = url
        self.proc = proc
        self.log = log

    def cli(self, *args: str) -> str:
        out = subprocess.run([engram_bin(), "--db", self.db, *args], env=child_env(),
                             capture_output=True, text=True, timeout=30)
        if out.returncode != 0:
            raise RuntimeError(f"engram {' '.join(args)} failed: {out.stderr.strip()}")
        return out.stdout

    def create_key(self, context: str, scope_floor: Optional[str] = None,
                   grant: Optional[str] = None) -> str:
        args = ["keys", "create", "--context", context]
        if scope_floor:
            args += ["--scope-floor", scope_floor]
        if grant:
            args += ["--grant", grant]
        return json.loads(self.cli(*args))["key"]


def wait_healthy(url: str, proc: Optional[subprocess.Popen], log: Optional[str],
                 secs: float = 20.0) -> None:
    deadline = time.monotonic() + secs
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            text = Path(log).read_text(errors="replace") if log else ""
            raise RuntimeError(f"engram serve exited with {proc.returncode}:\n{text[-3000:]}")
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"engram serve did not answer {url}/healthz within {secs}s")


def start_server(tmp: Path, setup=None) -> Server:
    db = str(tmp / "engram.db")
    if setup is not None:
        setup(Server(db, "", None, None))
    port = free_port()
    log = str(tmp / "serve.log")
    proc = subprocess.Popen([engram_bin(), "--db", db, "serve", "--listen", f"127.0.0.1:{port}"],
                            stdout=open(log, "wb"), stderr=subprocess.STDOUT, env=child_env())
    srv = Server(db, f"http://127.0.0.1:{port}", proc, log)
    try:
        wait_healthy(srv.url, proc, log)
    except Exception:
        stop_server(srv)
        raise
    return srv


def stop_server(srv: Server) -> None:
    if srv.proc is not None and srv.proc.poll() is None:
        srv.proc.terminate()
        try:
            srv.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            srv.proc.kill()
            srv.proc.wait()


@pytest.fixture(scope="session")
def server(tmp_path_factory) -> Iterator[Server]:
    url = os.environ.get("ENGRAM_TEST_URL")
    if url:
        yield Server("", url.rstrip("/"), None, None)
        return
    srv = start_server(tmp_path_factory.mktemp("engram"))
    yield srv
    stop_server(srv)


@pytest.fixture(scope="session")
def keyed_server(tmp_path_factory) -> Iterator[Dict[str, object]]:
    """A server whose database has keys: full access to "assistant", a key confined to
    the scope floor user/alice, and a read-only key."""
    if os.environ.get("ENGRAM_TEST_URL"):
        pytest.skip("key tests need a server started by the fixture")
    keys: Dict[str, str] = {}

    def setup(s: Server) -> None:
        try:
            keys["full"] = s.create_key("assistant")
            keys["alice"] = s.create_key("assistant", scope_floor="user/alice")
            keys["read"] = s.create_key("assistant", grant="read")
            keys["other"] = s.create_key("elsewhere")
        except (RuntimeError, KeyError, ValueError) as e:
            pytest.skip(f"cannot create keys: {e}")

    srv = start_server(tmp_path_factory.mktemp("engram_keys"), setup)
    yield {"server": srv, "keys": keys}
    stop_server(srv)


@pytest.fixture
def user() -> str:
    """A fresh user id per test, so tests never see each other's memory."""
    return "u" + uuid.uuid4().hex[:12]


# ---- a tiny scripted HTTP stub, for retry/timeout/status-mapping tests only ----------------

class Stub:
    """Answers each request with the next scripted (status, body, headers); records what it
    received. Scripts ending with "hang" never answer (for timeouts)."""

    def __init__(self, script: List[object]):
        import http.server
        import threading

        self.script = list(script)
        self.requests: List[Dict[str, object]] = []
        stub = self

        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):  # quiet
                pass

            def _do(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                stub.requests.append({"method": self.command, "path": self.path,
                                      "headers": dict(self.headers), "body": body})
                step = stub.script.pop(0) if stub.script else (200, {}, {})
                if step == "hang":
                    time.sleep(3)
                    self.close_connection = True
                    return
                if step == "close":  # drop the connection without an answer
                    self.close_connection = True
                    return
                status, payload, headers = step  # type: ignore[misc]
                data = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("X-Request-Id", f"req_stub_{len(stub.requests)}")
                for k, v in headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            do_GET = _do
            do_POST = _do

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def stub_factory():
    made: List[Stub] = []

    def make(script: List[object]) -> Stub:
        s = Stub(script)
        made.append(s)
        return s

    yield make
    for s in made:
        s.close()


def tmpdir_path() -> str:
    return tempfile.mkdtemp(prefix="engram_sdk_")
