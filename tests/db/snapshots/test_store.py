"""Snapshots against a real PostgreSQL 15 + PostGIS with the real pg_dump/psql (host mode)."""

from __future__ import annotations

import gzip
import json
import os
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from togather_deploy.db.migrations.database import parse_url
from togather_deploy.db.snapshots.dump import (
    Target,
    create_snapshot,
    gzip_argv,
    pg_dump_argv,
    psql_restore_argv,
)
from togather_deploy.db.snapshots.restore import restore_snapshot
from togather_deploy.db.snapshots.store import (
    latest_snapshot,
    list_snapshots,
    parse_name,
    plan_prune,
    prune,
    snapshot_name,
    verify_file,
)
from togather_deploy.errors import SnapshotError

HOST = Target(mode="host")
T0 = datetime(2026, 11, 1, 12, 0, 0, tzinfo=UTC)


def seed(url: str, rows: int = 2000) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        conn.execute("CREATE TABLE events (id bigserial PRIMARY KEY, name text NOT NULL, "
                     "at timestamptz NOT NULL, place geometry(Point, 4326))")
        conn.execute("CREATE INDEX events_at_idx ON events (at)")
        conn.execute("INSERT INTO events (name, at, place) SELECT 'event ' || g || ' ' || md5(g::text), "
                     "now() - g * interval '1 minute', ST_SetSRID(ST_MakePoint(g %% 180, g %% 90), 4326) "
                     "FROM generate_series(1, %s) g", (rows,))
        conn.execute("CREATE TABLE schema_migrations (version bigint PRIMARY KEY, dirty boolean NOT NULL)")
        conn.execute("INSERT INTO schema_migrations VALUES (7, false)")


def fingerprint(url: str) -> tuple[int, str]:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT count(*), md5(string_agg(id || name || at::text || ST_AsText(place), "
                           "',' ORDER BY id)) FROM events").fetchone()
        assert row is not None
        return int(row[0]), str(row[1])


def test_names_round_trip() -> None:
    name = snapshot_name("togather_db", T0, "v1.4.0")
    assert name == "togather_db_20261101T120000Z_v1.4.0.sql.gz"
    assert parse_name(name) == ("togather_db", T0, "v1.4.0")
    assert parse_name(".togather_20261101T120000Z_v1.sql.gz.partial-12") is None


def test_argv_never_carries_the_password() -> None:
    db = parse_url("postgresql://togather:s3cret@127.0.0.1:15432/togather")
    argv, env = pg_dump_argv(Target("container", "proj-db"), db)
    assert argv[:5] == ("docker", "exec", "-e", "PGPASSWORD", "proj-db")
    assert "--username=togather" in argv and "--dbname=togather" in argv and "--compress=0" in argv
    assert gzip_argv(1) == ("gzip", "-1", "--rsyncable", "--no-name")
    assert env == {"PGPASSWORD": "s3cret"} and not any("s3cret" in a for a in argv)
    argv, env = psql_restore_argv(HOST, db)
    assert argv[0] == "psql" and "--single-transaction" in argv and "--set=ON_ERROR_STOP=1" in argv
    assert "--dbname=postgresql://togather@127.0.0.1:15432/togather" in argv
    assert not any("s3cret" in a for a in argv)


@pytest.mark.postgres
def test_restore_drill(database_url: str, tmp_path: str) -> None:
    """data → snapshot → damage → restore → identical row counts and checksums."""
    seed(database_url)
    before = fingerprint(database_url)
    snap = create_snapshot(database_url, str(tmp_path), target=HOST, app_version="v1.4.0", reason="drill")
    assert stat.S_IMODE(os.stat(tmp_path).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(snap.path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(snap.meta_path).st_mode) == 0o600
    meta = json.loads(Path(snap.meta_path).read_text())
    assert meta["schema_version"] == 7 and meta["reason"] == "drill" and meta["app_version"] == "v1.4.0"
    assert meta["size"] == os.path.getsize(snap.path) and meta["pg_dump_version"].startswith("pg_dump")
    assert meta["sha256"] == verify_file(snap.path).sha256
    assert gzip.decompress(Path(snap.path).read_bytes()).count(b"COPY public.events") == 1
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("DELETE FROM events WHERE id % 3 = 0")
        conn.execute("UPDATE events SET name = 'damaged'")
        conn.execute("DROP INDEX events_at_idx")
    assert fingerprint(database_url) != before
    restore_snapshot(database_url, str(tmp_path), snap.name, target=HOST)
    assert fingerprint(database_url) == before
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT to_regclass('events_at_idx')").fetchone() == ("events_at_idx",)


@pytest.mark.postgres
def test_restore_into_another_database(postgres_server, database_url: str, tmp_path: str) -> None:
    seed(database_url, 300)
    snap = create_snapshot(database_url, str(tmp_path), target=HOST, app_version="v1", reason="t")
    into = "restored_" + database_url.rsplit("_", 1)[1]
    done = restore_snapshot(database_url, str(tmp_path), snap.name, target=HOST, into=into)
    assert done.database == into
    assert fingerprint(postgres_server.dsn(into)) == fingerprint(database_url)


@pytest.mark.postgres
def test_corrupt_and_truncated_snapshots_are_refused(database_url: str, tmp_path: str) -> None:
    seed(database_url, 300)
    snap = create_snapshot(database_url, str(tmp_path), target=HOST, app_version="v1", reason="t")
    data = Path(snap.path).read_bytes()
    with open(snap.path, "wb") as fh:
        fh.write(data[: len(data) // 2])
    with pytest.raises(SnapshotError, match="truncated|checksum"):
        restore_snapshot(database_url, str(tmp_path), snap.name, target=HOST)
    with open(snap.path, "wb") as fh:
        fh.write(gzip.compress(b"-- half a dump without its trailer\n"))
    with pytest.raises(SnapshotError, match="completion trailer"):
        verify_file(snap.path)


def _files(directory: str) -> list[str]:
    return sorted(os.listdir(directory)) if os.path.isdir(directory) else []


@pytest.mark.postgres
def test_pg_dump_missing(database_url: str, tmp_path: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    out = os.path.join(tmp_path, "snaps")
    with pytest.raises(SnapshotError) as err:
        create_snapshot(database_url, out, target=HOST, app_version="v1", reason="t")
    assert "pg_dump" in str(err.value) and "postgresql-client" in (err.value.fix or "")
    assert _files(out) == []


@pytest.mark.postgres
def test_permission_denied_for_a_table(postgres_server, database_url: str, tmp_path: str) -> None:
    seed(database_url, 10)
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("DROP ROLE IF EXISTS snap_reader")
        conn.execute("CREATE ROLE snap_reader LOGIN PASSWORD 'reader-pw-123'")
        conn.execute("GRANT SELECT ON schema_migrations TO snap_reader")
    url = postgres_server.dsn(database_url.rsplit("/", 1)[1], user="snap_reader", password="reader-pw-123")
    with pytest.raises(SnapshotError) as err:
        create_snapshot(url, str(tmp_path), target=HOST, app_version="v1", reason="t")
    assert "permission denied for table events" in str(err.value) and "pg_dump failed" in str(err.value)
    assert "reader-pw-123" not in str(err.value)
    assert _files(str(tmp_path)) == []
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("REVOKE SELECT ON schema_migrations FROM snap_reader")
    with pytest.raises(SnapshotError, match="cannot read the schema version"):
        create_snapshot(url, str(tmp_path), target=HOST, app_version="v1", reason="t")


@pytest.mark.postgres
def test_wrong_password_is_clear(database_url: str, tmp_path: str) -> None:
    from togather_deploy.errors import DeployError

    with pytest.raises(DeployError) as err:
        create_snapshot(database_url.replace("test-superuser-pw", "nope-pw-999"), str(tmp_path),
                        target=HOST, app_version="v1", reason="t")
    assert "password" in str(err.value) and "nope-pw-999" not in str(err.value)
    assert _files(str(tmp_path)) == []


def _mount_tmpfs(path: str, options: str) -> None:
    import subprocess

    os.makedirs(path, exist_ok=True)
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", path], capture_output=True)
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({proc.stderr.decode().strip()}): needs root/CAP_SYS_ADMIN")


def _umount(path: str) -> None:
    import subprocess

    subprocess.run(["umount", path], capture_output=True, check=False)


@pytest.mark.postgres
def test_disk_full_leaves_nothing(database_url: str, tmp_path: str) -> None:
    seed(database_url, 20000)
    small = os.path.join(tmp_path, "small")
    _mount_tmpfs(small, "size=64k,mode=0700")
    try:
        with pytest.raises(SnapshotError) as err:
            create_snapshot(database_url, small, target=HOST, app_version="v1", reason="t")
        assert "no space left" in str(err.value)
        assert _files(small) == []
    finally:
        _umount(small)


@pytest.mark.postgres
def test_directory_not_writable(database_url: str, tmp_path: str) -> None:
    ro = os.path.join(tmp_path, "ro")
    _mount_tmpfs(ro, "ro,mode=0700")
    try:
        with pytest.raises(SnapshotError) as err:
            create_snapshot(database_url, ro, target=HOST, app_version="v1", reason="t")
        assert "not writable" in str(err.value) or "cannot be created" in str(err.value)
        assert _files(ro) == []
    finally:
        _umount(ro)


def _fake(directory: str, when: datetime, db: str = "togather") -> None:
    path = os.path.join(directory, snapshot_name(db, when, "v1"))
    with open(path, "wb") as fh:
        fh.write(b"x")


def test_retention_keeps_keep_min_and_prunes_old(tmp_path: str) -> None:
    now = T0
    for days in (0, 1, 2, 10, 20, 30):
        _fake(str(tmp_path), now - timedelta(days=days))
    _fake(str(tmp_path), now - timedelta(days=40), db="other")
    removed = prune(str(tmp_path), retention_days=7, keep_min=3, database="togather", now=now)
    assert [s.created_at for s in removed] == [now - timedelta(days=d) for d in (10, 20, 30)]
    assert len(list_snapshots(str(tmp_path), "togather")) == 3
    assert len(list_snapshots(str(tmp_path), "other")) == 1


def test_retention_never_drops_below_keep_min(tmp_path: str) -> None:
    for days in (50, 60, 70, 80):
        _fake(str(tmp_path), T0 - timedelta(days=days))
    snaps = list_snapshots(str(tmp_path))
    assert len(plan_prune(snaps, T0, retention_days=7, keep_min=3)) == 1
    assert plan_prune(snaps, T0, retention_days=7, keep_min=5) == []
    latest = latest_snapshot(str(tmp_path))
    assert latest is not None and latest.created_at == T0 - timedelta(days=50)


def test_a_container_name_is_never_read_as_a_docker_flag() -> None:
    from togather_deploy.db.migrations.database import parse_url
    from togather_deploy.errors import ConfigError

    db = parse_url("postgresql://u:pw@h:5432/d")
    with pytest.raises(ConfigError, match="--container"):
        pg_dump_argv(Target(mode="container", container="--privileged"), db)
