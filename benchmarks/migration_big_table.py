"""A migration that adds a column and an index to a 1,000,000-row events table: it completes, and how long.

Two ways on identical copies of the same database (``CREATE DATABASE … TEMPLATE``):

- ``one_file``: ``ALTER TABLE … ADD COLUMN`` + plain ``CREATE INDEX`` in one file:
  one transaction with the version bump, but writes to ``events`` block while the
  index builds (the linter flags it: index-not-concurrent).
- ``blue_green_safe``: the column in one file, ``CREATE INDEX CONCURRENTLY`` in the
  next (run outside a transaction with golang-migrate's dirty flag; writes go on).

Both run through the real runner (``togather_deploy.db.migrations.apply.migrate_up``). The baseline
is the same SQL through ``psql -1 -f`` on a third copy. Prints one JSON object.
Not a test: timing is measured, never asserted.

    venv/bin/python benchmarks/migration_big_table.py [--rows 1000000]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import psycopg  # noqa: E402

from benchmarks.snapshot_create import make_events  # noqa: E402
from testkit.pg import start_postgres  # noqa: E402
from togather_deploy.db.migrations.apply import migrate_up  # noqa: E402
from togather_deploy.db.migrations.files import parse_migrations  # noqa: E402
from togather_deploy.db.migrations.lint import lint_sql  # noqa: E402

ONE_FILE = {"000050_add_events_url.up.sql":
            "ALTER TABLE events ADD COLUMN url text;\n"
            "CREATE INDEX events_url_idx ON events (starts_at, url);\n"}
SAFE = {"000050_add_events_url.up.sql": "ALTER TABLE events ADD COLUMN url text;\n",
        "000051_index_events_url.up.sql":
            "CREATE INDEX CONCURRENTLY events_url_idx ON events (starts_at, url);\n"}


def copy_of(server: object, template: str, name: str) -> str:
    dsn = server.dsn()  # type: ignore[attr-defined]
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    return server.dsn(name)  # type: ignore[attr-defined]


def run(url: str, files: dict[str, str]) -> dict[str, object]:
    started = time.perf_counter()
    result = migrate_up(url, parse_migrations(files), lock_timeout_s=30)
    total = time.perf_counter() - started
    with psycopg.connect(url) as conn:
        ok = conn.execute("SELECT indisvalid FROM pg_index WHERE indexrelid = 'events_url_idx'::regclass"
                          ).fetchone()
    return {"total_s": round(total, 3), "schema_version": result.version, "index_valid": bool(ok and ok[0]),
            "files": [{"name": a.name, "duration_s": round(a.duration_s, 3),
                       "transactional": a.transactional} for a in result.applied],
            "lint": [str(f) for n, t in files.items() for f in lint_sql(n, t)]}


def psql_baseline(url: str, files: dict[str, str]) -> float:
    with tempfile.TemporaryDirectory() as work:
        started = time.perf_counter()
        for name, text in sorted(files.items()):
            path = os.path.join(work, name)
            with open(path, "w") as fh:
                fh.write(text)
            subprocess.run(["psql", "--no-psqlrc", "--quiet", "-v", "ON_ERROR_STOP=1", "-1", "-f", path,
                            f"--dbname={url}"], check=True, stdout=subprocess.DEVNULL)
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    server = start_postgres()
    try:
        url = server.create_database("bench_big")
        make_events(url, args.rows)
        one = run(copy_of(server, "bench_big", "one_file"), ONE_FILE)
        safe = run(copy_of(server, "bench_big", "safe"), SAFE)
        base = psql_baseline(copy_of(server, "bench_big", "psql"), ONE_FILE)
        print(json.dumps({
            "benchmark": "migration_big_table", "rows": args.rows,
            "one_file": one, "blue_green_safe": safe,
            "baseline": {"command": "psql -1 -f (one_file SQL)", "total_s": round(base, 3)},
            "ratio": round(float(one["total_s"]) / base, 3),  # type: ignore[arg-type]
        }, indent=2))
    finally:
        server.stop()


if __name__ == "__main__":
    main()
