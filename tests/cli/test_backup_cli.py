"""``scripts/backup`` end to end: real PostgreSQL, real restic, a real REST server (rclone) and a
local-path repository. Proves: upload, dedup on the 2nd run, repository retention, restore after
the local snapshot directory is wiped, a passing drill, a drill that detects a corrupted copy,
and a server that dies during an upload (local snapshot kept, failure recorded, next run catches up).
"""

from __future__ import annotations

import glob
import io
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from testkit.fake_pulumi import write_stack
from testkit.restic_server import RestServer
from togather_deploy.cli.backup import main
from togather_deploy.db.snapshots.store import list_snapshots
from togather_deploy.ops import audit
from togather_deploy.ops import backup_files as files
from togather_deploy.ops.backup_jobs import metrics_path

PASSWORD = "restic drill password 1234"
pytestmark = pytest.mark.postgres


class Stack:
    def __init__(self, root: str, url: str, repository: str, **backup: Any) -> None:
        self.root, self.url = root, url
        self.project = os.path.join(root, "project")
        self.state = os.path.join(root, "state")
        self.snaps = os.path.join(root, "snaps")
        write_stack(self.project, "t", {
            "image": "ghcr.io/togather-foundation/server", "environment": "development",
            "blue": {"version": "v1.0.0"}, "stateDir": self.state,
            "snapshots": {"dir": self.snaps, "mode": "host"},
            "backup": {"repository": repository, "password": {"secure": "v1:encrypted"}, **backup}})
        files.write_secrets(self.state, PASSWORD, {}, database_url=url)

    def run(self, *args: str, stdin: str = "") -> tuple[int, dict[str, Any], str]:
        out, err = io.StringIO(), io.StringIO()
        rc = main([*args, "--stack", "t", "--project-dir", self.project, "--json"], stdin=io.StringIO(stdin),
                  out=out, err=err, env={"HOME": self.root, "PATH": os.environ["PATH"]})
        return rc, json.loads(out.getvalue() or "{}"), err.getvalue()


def prom(st: Stack) -> str:
    return Path(metrics_path(st.state)).read_text()


def seed(url: str, n: int) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE events (id int PRIMARY KEY, title text, body text)")
        conn.execute("INSERT INTO events SELECT g, 'event ' || g, md5(g::text) || md5((g * 7)::text) "
                     "FROM generate_series(1, %s) g", (n,))


def count(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT count(*) FROM events").fetchone()
        return int(row[0]) if row else -1


@pytest.fixture
def rest(tmp_path: Any) -> Iterator[RestServer]:
    server = RestServer(str(tmp_path / "rest")).start()
    yield server
    server.stop()


def test_upload_dedup_retention_and_restore_after_the_snapshots_are_gone(
        database_url: str, tmp_path: Any, rest: RestServer) -> None:
    seed(database_url, 400_000)  # ~18 MB of dump: restic's chunks average 1 MiB
    st = Stack(str(tmp_path), database_url, rest.repository, keepDaily=1, keepWeekly=0, keepMonthly=0)
    rc, snap1, err = st.run("snapshot")
    assert rc == 0, err
    rc, first, err = st.run("run")
    assert rc == 0, err
    assert first["created_repository"] and first["bytes_added"] > 1_000_000
    with psycopg.connect(database_url, autocommit=True) as conn:  # 1 %: a contiguous range
        conn.execute("UPDATE events SET title = title || ' (moved)' WHERE id BETWEEN 200000 AND 203999")
    assert st.run("snapshot")[0] == 0
    rc, second, err = st.run("run")
    assert rc == 0, err
    # The new dump is a whole new file of the first one's size, yet most of its chunks are known.
    # Each dump costs ~2 chunks whatever changed: pg_dump >= 15.14 writes a random \restrict key
    # in its first and last lines.
    assert second["bytes_added"] < 0.5 * first["bytes_added"], (first, second)
    rc, listed, _ = st.run("list")
    assert rc == 0 and len(listed["restic_snapshots"]) == 1  # keepDaily=1: retention forgot one
    assert {d["name"] for d in listed["dumps"]} == {s.name for s in list_snapshots(st.snaps)}
    assert st.run("check")[0] == 0

    shutil.rmtree(st.snaps)  # the disk is gone
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("DROP TABLE events")
    rc, restored, err = st.run("restore", snap1["snapshot"], "--yes")
    assert rc == 0, err
    assert restored["fetched"] is True and count(database_url) == 400_000
    assert [s.name for s in list_snapshots(st.snaps)] == [snap1["snapshot"]]
    job = files.last(st.state, "backup")
    assert job is not None and job.ok
    assert 'togather_backup_last_run_success{backup_job="backup"} 1' in prom(st)
    assert "togather_backup_last_bytes_added " in prom(st)


def test_drill_passes_then_detects_a_corrupted_copy(database_url: str, tmp_path: Any) -> None:
    seed(database_url, 5000)
    st = Stack(str(tmp_path), database_url, str(tmp_path / "repo"))
    assert st.run("snapshot")[0] == 0 and st.run("run")[0] == 0
    rc, report, err = st.run("drill")
    assert rc == 0, err
    assert report["tables"] == 1 and report["rows"] == 5000
    assert not _scratch_exists(database_url, report["scratch_database"])

    # Rot on the local disk after the meta was written: restic faithfully uploads a bad file.
    import time
    time.sleep(1.1)  # snapshot names carry the second
    assert st.run("snapshot")[0] == 0
    newest = list_snapshots(st.snaps)[0]
    data = bytearray(Path(newest.path).read_bytes())
    data[len(data) // 2] ^= 0xFF
    Path(newest.path).write_bytes(bytes(data))
    assert st.run("run")[0] == 0
    rc, failed, err = st.run("drill")
    assert rc == 1 and ("checksum" in err or "gzip" in err), err
    assert not _scratch_exists(database_url, "t_drill")
    job = files.last(st.state, "drill")
    assert job is not None and not job.ok
    assert 'togather_backup_last_run_success{backup_job="drill"} 0' in prom(st)
    assert audit.read_events(st.state)[-1]["event"] == "backup.job_failed"

    # Damage inside the repository itself: restic's own authentication refuses the pack.
    os.unlink(newest.path)
    os.unlink(newest.meta_path)
    assert st.run("run")[0] == 0
    for pack in glob.glob(str(tmp_path / "repo" / "data" / "*" / "*")):
        os.chmod(pack, 0o600)
        blob = bytearray(Path(pack).read_bytes())
        for at in range(100, len(blob), 256):  # every blob in the pack, small ones too
            blob[at] ^= 0xFF
        Path(pack).write_bytes(bytes(blob))
    rc, _, err = st.run("drill")
    assert rc == 1 and "fetch" in err, err


def _scratch_exists(url: str, name: str) -> bool:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is not None


def test_server_down_during_upload_keeps_the_snapshot_and_the_next_run_catches_up(
        database_url: str, tmp_path: Any, rest: RestServer) -> None:
    seed(database_url, 1000)
    st = Stack(str(tmp_path), database_url, rest.repository)
    assert st.run("snapshot")[0] == 0 and st.run("run")[0] == 0
    with open(os.path.join(st.snaps, "big-incompressible.bin"), "wb") as fh:
        fh.write(os.urandom(64 << 20))  # something to be uploading when the server dies
    proc = subprocess.Popen(["scripts/backup", "run", "--stack", "t", "--project-dir", st.project,
                             "--timeout", "20"], cwd=os.path.dirname(os.path.dirname(os.path.dirname(
                                 os.path.abspath(__file__)))), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _wait_for_child(proc.pid, "restic backup")
    rest.stop()
    _out, err = proc.communicate(timeout=120)
    assert proc.returncode == 1, err
    assert b"restic" in err and PASSWORD.encode() not in err
    assert len(list_snapshots(st.snaps)) == 1  # the local snapshot is untouched
    job = files.last(st.state, "backup")
    assert job is not None and not job.ok and (job.facts or {}).get("last_success")
    assert 'togather_backup_last_run_success{backup_job="backup"} 0' in prom(st)
    rest.start()
    rc, _, text = st.run("run")
    assert rc == 0, text
    job = files.last(st.state, "backup")
    assert job is not None and job.ok


def _wait_for_child(pid: int, args: str, timeout: float = 60) -> None:
    """Until a direct child of ``pid`` runs with ``args`` in its command line (scripts/backup execs
    python, so restic is a direct child), then half a second more: its upload is under way."""
    import time
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        out = subprocess.run(["ps", "-o", "args=", "--ppid", str(pid)], capture_output=True, text=True).stdout
        if args in out:
            time.sleep(0.5)
            return
        time.sleep(0.05)
    raise AssertionError(f"no child ran {args!r}")
