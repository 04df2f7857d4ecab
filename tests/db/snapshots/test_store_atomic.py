"""Atomicity: pg_dump killed halfway leaves nothing under a snapshot's final name."""

from __future__ import annotations

import os
import signal
import threading
import time

import psycopg
import pytest

from togather_deploy.db.snapshots.dump import Target, create_snapshot
from togather_deploy.db.snapshots.store import PARTIAL_RE, list_snapshots
from togather_deploy.errors import SnapshotError

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def _children_named(parent: int, name: str) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{entry}/comm") as fh:
                comm = fh.read().strip()
        except OSError:
            continue
        if int(fields[1]) == parent and comm == name:
            found.append(int(entry))
    return found


def big_database(url: str, rows: int = 600_000) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE big (id bigint PRIMARY KEY, a text, b text, c text)")
        conn.execute("INSERT INTO big SELECT g, md5(g::text), md5((g * 7)::text), md5((g * 13)::text) "
                     "FROM generate_series(1, %s) g", (rows,))


def test_kill_pg_dump_halfway(database_url: str, tmp_path: str) -> None:
    big_database(database_url)
    out = os.path.join(tmp_path, "snaps")
    errors: list[BaseException] = []

    def take() -> None:
        try:
            create_snapshot(database_url, out, target=Target("host"), app_version="v1", reason="t")
        except BaseException as exc:  # collected for the assertions below
            errors.append(exc)

    worker = threading.Thread(target=take)
    worker.start()
    killed = False
    deadline = time.monotonic() + 60
    while worker.is_alive() and time.monotonic() < deadline and not killed:
        partials = [n for n in os.listdir(out) if PARTIAL_RE.match(n)] if os.path.isdir(out) else []
        if partials and os.path.getsize(os.path.join(out, partials[0])) > 0:
            for pid in _children_named(os.getpid(), "pg_dump"):
                os.killpg(pid, signal.SIGKILL)  # pg_dump runs in its own process group
                killed = True
        time.sleep(0.002)
    worker.join(timeout=120)
    if not killed:
        pytest.fail("pg_dump finished before it could be killed: make big_database bigger")
    assert len(errors) == 1 and isinstance(errors[0], SnapshotError)
    assert "killed by signal 9" in str(errors[0]) and "no snapshot was written" in str(errors[0])
    assert os.listdir(out) == []
    assert list_snapshots(out) == []
