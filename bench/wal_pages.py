#!/usr/bin/env python3
"""
wal_pages.py DB WAL - which b-trees the commits in a saved WAL file wrote, in pages per commit.

Each page a commit changes is one 4 KB frame in the log, written once by the commit and once
more by the checkpoint: on a large store the number of pages per turn, not the instructions,
is what ingest pays for (bench/RESULTS.md, "Ingest"). Save a log mid-ingest (kill -9 the
server, then copy DB-wal before anything opens the store), then run this on the store and the
copy. Reads the WAL format (sqlite.org/fileformat.html) and maps page numbers to b-trees with
SQLite's dbstat table. Standard library only.
"""
import collections
import sqlite3
import struct
import sys


def commits_of(wal):
    """The page numbers of each commit in the log, in order (frames of the current salt)."""
    _, _, psz, _, salt1, salt2, _, _ = struct.unpack(">IIIIIIII", wal[:32])
    commits, cur, off, size = [], [], 32, 24 + psz
    while off + size <= len(wal):
        pgno, ntrunc, s1, s2, _, _ = struct.unpack(">IIIIII", wal[off:off + 24])
        if (s1, s2) != (salt1, salt2):
            break
        cur.append(pgno)
        if ntrunc:
            commits.append(cur)
            cur = []
        off += size
    return commits


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: wal_pages.py DB WAL")
    with open(sys.argv[2], "rb") as f:
        commits = commits_of(f.read())
    if not commits:
        sys.exit("no complete commit in the log")
    wanted = {p for c in commits for p in c}
    db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True)
    owner = {p: name for name, p in db.execute("SELECT name, pageno FROM dbstat") if p in wanted}
    count = collections.Counter()
    for c in commits:
        for p in set(c):
            count[owner.get(p, "(free or overflow)")] += 1
    frames = sum(len(set(c)) for c in commits)
    print("%d commits, %.1f pages per commit" % (len(commits), frames / len(commits)))
    for name, n in count.most_common():
        print("%-30s %6.1f" % (name, n / len(commits)))


if __name__ == "__main__":
    main()
