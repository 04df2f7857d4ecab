"""Restoring a snapshot: verified first, loaded by ``psql`` in one transaction.

``restore_snapshot`` checks the file (gzip, trailer, sha256 against its
``.meta.json``) before touching the database, then streams the decompressed
dump into ``psql --single-transaction --set=ON_ERROR_STOP=1`` (in the database
container, or on the host): an error anywhere leaves the target unchanged.
``into`` restores into another database, created if missing, so an operator
can inspect a snapshot next to the live data.
"""

from __future__ import annotations

import contextlib
import threading
import time
import zlib
from dataclasses import dataclass
from typing import Any

from togather_deploy.commands.runner import spawn
from togather_deploy.config.db_url import parse_url, redact
from togather_deploy.db.migrations.database import connect
from togather_deploy.db.snapshots.dump import Target, psql_restore_argv
from togather_deploy.db.snapshots.store import find_snapshot, verify_snapshot
from togather_deploy.errors import SnapshotError


@dataclass(frozen=True)
class Restored:
    snapshot: str
    database: str
    duration_s: float


def restore_snapshot(url: str, directory: str, name: str, *, target: Target,
                     into: str | None = None) -> Restored:
    """Verify a snapshot, then load it into the URL's database or ``into`` (created if missing),
    in one transaction: on error nothing is half-restored."""
    snap = find_snapshot(directory, name)
    verify_snapshot(snap)
    db = parse_url(url)
    dest = db.with_dbname(into) if into else db
    if into:
        _create_database_if_missing(url, into)
    argv, env = psql_restore_argv(target, dest)
    started = time.perf_counter()
    proc = spawn(argv, env=env, stdin=-1)
    errors: list[bytes] = []
    drain = threading.Thread(target=lambda: errors.append(proc.stderr.read() if proc.stderr else b""))
    drain.start()
    try:
        _feed(snap.path, proc)
    finally:
        rc = proc.wait()
        drain.join(timeout=30)
    if rc != 0:
        stderr = redact(b"".join(errors).decode("utf-8", "replace"), url).strip()
        raise SnapshotError(f"restore of {snap.name} into {dest.dbname} failed (psql exit code {rc}); "
                            "it ran in one transaction, so the database is unchanged",
                            context={"stderr": stderr[-1500:]})
    return Restored(snapshot=snap.name, database=dest.dbname,
                    duration_s=round(time.perf_counter() - started, 3))


def _feed(path: str, proc: Any) -> None:
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        with open(path, "rb") as fh:
            while chunk := fh.read(1 << 20):
                proc.stdin.write(inflater.decompress(chunk))
            proc.stdin.write(inflater.flush())
    except BrokenPipeError:
        pass  # psql stopped on an error: its exit code and stderr say which
    finally:
        with contextlib.suppress(BrokenPipeError):
            proc.stdin.close()


def _create_database_if_missing(url: str, name: str) -> None:
    from psycopg import sql

    conn = connect(url)
    try:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    finally:
        conn.close()
