"""``scripts/snapshot``: the operator path end to end, and its failure modes, against real PostgreSQL."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import time

import psycopg
import pytest

from togather_deploy import ROOT
from togather_deploy.cli.snapshot import build_parser, main
from togather_deploy.db.snapshots.store import PARTIAL_RE, list_snapshots

SCRIPT = os.path.join(ROOT, "scripts", "snapshot")


def snapshot(*args: str, url: str | None = None, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    if url:
        env["DATABASE_URL"] = url
    return subprocess.run([SCRIPT, *args], capture_output=True, text=True, env=env, input=stdin,
                          timeout=300)


def rows(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT count(*) FROM notes").fetchone()
        return int(row[0]) if row else -1


def seed(url: str, n: int = 500) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE notes (id int PRIMARY KEY, body text)")
        conn.execute("INSERT INTO notes SELECT g, md5(g::text) FROM generate_series(1, %s) g", (n,))


@pytest.mark.parametrize("line", [
    "create --dir /srv/snaps --app-version v1.4.0", "list --json --dir /srv/snaps",
    "verify --dir /srv/snaps", "restore togather_20261101T120000Z_v1.sql.gz --into scratch --yes --dir /s",
    "prune --retention-days 7 --keep-min 3 --dry-run --dir /s", "--stack production list",
    "create --mode container --container togather-deploy-production-db --dir /s",
])
def test_documented_commands_parse(line: str) -> None:
    build_parser().parse_args(line.split())


def test_usage_and_config_errors(tmp_path: str) -> None:
    assert snapshot("explode").returncode == 2
    missing = snapshot("create", "--dir", os.path.join(tmp_path, "s"))
    assert missing.returncode == 10 and "DATABASE_URL" in missing.stderr
    assert not os.path.exists(os.path.join(tmp_path, "s"))
    for bad in ("/", "/etc", "../../.."):  # the operator's --dir gets the config's rules
        refused = snapshot("list", "--dir", bad)
        assert refused.returncode == 10 and "--dir: must be" in refused.stderr, refused.stderr


@pytest.mark.postgres
def test_create_list_verify_restore(database_url: str, tmp_path: str) -> None:
    seed(database_url)
    d = os.path.join(tmp_path, "snaps")
    made = snapshot("create", "--dir", d, "--app-version", "v1.4.0", "--json", url=database_url)
    assert made.returncode == 0, made.stderr
    name = json.loads(made.stdout)["snapshots"][0]["name"]
    assert name.endswith("_v1.4.0.sql.gz") and "test-superuser-pw" not in made.stdout
    listed = json.loads(snapshot("list", "--dir", d, "--json").stdout)["snapshots"]
    assert [s["name"] for s in listed] == [name]
    assert snapshot("verify", "--dir", d).returncode == 0
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("DELETE FROM notes WHERE id > 100")
    refused = snapshot("restore", name, "--dir", d, url=database_url, stdin="wrong-name\n")
    assert refused.returncode == 1 and "cancelled" in refused.stderr and rows(database_url) == 100
    dbname = database_url.rsplit("/", 1)[1]
    done = snapshot("restore", name, "--dir", d, url=database_url, stdin=f"{dbname}\n")
    assert done.returncode == 0, done.stderr
    assert rows(database_url) == 500


@pytest.mark.postgres
def test_pg_dump_missing_is_exit_1(database_url: str, tmp_path: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    err = io.StringIO()
    code = main(["create", "--dir", os.path.join(tmp_path, "s")], out=io.StringIO(), err=err,
                env={"DATABASE_URL": database_url})
    assert code == 1 and "pg_dump" in err.getvalue() and "test-superuser-pw" not in err.getvalue()


@pytest.mark.postgres
def test_unwritable_directory_is_exit_1(database_url: str, tmp_path: str) -> None:
    ro = os.path.join(tmp_path, "ro")
    os.makedirs(ro)
    # mode=0700: a tmpfs root is 1777 by default, which is refused (exit 10) before writability
    mount = ["mount", "-t", "tmpfs", "-o", "ro,mode=0700", "tmpfs", ro]
    if subprocess.run(mount, capture_output=True).returncode:
        pytest.skip("cannot mount a read-only tmpfs here (needs root/CAP_SYS_ADMIN)")
    try:
        proc = snapshot("create", "--dir", ro, url=database_url)
        assert proc.returncode == 1 and ("not writable" in proc.stderr or "cannot be created" in proc.stderr)
    finally:
        subprocess.run(["umount", ro], capture_output=True, check=False)


def _child_pg_dump(parent: int) -> int | None:
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{entry}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{entry}/comm") as fh:
                if fh.read().strip() == "pg_dump" and int(fields[1]) == parent:
                    return int(entry)
        except OSError:
            continue
    return None


@pytest.mark.postgres
@pytest.mark.slow
def test_killing_the_whole_command_leaves_no_snapshot(database_url: str, tmp_path: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE big AS SELECT g AS id, md5(g::text) a, md5((g*3)::text) b, "
                     "md5((g*5)::text) c FROM generate_series(1, 600000) g")
    d = os.path.join(tmp_path, "snaps")
    env = {**os.environ, "DATABASE_URL": database_url}
    proc = subprocess.Popen([SCRIPT, "create", "--dir", d], env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    killed = False
    deadline = time.monotonic() + 60
    while proc.poll() is None and time.monotonic() < deadline:
        partial = [n for n in os.listdir(d) if PARTIAL_RE.match(n)] if os.path.isdir(d) else []
        dump = _child_pg_dump(proc.pid)
        if partial and dump and os.path.getsize(os.path.join(d, partial[0])) > 0:
            os.killpg(proc.pid, signal.SIGKILL)  # the command...
            os.killpg(dump, signal.SIGKILL)  # ...and pg_dump, its own process group
            killed = True
            break
        time.sleep(0.002)
    proc.wait(timeout=60)
    if not killed:
        pytest.fail("the snapshot finished before it could be killed: make the table bigger")
    assert list_snapshots(d) == []
    assert all(PARTIAL_RE.match(n) for n in os.listdir(d))  # only a hidden partial may remain


def test_create_for_a_stack_refreshes_the_deploy_metrics(database_url: str, tmp_path) -> None:
    """SnapshotTooOld reads the textfile node-exporter serves: a snapshot taken by hand counts."""
    from togather_deploy.cli.snapshot import Settings, create
    from togather_deploy.config.model import load_config
    from togather_deploy.db.snapshots.dump import Target

    cfg = load_config({"image": "x/server", "environment": "development", "blue": {"version": "v1"},
                       "stateDir": str(tmp_path / "state")},
                      project="togather-deploy", stack="t", project_dir=str(tmp_path))
    st = Settings(url=database_url, dir=cfg.snapshots.dir, target=Target("host", None),
                  retention_days=7, keep_min=3, stack=cfg)
    result = create(st, app_version="v1", reason="by hand")
    metrics = (tmp_path / "state" / "metrics" / "togather_deploy.prom").read_text()
    size = result.snapshots[0].size
    assert f"togather_deploy_last_snapshot_size_bytes {size}" in metrics
    assert "togather_deploy_last_snapshot_timestamp_seconds" in metrics
