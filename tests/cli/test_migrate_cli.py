"""``scripts/migrate``: exit codes and messages for every failure mode, against real PostgreSQL."""

from __future__ import annotations

import json
import os
import subprocess

import psycopg
import pytest

from testkit.ports import free_port
from togather_deploy import ROOT
from togather_deploy.cli.migrate import build_parser
from togather_deploy.db.migrations.database import connect, current_lock_id

DATA = os.path.join(ROOT, "tests", "data", "migrations")
SCRIPT = os.path.join(ROOT, "scripts", "migrate")


def migrate(*args: str, url: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    if url:
        env["DATABASE_URL"] = url
    return subprocess.run([SCRIPT, *args], capture_output=True, text=True, env=env, timeout=120)


@pytest.mark.parametrize("line", [
    "status --dir migrations", "up --dir migrations --json", "lint --all --dir migrations",
    "force 41 --database-url postgresql://u@h/d", "force -1", "--json --stack production up",
    "up --lock-timeout 30 --snapshot-dir /var/lib/togather-deploy/production/snapshots",
])
def test_documented_commands_parse(line: str) -> None:
    build_parser().parse_args(line.split())


def test_usage_error_is_exit_2() -> None:
    assert migrate("sideways").returncode == 2


def test_missing_url_is_exit_10() -> None:
    proc = migrate("status", "--dir", os.path.join(DATA, "safe"))
    assert proc.returncode == 10 and "DATABASE_URL" in proc.stderr


def test_lint_exit_codes() -> None:
    bad = migrate("lint", "--all", "--dir", os.path.join(DATA, "unsafe"), "--json")
    assert bad.returncode == 1
    findings = json.loads(bad.stdout)["findings"]
    assert len(findings) == 2 and "drop-column" in findings[0]
    assert migrate("lint", "--all", "--dir", os.path.join(DATA, "safe")).returncode == 0


@pytest.mark.postgres
def test_up_status_idempotent(database_url: str) -> None:
    safe = os.path.join(DATA, "safe")
    up = migrate("up", "--dir", safe, "--json", url=database_url)
    assert up.returncode == 0, up.stderr
    assert [a["version"] for a in json.loads(up.stdout)["applied"]] == [1, 2, 3, 4]
    status = migrate("status", "--dir", safe, url=database_url)
    assert status.returncode == 0 and "version 4" in status.stdout and "pending: none" in status.stdout
    again = migrate("up", "--dir", safe, url=database_url)
    assert again.returncode == 0 and "nothing to apply" in again.stdout


@pytest.mark.postgres
def test_bad_sql_is_exit_5_and_names_file_and_line(database_url: str) -> None:
    proc = migrate("up", "--dir", os.path.join(DATA, "bad_sql"), url=database_url)
    assert proc.returncode == 5
    assert "000002_half_broken.up.sql failed at line 5" in proc.stderr and "still clean" in proc.stderr
    assert "test-superuser-pw" not in proc.stderr + proc.stdout


@pytest.mark.postgres
def test_dirty_database_is_refused_with_recovery_steps(database_url: str, tmp_path: str) -> None:
    snaps = os.path.join(tmp_path, "snaps")
    os.makedirs(snaps)
    open(os.path.join(snaps, "t_20261101T120000Z_v1.4.0.sql.gz"), "w").close()
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE schema_migrations (version bigint PRIMARY KEY, dirty boolean NOT NULL)")
        conn.execute("INSERT INTO schema_migrations VALUES (3, true)")
    proc = migrate("up", "--dir", os.path.join(DATA, "safe"), "--snapshot-dir", snaps, url=database_url)
    assert proc.returncode == 5 and "dirty at version 3" in proc.stderr
    assert "scripts/snapshot restore t_20261101T120000Z_v1.4.0.sql.gz" in proc.stderr
    assert "scripts/migrate force 2" in proc.stderr
    forced = migrate("force", "2", url=database_url)
    assert forced.returncode == 0 and "version 2" in forced.stdout and "DIRTY" not in forced.stdout


@pytest.mark.postgres
def test_lock_held_is_exit_3(database_url: str) -> None:
    holder = connect(database_url)
    try:
        holder.execute("SELECT pg_advisory_lock(%s)", (current_lock_id(holder),))
        proc = migrate("up", "--dir", os.path.join(DATA, "safe"), "--lock-timeout", "0.5", url=database_url)
        assert proc.returncode == 3 and "migration lock" in proc.stderr and "holder: pid" in proc.stderr
    finally:
        holder.close()


@pytest.mark.postgres
def test_connection_refused_and_wrong_password(database_url: str) -> None:
    refused = migrate("status", "--database-url", f"postgresql://u:pw-x-123@127.0.0.1:{free_port()}/d")
    assert refused.returncode == 1 and "cannot connect" in refused.stderr
    assert "pw-x-123" not in refused.stderr
    wrong = migrate("status", url=database_url.replace("test-superuser-pw", "not-the-pw-42"))
    assert wrong.returncode == 1 and "password authentication failed" in wrong.stderr
    assert "not-the-pw-42" not in wrong.stderr + wrong.stdout


def test_bad_directory_is_exit_10(tmp_path: str) -> None:
    with open(os.path.join(tmp_path, "000001_a.down.sql"), "w") as fh:
        fh.write("SELECT 1;")
    proc = migrate("lint", "--all", "--dir", str(tmp_path))
    assert proc.returncode == 10 and "000001_a.down.sql" in proc.stderr


@pytest.mark.postgres
def test_lint_with_a_database_lints_only_pending_files(database_url: str) -> None:
    assert migrate("up", "--dir", os.path.join(DATA, "safe"), url=database_url).returncode == 0
    proc = migrate("lint", "--dir", os.path.join(DATA, "unsafe"), "--json", url=database_url)
    result = json.loads(proc.stdout)
    assert proc.returncode == 1 and result["pending"] == ["000005_drop_events_description"]
    assert result["version"] == 4 and len(result["findings"]) == 2


@pytest.mark.postgres
def test_the_url_can_come_from_a_file_so_it_stays_out_of_ps(database_url: str, tmp_path) -> None:
    url_file = tmp_path / "db-url"
    url_file.write_text(database_url + "\n")
    url_file.chmod(0o600)
    status = migrate("status", "--dir", os.path.join(DATA, "safe"), "--database-url-file", str(url_file))
    assert status.returncode == 0, status.stderr
    missing = migrate("status", "--database-url-file", str(tmp_path / "nope"))
    assert missing.returncode == 10 and "--database-url-file" in missing.stderr
    for script in ("migrate", "snapshot"):
        text = " ".join(subprocess.run([os.path.join(ROOT, "scripts", script), "--help"],
                                       capture_output=True, text=True, timeout=60).stdout.split())
        assert "--database-url-file" in text and "`ps`" in text and "$DATABASE_URL" in text
