"""Off-host backup: restic deduplication day to day, and restore from the repository vs local.

A throwaway PostgreSQL 15 gets the 1,000,000-row ``events`` table of ``snapshot_create``. A stack
(``snapshots.mode host``) backs up to a real restic REST server on loopback (``rclone serve
restic``), all through ``scripts/backup``:

1. ``snapshot`` + ``run``: the first upload (bytes restic added);
2. 1 % of the rows change (``UPDATE`` of a contiguous id range: the recent events), then
   ``snapshot`` + ``run`` again: the second upload. Goal: ≤ 10 % of the first;
3. ``restore NAME --into`` a new database with the local copy present (local restore), then
   with the snapshot directory wiped (fetched from the repository, verified, restored).
   Goal: ≤ 1.5× the local restore.

The same two dumps in the old format (``pg_dump --compress=1``, no ``--rsyncable``) go into a
second repository with plain restic, as the baseline the format choice was made against.
Prints one JSON object. Not a test: numbers are measured, never asserted.

    venv/bin/python benchmarks/backup_dedup.py [--rows 1000000]
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

import psycopg  # noqa: E402

from benchmarks.snapshot_create import make_events  # noqa: E402
from testkit.fake_pulumi import write_stack  # noqa: E402
from testkit.pg import start_postgres  # noqa: E402
from testkit.restic_server import RestServer  # noqa: E402
from togather_deploy.ops import backup_files  # noqa: E402

PASSWORD = "benchmark restic password"


def backup(project: str, *args: str, url: str) -> tuple[dict[str, object], float]:
    started = time.perf_counter()
    proc = subprocess.run([os.path.join(ROOT, "scripts", "backup"), *args, "--stack", "bench",
                           "--project-dir", project, "--json"], capture_output=True, text=True,
                          env={**os.environ, "DATABASE_URL": url})
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"scripts/backup {' '.join(args)}: {proc.stderr}")
    return json.loads(proc.stdout), elapsed


def old_format_ratio(url: str, work: str, change: str) -> dict[str, object]:
    """Plain restic over two ``pg_dump --compress=1`` files (the format before this change)."""
    repo, data = os.path.join(work, "old-repo"), os.path.join(work, "old-data")
    os.makedirs(data)
    env = {**os.environ, "RESTIC_PASSWORD": PASSWORD, "RESTIC_REPOSITORY": repo}
    subprocess.run(["restic", "init"], env=env, capture_output=True, check=True)
    added = []
    for i in range(2):
        if i == 1:
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute(change.replace("(moved)", "(moved again)"))
        subprocess.run(["pg_dump", "--compress=1", "--no-owner", "--no-acl", "--clean", "--if-exists",
                        "-f", os.path.join(data, f"{i}.sql.gz"), url], check=True)
        out = subprocess.run(["restic", "backup", "--json", data], env=env, capture_output=True, text=True,
                             check=True).stdout
        summary = [json.loads(line) for line in out.splitlines() if '"summary"' in line][-1]
        added.append(int(summary["data_added"]))
    return {"first_bytes": added[0], "second_bytes": added[1], "ratio": round(added[1] / added[0], 4)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    server = start_postgres()
    work = tempfile.mkdtemp(prefix="bench-backup-")
    rest = RestServer(os.path.join(work, "rest")).start()
    try:
        url = server.create_database("bench_events")
        make_events(url, args.rows)
        project, state, snaps = (os.path.join(work, d) for d in ("project", "state", "snaps"))
        write_stack(project, "bench", {
            "image": "ghcr.io/togather-foundation/server", "environment": "development",
            "blue": {"version": "v1.0.0"}, "stateDir": state, "snapshots": {"dir": snaps, "mode": "host"},
            "backup": {"repository": rest.repository, "password": {"secure": "v1:x"}}})
        backup_files.write_secrets(state, PASSWORD, {})
        snap1, snap1_s = backup(project, "snapshot", url=url)
        run1, run1_s = backup(project, "run", url=url)
        lo = args.rows - args.rows // 100 + 1  # 1 %: the most recent events
        change = f"UPDATE events SET description = description || ' (moved)' WHERE id >= {lo}"
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(change)
        time.sleep(1.1)  # snapshot names carry the second
        snap2, _ = backup(project, "snapshot", url=url)
        run2, run2_s = backup(project, "run", url=url)
        name = str(snap2["snapshot"])
        _, local_s = backup(project, "restore", name, "--into", "bench_local", "--yes", url=url)
        shutil.rmtree(snaps)
        remote, remote_s = backup(project, "restore", name, "--into", "bench_remote", "--yes", url=url)
        assert remote["fetched"] is True
        with psycopg.connect(server.dsn("bench_remote")) as conn:
            row = conn.execute("SELECT count(*) FROM events").fetchone()
        drill, drill_s = backup(project, "drill", url=url)
        b1, b2 = int(run1["bytes_added"]), int(run2["bytes_added"])  # type: ignore[call-overload]
        result = {
            "benchmark": "backup_dedup", "rows": args.rows, "changed_rows": args.rows - lo + 1,
            "snapshot_bytes": snap1["size"], "snapshot_s": round(snap1_s, 2),
            "first_upload": {"bytes_added": b1, "s": round(run1_s, 2)},
            "second_upload": {"bytes_added": b2, "s": round(run2_s, 2)},
            "dedup_ratio": round(b2 / b1, 4), "dedup_goal": "<= 0.10",
            "old_format_pg_dump_Z1": old_format_ratio(url, work, change),
            "restore_local_s": round(local_s, 2), "restore_from_repository_s": round(remote_s, 2),
            "restore_ratio": round(remote_s / local_s, 3), "restore_goal": "<= 1.5",
            "restored_rows": int(row[0]) if row else -1,
            "drill": {"s": round(drill_s, 2), "tables": drill["tables"], "rows": drill["rows"]},
        }
        print(json.dumps(result, indent=2))
    finally:
        rest.stop()
        shutil.rmtree(work, ignore_errors=True)
        server.stop()


if __name__ == "__main__":
    main()
