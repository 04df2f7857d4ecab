"""The restore drill: proof that the newest off-host copy restores, not just that it exists.

``drill`` fetches the newest snapshot of the newest repository snapshot into a scratch
directory (its sha256 must equal its ``.meta.json``'s), restores it into a scratch database
``<db>_drill`` (created, and dropped afterwards whatever happens), dumps that database again
and compares every table's row count and content digest with what the snapshot holds
(``togather_deploy.db.snapshots.contents``: the meta's ``tables``, or the fetched file itself
for snapshots older than that field). The live database is only read (to create and drop
the scratch one). A ``SnapshotError`` names what differed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass

from togather_deploy.commands import restic
from togather_deploy.commands.runner import spawn
from togather_deploy.config.db_url import parse_url, redact
from togather_deploy.db.migrations.database import connect
from togather_deploy.db.snapshots import contents
from togather_deploy.db.snapshots.dump import Target, pg_dump_argv
from togather_deploy.db.snapshots.restore import restore_snapshot
from togather_deploy.errors import SnapshotError
from togather_deploy.ops import backup


@dataclass(frozen=True)
class DrillReport:
    snapshot: str
    restic_snapshot: str
    scratch_database: str
    tables: int
    rows: int
    fetch_s: float
    restore_s: float
    compare_s: float


def scratch_name(dbname: str) -> str:
    return f"{dbname[:57]}_drill"  # PostgreSQL names stop at 63 bytes


def drill(repo: restic.Repo, url: str, *, target: Target, workdir: str) -> DrillReport:
    db = parse_url(url)
    newest = backup.newest_in_repo(repo, db.dbname)
    if newest is None:
        raise SnapshotError(f"the repository holds no snapshot of {db.dbname} to drill with",
                            fix="scripts/backup run --stack STACK  (uploads the local snapshots)")
    name, restic_id = newest
    os.makedirs(workdir, mode=0o700, exist_ok=True)
    scratch_dir = tempfile.mkdtemp(prefix="drill-", dir=workdir)
    scratch = scratch_name(db.dbname)
    try:
        started = time.perf_counter()
        snap = backup.fetch(repo, name, scratch_dir)
        fetched = time.perf_counter()
        _drop(url, scratch)
        restore_snapshot(url, scratch_dir, snap.name, target=target, into=scratch)
        restored = time.perf_counter()
        expected = (snap.meta or {}).get("tables") or contents.digest_file(snap.path)
        actual = _dump_digest(url, scratch, target)
        diff = contents.differences(expected, actual)
        if diff:
            raise SnapshotError(f"restore drill: {snap.name} restored, but {len(diff)} table(s) differ "
                                "from the snapshot", context={"tables": "; ".join(diff[:10])},
                                fix="take a new snapshot and backup now (scripts/backup snapshot, "
                                    "scripts/backup run) and look at the database server's log")
        return DrillReport(snapshot=snap.name, restic_snapshot=restic_id, scratch_database=scratch,
                           tables=len(actual), rows=sum(int(t["rows"]) for t in actual.values()),
                           fetch_s=round(fetched - started, 3), restore_s=round(restored - fetched, 3),
                           compare_s=round(time.perf_counter() - restored, 3))
    finally:
        shutil.rmtree(scratch_dir, ignore_errors=True)
        _drop(url, scratch)


def _dump_digest(url: str, scratch: str, target: Target) -> dict[str, dict[str, int | str]]:
    argv, env = pg_dump_argv(target, parse_url(url).with_dbname(scratch))
    proc = spawn(argv, env=env, stdout=subprocess.PIPE)
    assert proc.stdout is not None
    try:
        digest = contents.digest_stream(proc.stdout)
    finally:
        proc.stdout.close()
        err = proc.stderr.read() if proc.stderr else b""
        rc = proc.wait()
    if rc != 0:
        raise SnapshotError(f"restore drill: pg_dump of the scratch database failed (exit code {rc})",
                            context={"stderr": redact(err.decode("utf-8", "replace"), url)[-1500:]})
    return digest


def _drop(url: str, scratch: str) -> None:
    from psycopg import sql

    conn = connect(url)
    try:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(scratch)))
    finally:
        conn.close()
