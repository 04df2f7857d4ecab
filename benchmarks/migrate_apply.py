"""Apply 50 generated migrations to an empty database: ``scripts/migrate up`` vs ``psql -1 -f`` per file.

Fifty golang-migrate files (tables, indexes, foreign keys, a function, seed
rows, added columns) are generated once. Each round applies them to a fresh,
empty database with the real command (advisory lock, one transaction per file
together with its version bump) and, on another fresh database, with the
baseline ``psql -1 -f FILE`` per file (no bookkeeping at all). Best time of
each is kept. Prints one JSON object. Not a test: timing is measured, never asserted.

    venv/bin/python benchmarks/migrate_apply.py [--count 50] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from testkit.pg import start_postgres  # noqa: E402


def generate(directory: str, count: int) -> list[str]:
    files = []
    for i in range(1, count + 1):
        name = f"{i:06d}_step_{i}.up.sql"
        parent = f"REFERENCES t{i - 1} (id)" if i > 1 else ""
        sql = (f"CREATE TABLE t{i} (id bigserial PRIMARY KEY, label text NOT NULL,\n"
               f"    parent_id bigint {parent}, created_at timestamptz NOT NULL DEFAULT now());\n"
               f"CREATE INDEX t{i}_label_idx ON t{i} (label);\n"
               f"INSERT INTO t{i} (label) SELECT 'row ' || g FROM generate_series(1, 200) g;\n"
               f"ALTER TABLE t{i} ADD COLUMN note text DEFAULT 'n/a';\n"
               f"CREATE FUNCTION t{i}_count() RETURNS bigint LANGUAGE sql\n"
               f"    AS $$ SELECT count(*) FROM t{i}; $$;\n"
               f"COMMENT ON TABLE t{i} IS 'generated step {i}; for the benchmark';\n")
        with open(os.path.join(directory, name), "w") as fh:
            fh.write(sql)
        with open(os.path.join(directory, name.replace(".up.", ".down.")), "w") as fh:
            fh.write(f"DROP TABLE t{i};\n")
        files.append(name)
    return files


def ours(url: str, directory: str) -> float:
    started = time.perf_counter()
    proc = subprocess.run([os.path.join(ROOT, "scripts", "migrate"), "up", "--dir", directory, "--json"],
                          env={**os.environ, "DATABASE_URL": url}, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr)
    return elapsed


def baseline(url: str, directory: str, files: list[str]) -> float:
    started = time.perf_counter()
    for name in files:
        subprocess.run(["psql", "--no-psqlrc", "--quiet", "-v", "ON_ERROR_STOP=1", "-1", "-f",
                        os.path.join(directory, name), f"--dbname={url}"], check=True,
                       stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    server = start_postgres()
    work = tempfile.mkdtemp(prefix="bench-migrate-")
    try:
        files = generate(work, args.count)
        base_times, our_times = [], []
        for _ in range(max(args.rounds, 1)):
            base_times.append(baseline(server.create_database(), work, files))
            our_times.append(ours(server.create_database(), work))
        print(json.dumps({
            "benchmark": "migrate_apply", "migrations": args.count,
            "baseline": {"command": "psql -1 -f FILE, once per file", "best_s": round(min(base_times), 3),
                         "runs_s": [round(t, 3) for t in base_times]},
            "runner": {"command": "scripts/migrate up (lock, one transaction per file + version bump)",
                       "best_s": round(min(our_times), 3), "runs_s": [round(t, 3) for t in our_times]},
            "ratio": round(min(our_times) / min(base_times), 3),
            "goal": "ratio <= 1.2",
        }, indent=2))
    finally:
        shutil.rmtree(work, ignore_errors=True)
        server.stop()


if __name__ == "__main__":
    main()
