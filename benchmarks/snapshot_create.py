"""``scripts/snapshot create`` vs the baseline ``pg_dump | gzip`` on a 1,000,000-event database.

A throwaway PostgreSQL 15 (``testkit/pg.py``) gets an ``events`` table of
``--rows`` rows with three indexes. Each round runs the baseline (plain
``pg_dump --no-owner --no-acl --clean --if-exists | gzip`` into a file) and the
real command (``scripts/snapshot create --mode host``: dump, fsync, read back and
verify, metadata, rename), alternating, and keeps each one's best time. The
snapshot is then restored with plain ``psql`` into a new database and its row
count checked. Prints one JSON object. Not a test: timing is measured, never asserted.

    venv/bin/python benchmarks/snapshot_create.py [--rows 1000000] [--rounds 2]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import psycopg  # noqa: E402

from testkit.pg import start_postgres  # noqa: E402


def make_events(url: str, rows: int) -> None:
    """The shape of the server's events table, ``rows`` rows, with indexes."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE events (id bigserial PRIMARY KEY, name text NOT NULL, "
                     "starts_at timestamptz NOT NULL, description text, status text NOT NULL "
                     "DEFAULT 'scheduled', created_at timestamptz NOT NULL DEFAULT now())")
        conn.execute("INSERT INTO events (name, starts_at, description) SELECT 'Event ' || g, "
                     "timestamptz '2026-01-01' + g * interval '7 minutes', "
                     "'Description ' || md5(g::text) || ' ' || md5((g * 31)::text) "
                     "FROM generate_series(1, %s) g", (rows,))
        conn.execute("CREATE INDEX events_starts_at_idx ON events (starts_at)")
        conn.execute("CREATE INDEX events_name_idx ON events (name)")
        conn.execute("CREATE INDEX events_status_idx ON events (status)")
        conn.execute("CREATE TABLE schema_migrations (version bigint PRIMARY KEY, dirty boolean NOT NULL)")
        conn.execute("INSERT INTO schema_migrations VALUES (49, false)")
        conn.execute("VACUUM ANALYZE events")


def baseline(url: str, out: str) -> float:
    started = time.perf_counter()
    with open(out, "wb") as fh:
        dump = subprocess.Popen(["pg_dump", "--no-owner", "--no-acl", "--clean", "--if-exists",
                                 f"--dbname={url}"], stdout=subprocess.PIPE)
        gz = subprocess.run(["gzip"], stdin=dump.stdout, stdout=fh, check=True)
        assert dump.stdout is not None
        dump.stdout.close()
        if dump.wait() != 0 or gz.returncode != 0:
            raise RuntimeError("baseline pg_dump | gzip failed")
    return time.perf_counter() - started


def ours(url: str, directory: str) -> tuple[float, str]:
    shutil.rmtree(directory, ignore_errors=True)
    started = time.perf_counter()
    proc = subprocess.run([os.path.join(ROOT, "scripts", "snapshot"), "create", "--mode", "host",
                           "--dir", directory, "--app-version", "bench", "--json"],
                          env={**os.environ, "DATABASE_URL": url}, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr)
    return elapsed, json.loads(proc.stdout)["snapshots"][0]["name"]


def restorable(server: object, path: str) -> int:
    """Plain psql (no tooling of ours) restores it: the row count comes back."""
    url = server.create_database()  # type: ignore[attr-defined]
    psql = subprocess.Popen(["psql", "--quiet", "--set=ON_ERROR_STOP=1", "--output=/dev/null",
                             f"--dbname={url}"], stdin=subprocess.PIPE,
                            env={**os.environ, "PGOPTIONS": "-c client_min_messages=warning"})
    assert psql.stdin is not None
    with gzip.open(path, "rb") as fh:
        shutil.copyfileobj(fh, psql.stdin, 1 << 20)
    psql.stdin.close()
    if psql.wait() != 0:
        raise RuntimeError("psql could not restore the snapshot")
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT count(*) FROM events").fetchone()
        return int(row[0]) if row else -1


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    server = start_postgres()
    work = tempfile.mkdtemp(prefix="bench-snap-")
    try:
        url = server.create_database("bench_events")
        started = time.perf_counter()
        make_events(url, args.rows)
        generate_s = time.perf_counter() - started
        base_times, our_times = [], []
        base_file, our_dir = os.path.join(work, "baseline.sql.gz"), os.path.join(work, "snaps")
        name = ""
        for _ in range(max(args.rounds, 1)):
            base_times.append(baseline(url, base_file))
            elapsed, name = ours(url, our_dir)
            our_times.append(elapsed)
        snap_path = os.path.join(our_dir, name)
        result = {
            "benchmark": "snapshot_create", "rows": args.rows, "generate_s": round(generate_s, 2),
            "baseline": {"command": "pg_dump | gzip (level 6)", "best_s": round(min(base_times), 3),
                         "runs_s": [round(t, 3) for t in base_times], "bytes": os.path.getsize(base_file)},
            "snapshot": {"command": "scripts/snapshot create --mode host (pg_dump -Z1, fsync, verify, meta)",
                         "best_s": round(min(our_times), 3), "runs_s": [round(t, 3) for t in our_times],
                         "bytes": os.path.getsize(snap_path)},
            "ratio": round(min(our_times) / min(base_times), 3),
            "goal": "ratio <= 1.0",
            "restored_rows_with_plain_psql": restorable(server, snap_path),
        }
        print(json.dumps(result, indent=2))
    finally:
        shutil.rmtree(work, ignore_errors=True)
        server.stop()


if __name__ == "__main__":
    main()
