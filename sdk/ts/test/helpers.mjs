// Test helpers: a real `engram serve` on a temp database and a free port, and a scripted
// HTTP stub for retry/timeout tests. ENGRAM_BIN names the binary (default build/engram);
// ENGRAM_TEST_URL uses a server that is already running instead.
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, existsSync, openSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import net from "node:net";
import http from "node:http";
import { randomUUID } from "node:crypto";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
export const BIN = process.env.ENGRAM_BIN || join(ROOT, "build", "engram");

export function freePort() {
  return new Promise((res, rej) => {
    const s = net.createServer();
    s.once("error", rej);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

function env() {
  return { ...process.env, ASAN_OPTIONS: process.env.ASAN_OPTIONS || "detect_leaks=0" };
}

export function cli(db, ...args) {
  return execFileSync(BIN, ["--db", db, ...args], { env: env(), encoding: "utf8" });
}

export async function startServer({ setup } = {}) {
  if (process.env.ENGRAM_TEST_URL) {
    return { url: process.env.ENGRAM_TEST_URL.replace(/\/$/, ""), stop: async () => {}, external: true };
  }
  if (!existsSync(BIN)) throw new Error(`engram binary not found at ${BIN} (set ENGRAM_BIN)`);
  const dir = mkdtempSync(join(tmpdir(), "engram-ts-"));
  const db = join(dir, "engram.db");
  const extra = setup ? await setup(db) : undefined;
  const port = await freePort();
  const log = join(dir, "serve.log");
  const fd = openSync(log, "w");
  const proc = spawn(BIN, ["--db", db, "serve", "--listen", `127.0.0.1:${port}`], {
    env: env(),
    stdio: ["ignore", fd, fd],
  });
  let exited = null;
  proc.on("exit", (code) => (exited = code));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20000;
  for (;;) {
    if (exited !== null) throw new Error(`engram serve exited with ${exited}; see ${log}`);
    try {
      const r = await fetch(url + "/healthz");
      if (r.ok) break;
    } catch {
      /* not up yet */
    }
    if (Date.now() > deadline) {
      proc.kill("SIGKILL");
      throw new Error(`engram serve did not answer ${url}/healthz`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url,
    db,
    extra,
    async stop() {
      if (exited === null) {
        const done = new Promise((r) => proc.once("exit", r));
        proc.kill("SIGTERM");
        const t = setTimeout(() => proc.kill("SIGKILL"), 10000);
        await done;
        clearTimeout(t);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function newUser() {
  return "u" + randomUUID().replace(/-/g, "").slice(0, 12);
}

/** Answers each request with the next scripted [status, body, headers], "close" (drop the
 * connection) or "hang" (never answer); records what it received. */
export async function startStub(script) {
  const steps = [...script];
  const requests = [];
  const sockets = new Set();
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      requests.push({ method: req.method, url: req.url, headers: req.headers, body });
      const step = steps.length ? steps.shift() : [200, {}, {}];
      if (step === "hang") return;
      if (step === "close") return req.socket.destroy();
      const [status, payload, headers = {}] = step;
      const data = typeof payload === "string" ? payload : JSON.stringify(payload);
      res.writeHead(status, {
        "Content-Type": "application/json",
        "X-Request-Id": `req_stub_${requests.length}`,
        ...headers,
      });
      res.end(data);
    });
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    requests,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}
