"""The migration runner against a real PostgreSQL 15: atomicity, dirty path, lock, idempotence."""

from __future__ import annotations

import os
import threading
import zlib

import psycopg
import pytest

from togather_deploy import ROOT
from togather_deploy.db.migrations.apply import force, migrate_up, status
from togather_deploy.db.migrations.database import VersionState, connect, current_lock_id, lock_id, redact
from togather_deploy.db.migrations.files import load_migrations, parse_migrations
from togather_deploy.errors import EXIT_LOCKED, EXIT_MIGRATION, DeployError, LockError, MigrationError

pytestmark = pytest.mark.postgres
DATA = os.path.join(ROOT, "tests", "data", "migrations")


def _one(url: str, sql: str) -> object:
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(sql).fetchone()
        return row[0] if row else None


def golang_migrate_lock_id(schema: str, table: str, database: str) -> int:
    """golang-migrate's formula written out independently: join names, CRC-32, times salt, uint32."""
    joined = "\x00".join([schema, table] + [database])
    return (zlib.crc32(joined.encode()) * 1486364155) % 2**32


@pytest.mark.parametrize("triple", [("public", "schema_migrations", "togather"),
                                    ("public", "schema_migrations", "sel_prod"),
                                    ("app", "migrations_log", "x")])
def test_lock_id_matches_golang_migrate(triple: tuple[str, str, str]) -> None:
    assert lock_id(*triple) == golang_migrate_lock_id(*triple)
    assert 0 <= lock_id(*triple) < 2**32


def test_lock_id_known_value() -> None:
    # crc32("public\x00schema_migrations\x00togather") computed once with Go's hash/crc32 formula.
    expected = (zlib.crc32(b"public\x00schema_migrations\x00togather") * 1486364155) & 0xFFFFFFFF
    assert lock_id("public", "schema_migrations", "togather") == expected


def test_applies_all_then_is_idempotent(database_url: str) -> None:
    migrations = load_migrations(os.path.join(DATA, "safe"))
    first = migrate_up(database_url, migrations)
    assert first.before == VersionState(None, False)
    assert [a.version for a in first.applied] == [1, 2, 3, 4]
    assert [a.transactional for a in first.applied] == [True, True, True, False]
    assert status(database_url) == VersionState(4, False)
    assert _one(database_url, "SELECT count(*) FROM schema_migrations") == 1
    assert _one(database_url, "SELECT count(*) FROM pg_indexes WHERE indexname = 'events_name_idx'") == 1
    again = migrate_up(database_url, migrations)
    assert again.applied == () and again.version == 4


def test_bad_sql_halfway_rolls_back_the_whole_file(database_url: str) -> None:
    migrations = load_migrations(os.path.join(DATA, "bad_sql"))
    with pytest.raises(MigrationError) as err:
        migrate_up(database_url, migrations)
    text = str(err.value)
    assert "000002_half_broken.up.sql failed at line 5" in text and "colour" in text
    assert "still clean" in text and err.value.exit_code == EXIT_MIGRATION
    assert status(database_url) == VersionState(1, False)
    assert _one(database_url, "SELECT to_regclass('tags')") is None


def test_non_transactional_failure_leaves_dirty_and_is_refused(database_url: str, tmp_path: str) -> None:
    texts = {"000001_t.up.sql": "CREATE TABLE t (a int); INSERT INTO t VALUES (1), (1);",
             "000002_uniq.up.sql": "CREATE UNIQUE INDEX CONCURRENTLY t_a ON t (a);",
             "000003_more.up.sql": "CREATE TABLE u (a int);"}
    migrations = parse_migrations(texts)
    with pytest.raises(MigrationError) as err:
        migrate_up(database_url, migrations, snapshot="togather_20260101T000000Z_v1.sql.gz")
    assert "dirty at version 2" in str(err.value)
    assert status(database_url) == VersionState(2, True)
    with pytest.raises(MigrationError) as refused:
        migrate_up(database_url, migrations, snapshot="togather_20260101T000000Z_v1.sql.gz")
    fix = refused.value.fix or ""
    assert "scripts/snapshot restore togather_20260101T000000Z_v1.sql.gz" in fix
    assert "scripts/migrate force 1" in fix and "nothing was run" in str(refused.value)
    assert _one(database_url, "SELECT to_regclass('u')") is None
    # The operator fixes the data and forces the version back, then it succeeds.
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("DROP INDEX IF EXISTS t_a; DELETE FROM t")
    assert force(database_url, 1) == VersionState(1, False)
    assert [a.version for a in migrate_up(database_url, migrations).applied] == [2, 3]


def test_force_minus_one_clears_the_version(database_url: str) -> None:
    migrate_up(database_url, parse_migrations({"000001_a.up.sql": "SELECT 1;"}))
    assert force(database_url, -1) == VersionState(None, False)


def test_lock_held_by_another_session_fails_clearly(database_url: str) -> None:
    holder = connect(database_url)
    try:
        holder.execute("SELECT pg_advisory_lock(%s)", (current_lock_id(holder),))
        with pytest.raises(LockError) as err:
            migrate_up(database_url, parse_migrations({"000001_a.up.sql": "SELECT 1;"}),
                       lock_timeout_s=0.5)
        assert err.value.exit_code == EXIT_LOCKED
        assert f"pid {holder.info.backend_pid}" in str(err.value)
    finally:
        holder.close()
    assert status(database_url) == VersionState(None, False)


def test_two_runners_exclude_each_other(database_url: str) -> None:
    """A slow migration holds the lock; the second runner waits, then sees nothing pending."""
    migrations = parse_migrations({"000001_slow.up.sql": "CREATE TABLE s (a int); SELECT pg_sleep(1.5);"})
    results: list[object] = []

    def run() -> None:
        try:
            results.append(migrate_up(database_url, migrations, lock_timeout_s=30))
        except Exception as exc:  # collected and asserted below
            results.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    applied = sorted(len(r.applied) for r in results)  # type: ignore[attr-defined]
    assert applied == [0, 1]
    assert status(database_url) == VersionState(1, False)


def test_version_newer_than_files_is_refused(database_url: str) -> None:
    migrate_up(database_url, parse_migrations({"000001_a.up.sql": "SELECT 1;",
                                                "000002_b.up.sql": "SELECT 1;"}))
    with pytest.raises(MigrationError) as err:
        migrate_up(database_url, parse_migrations({"000001_a.up.sql": "SELECT 1;"}))
    assert "newer than every migration file" in str(err.value)


def test_connection_refused_and_wrong_password_are_clear(postgres_server, database_url: str) -> None:
    from testkit.ports import free_port

    with pytest.raises(DeployError) as refused:
        status(f"postgresql://postgres:pw@127.0.0.1:{free_port()}/x")
    assert "cannot connect" in str(refused.value) and "is PostgreSQL running" in str(refused.value)
    bad = database_url.replace("test-superuser-pw", "wrong-secret-pw")
    with pytest.raises(DeployError) as wrong:
        status(bad)
    assert "password" in str(wrong.value) and "wrong-secret-pw" not in str(wrong.value)


def test_redact_removes_the_password() -> None:
    url = "postgresql://u:s3cr%40t@h:5432/d"
    text = redact(f"failed for {url} with s3cr@t", url)
    assert "s3cr" not in text and "u:***@h" in text


def test_permission_denied_names_the_file(postgres_server, database_url: str) -> None:
    """A non-superuser cannot create an extension: clear, rolled back."""
    name = database_url.rsplit("/", 1)[1]
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("DROP ROLE IF EXISTS app_user")
        conn.execute("CREATE ROLE app_user LOGIN PASSWORD 'app-user-pw'")
        conn.execute(f'GRANT CREATE ON DATABASE "{name}" TO app_user')
        conn.execute("GRANT CREATE ON SCHEMA public TO app_user")
    url = postgres_server.dsn(name, user="app_user", password="app-user-pw")
    migrations = parse_migrations({"000001_ext.up.sql": "CREATE TABLE a (i int);\nCREATE EXTENSION postgis;"})
    with pytest.raises(MigrationError) as err:
        migrate_up(url, migrations)
    assert "000001_ext.up.sql failed at line 2" in str(err.value)
    assert status(url) == VersionState(None, False)
