"""Database URLs against a real PostgreSQL: a password holding ``:@/#?%`` works everywhere, a
database name cannot redirect a connection, and no failure prints the password."""

from __future__ import annotations

import uuid

import psycopg
import pytest

from togather_deploy.config.db_url import build_url, database_name, parse_url
from togather_deploy.config.model import load_config
from togather_deploy.db.migrations.database import connect
from togather_deploy.db.snapshots.dump import Target, create_snapshot
from togather_deploy.db.snapshots.restore import restore_snapshot
from togather_deploy.errors import EXIT_CONFIG, ConfigError, DeployError
from togather_deploy.render.containers import database_url

NASTY = "p:@/#?%25w0rd&x= y"
HOST = Target(mode="host")


@pytest.fixture
def nasty_url(postgres_server) -> str:
    """A real login role whose password holds every URL delimiter, owning a fresh database."""
    role, db = f"r_{uuid.uuid4().hex[:8]}", f"d_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(postgres_server.dsn(), autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {role} LOGIN PASSWORD %s".replace("%s", "'" + NASTY + "'"))
        conn.execute(f"CREATE DATABASE {db} OWNER {role}")
    return build_url(role, NASTY, "127.0.0.1", postgres_server.port, db)


def test_a_password_with_url_delimiters_connects_and_dumps(nasty_url: str, tmp_path) -> None:
    assert parse_url(nasty_url).password == NASTY
    conn = connect(nasty_url)
    try:
        conn.execute("CREATE TABLE t (x int)")
    finally:
        conn.close()
    snap = create_snapshot(nasty_url, str(tmp_path), target=HOST, app_version="v1", reason="t")
    restore_snapshot(nasty_url, str(tmp_path), snap.name, target=HOST)


def test_the_app_url_round_trips_any_password() -> None:
    cfg = load_config({"image": "x", "blue": {"version": "v1"}, "environment": "development"},
                      project="p", stack="s", project_dir="/")
    url = database_url(cfg, NASTY)
    assert url.startswith("postgres://togather:") and url.endswith("@db:5432/togather?sslmode=disable")
    db = parse_url(url)
    assert (db.password, db.host, db.dbname, db.params) == (NASTY, "db", "togather",
                                                            (("sslmode", "disable"),))


def test_restore_into_a_name_that_redirects_is_refused_before_anything(
        nasty_url: str, postgres_server, tmp_path) -> None:
    snap = create_snapshot(nasty_url, str(tmp_path), target=HOST, app_version="v1", reason="t")
    evil = f"inspect?host=127.0.0.2&port={postgres_server.port}"
    with pytest.raises(ConfigError) as info:
        restore_snapshot(nasty_url, str(tmp_path), snap.name, target=HOST, into=evil)
    assert info.value.key == "--into" and info.value.exit_code == EXIT_CONFIG
    with psycopg.connect(postgres_server.dsn(), autocommit=True) as conn:
        assert conn.execute("SELECT count(*) FROM pg_database WHERE datname LIKE 'inspect%'"
                            ).fetchone() == (0,)


@pytest.mark.parametrize("raw_password", ["50%", "a'b c", "x=y host=127.0.0.2"])
def test_an_unencoded_password_fails_clearly_without_echoing_it(postgres_server, raw_password) -> None:
    url = f"postgresql://postgres:{raw_password}@127.0.0.1:{postgres_server.port}/postgres"
    with pytest.raises(DeployError) as info:
        connect(url)
    assert raw_password not in str(info.value) and "password" in str(info.value)


@pytest.mark.parametrize("url", [
    "postgresql://u:pa#ss@127.0.0.1:5432/db", "postgresql://u:p@ss:word@h:99999/db",
    "postgresql://u:secretpw@h/db%3Fhost%3Devil", "mysql://u:secretpw@h/db"])
def test_bad_urls_are_config_errors_without_the_password(url: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_url(url)
    assert "secretpw" not in str(info.value) and "ss:word" not in str(info.value)
    assert info.value.key and info.value.key.startswith("--database-url")


@pytest.mark.parametrize(("name", "ok"), [("togather", True), ("t_1", True), ("_x", True),
                                          ("1db", False), ("db?host=x", False), ("a b", False),
                                          ("x" * 64, False), ("", False), ("db=x", False)])
def test_database_names_follow_the_identifier_grammar(name: str, ok: bool) -> None:
    if ok:
        assert database_name(name, "--into") == name
    else:
        with pytest.raises(ConfigError, match="--into"):
            database_name(name, "--into")
