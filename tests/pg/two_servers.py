"""
two_servers.py URI TMP - the many-nodes promise of the PostgreSQL store (standard library).

Starts two `engram serve` processes on the database URI, then from 2 x 6 client threads
posts user turns for the same few users through both servers at once: each user's facts
("I live in X", "I work at Y", "My name is Z") change many times, so both servers keep
superseding the same single-valued keys of the same entities concurrently. Then, over SQL:

  1. no entity has two active records for one single-valued key (multi=0 in
     src/lib/vocab.c) in one category: supersession was serialised across processes;
  2. every acknowledged turn (HTTP 200 with a turn id) is in the turns table;
  3. each user's current location is one of the values the test sent, and the chain of
     closed location records exists (the test really did supersede).
Then the same request with the same Idempotency-Key is sent to both servers at the same
moment, for 20 keys: both must answer 200 with the same turn (the second waits for the
first's commit and replays it), and the store must hold that turn once.
Every fourth turn is `async`: its extraction is queued in the jobs table and claimed by
whichever server's worker gets there first (FOR UPDATE SKIP LOCKED); the checks run after
the queue has drained and also require that no job failed.
Also checks that a server rejects nothing with 5xx under this load.
"""
import http.client
import json
import os
import re
import subprocess
import sys
import threading
import time

BIN = os.environ["ENGRAM_BIN"]
SRC = os.environ["ENGRAM_SOURCE_DIR"]
PSQL = os.environ.get("PSQL", "psql")
URI, TMP = sys.argv[1], sys.argv[2]
USERS = ["alice", "bob", "carol", "dave"]
CITIES = ["Paris", "London", "Berlin", "Madrid", "Rome", "Oslo", "Vienna", "Dublin"]
EMPLOYERS = ["Acme Corp", "Globex", "Initech", "Umbrella", "Hooli"]
PER_THREAD = 40
THREADS = 6
GUARD = 120


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


class Server:
    def __init__(self, name):
        self.log_path = os.path.join(TMP, name + ".log")
        self.proc = subprocess.Popen(
            [BIN, "--db", URI, "serve", "--listen", "127.0.0.1:0", "--no-access-log"],
            stdout=subprocess.DEVNULL, stderr=open(self.log_path, "wb"))
        self.port = None
        deadline = time.monotonic() + GUARD
        while self.port is None:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                fail("%s did not start:\n%s" % (name, self.log()))
            for line in self.log().splitlines():
                try:
                    j = json.loads(line)
                except ValueError:
                    continue
                if j.get("msg") == "listening":
                    self.port = int(j["url"].rsplit(":", 1)[1])
            time.sleep(0.05)

    def log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            fail("server did not stop on SIGTERM")


def client(port, tid, acked, errors):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=GUARD)
    for i in range(PER_THREAD):
        user = USERS[(tid + i) % len(USERS)]
        k = tid * 7 + i
        content = [("I live in %s." % CITIES[k % len(CITIES)]),
                   ("I work at %s." % EMPLOYERS[k % len(EMPLOYERS)]),
                   ("I moved to %s last month." % CITIES[(k * 3) % len(CITIES)])][i % 3]
        body = json.dumps({"scope": {"org": "acme", "user": user}, "role": "user",
                           "content": content, "async": i % 4 == 3})
        try:
            conn.request("POST", "/api/v1/assistant/turns", body,
                         {"Content-Type": "application/json"})
            r = conn.getresponse()
            data = r.read()
        except (OSError, http.client.HTTPException) as e:
            errors.append("transport: %r" % e)
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=GUARD)
            continue
        if r.status == 200:
            acked.append(json.loads(data)["turn"]["id"])
        else:
            errors.append("%d %s" % (r.status, data[:200]))
    conn.close()


def idem_race(ports, n):
    """n keys, each posted to every server at once; returns a list of problems."""
    problems = []
    for k in range(n):
        body = json.dumps({"scope": {"org": "acme", "user": USERS[k % len(USERS)]},
                           "role": "user", "content": "Race %d: I live in Lisbon." % k})
        answers = [None] * len(ports)
        barrier = threading.Barrier(len(ports))

        def post(i, port):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=GUARD)
            barrier.wait()
            conn.request("POST", "/api/v1/assistant/turns", body,
                         {"Content-Type": "application/json", "Idempotency-Key": "race-%d" % k})
            r = conn.getresponse()
            answers[i] = (r.status, r.read())
            conn.close()

        ts = [threading.Thread(target=post, args=(i, p)) for i, p in enumerate(ports)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        ids = set()
        for status, data in answers:
            if status != 200:
                problems.append("key race-%d: HTTP %d %s" % (k, status, data[:200]))
            else:
                ids.add(json.loads(data)["turn"]["id"])
        if len(ids) > 1:
            problems.append("key race-%d: two different turns %s" % (k, sorted(ids)))
    return problems


def sql(query):
    out = subprocess.run([PSQL, "-X", "-At", "-v", "ON_ERROR_STOP=1", URI, "-c", query],
                         capture_output=True, text=True)
    if out.returncode != 0:
        fail("psql: %s\n%s" % (query, out.stderr))
    return out.stdout.strip()


def main():
    with open(os.path.join(SRC, "src/lib/vocab.c")) as f:
        single = re.findall(r'\{"(\w+)", "\w+", 0,', f.read())
    if "location" not in single or "employer" not in single:
        fail("could not read the single-valued keys from vocab.c: %r" % single)
    a, b = Server("a"), Server("b")
    try:
        acked, errors, threads = [], [], []
        t0 = time.monotonic()
        for tid in range(2 * THREADS):
            port = (a if tid % 2 == 0 else b).port
            t = threading.Thread(target=client, args=(port, tid, acked, errors))
            t.start()
            threads.append(t)
        for t in threads:
            t.join()
        elapsed = time.monotonic() - t0
        races = idem_race([a.port, b.port], 20)
        if races:
            fail("idempotent retries across servers: %s" % races[:5])
        stored = sql("SELECT count(*) FROM turns WHERE content LIKE 'Race %'")
        if stored != "20":
            fail("idempotent retries stored %s turns for 20 keys" % stored)
        deadline = time.monotonic() + GUARD
        while sql("SELECT count(*) FROM jobs WHERE state IN ('pending', 'running')") != "0":
            if time.monotonic() > deadline:
                fail("the job queue did not drain")
            time.sleep(0.2)
        failed = sql("SELECT count(*) FROM jobs WHERE state = 'failed'")
        if failed != "0":
            fail("%s jobs failed: %s" % (failed, sql("SELECT last_error FROM jobs LIMIT 3")))
    finally:
        a.stop()
        b.stop()
    print("ingested %d turns through two servers in %.2fs; %d errors" %
          (len(acked), elapsed, len(errors)))
    if errors:
        fail("requests failed: %s" % errors[:5])
    if len(acked) != 2 * THREADS * PER_THREAD:
        fail("acknowledged %d of %d turns" % (len(acked), 2 * THREADS * PER_THREAD))

    keys = "ARRAY[%s]" % ",".join("'%s'" % k for k in single)
    dup = sql("SELECT e.name || ' ' || a.key || ' ' || a.category || ': ' || count(*)"
              " FROM attributes a JOIN entities e ON e.context = a.context"
              " AND e.id = a.entity_id WHERE a.valid_until IS NULL"
              " AND a.category <> 'unknowns' AND a.key = ANY(%s)"
              " GROUP BY e.name, a.entity_id, a.key, a.category HAVING count(*) > 1" % keys)
    if dup:
        fail("two active records for a single-valued key:\n" + dup)
    ids = "{" + ",".join(acked) + "}"
    present = int(sql("SELECT count(*) FROM turns WHERE id = ANY('%s'::text[])" % ids))
    if present != len(acked):
        fail("only %d of %d acknowledged turns are stored" % (present, len(acked)))
    for user in USERS:
        cur = sql("SELECT a.value FROM attributes a JOIN entities e ON e.context = a.context"
                  " AND e.id = a.entity_id WHERE e.type = 'Person' AND e.name = '%s'"
                  " AND a.key = 'location' AND a.valid_until IS NULL" % user)
        if cur not in CITIES + ["Lisbon"]:  # Lisbon: the idempotency race turns
            fail("%s: current location %r is not one value the test sent" % (user, cur))
        chained = int(sql("SELECT count(*) FROM attributes a JOIN entities e"
                          " ON e.context = a.context AND e.id = a.entity_id"
                          " WHERE e.name = '%s' AND a.key = 'location'"
                          " AND a.supersedes IS NOT NULL" % user))
        if chained == 0:
            fail("%s: no superseding location record; the test did not exercise"
                 " supersession" % user)
    ents = sql("SELECT count(*) FROM (SELECT context, scope, type, name FROM entities"
               " GROUP BY 1, 2, 3, 4 HAVING count(*) > 1) d")
    if ents != "0":
        fail("duplicate entities: %s" % ents)
    print("ok: no duplicate active single-valued records, all %d turns present" % len(acked))


main()
