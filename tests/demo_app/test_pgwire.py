"""The stdlib PostgreSQL client against a real PostgreSQL 15: every auth method, errors, down."""

from __future__ import annotations

import base64

import pgauth
import pgwire
import psycopg
import pytest

from testkit.pg import PostgresServer
from testkit.ports import free_port

pytestmark = pytest.mark.postgres

HBA_LINES = ("host all demo_md5 127.0.0.1/32 md5\n"
             "host all demo_clear 127.0.0.1/32 password\n")


def test_scram_rfc7677_vector() -> None:
    # RFC 7677 section 3: user "user", password "pencil".
    client = pgauth.ScramClient("pencil", nonce="rOprNGfwEbeRWgbNEkqO", user="user")
    assert client.first_message() == b"n,,n=user,r=rOprNGfwEbeRWgbNEkqO"
    final = client.final_message("r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
                                 "s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096")
    assert final == (b"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
                     b"p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=")
    client.verify("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")
    with pytest.raises(pgauth.AuthError, match="signature"):
        client.verify("v=" + base64.b64encode(b"x" * 32).decode())


def test_parse_dsn_decodes_and_defaults() -> None:
    dsn = pgwire.parse_dsn("postgres://app%40x:p%2Fw@db:6543/events?sslmode=disable")
    assert (dsn.user, dsn.password, dsn.host, dsn.port, dsn.dbname, dsn.sslmode) == \
        ("app@x", "p/w", "db", 6543, "events", "disable")
    assert "p/w" not in repr(dsn)
    with pytest.raises(pgwire.PgError, match="postgres://"):
        pgwire.parse_dsn("mysql://x@y/z")


def test_scram_over_tcp_queries_text_and_nulls(database_url: str) -> None:
    with pgwire.connect(database_url) as conn:
        columns, rows = conn.query("SELECT 1 AS one, NULL::text AS nothing, 'é' AS word")
        assert columns == ["one", "nothing", "word"]
        assert rows == [("1", None, "é")]


def test_sql_error_carries_sqlstate_and_connection_survives(database_url: str) -> None:
    with pgwire.connect(database_url) as conn:
        with pytest.raises(pgwire.PgError) as info:
            conn.query("SELECT * FROM no_such_table")
        assert info.value.code == "42P01"
        assert "no_such_table" in info.value.message
        assert conn.query("SELECT 2")[1] == [("2",)]


def test_wrong_password_is_refused(database_url: str) -> None:
    bad = database_url.replace("test-superuser-pw", "wrong-password")
    with pytest.raises(pgwire.PgError) as info:
        pgwire.connect(bad)
    assert info.value.code == "28P01"


def test_server_down_fails_fast() -> None:
    with pytest.raises(pgwire.PgError, match="cannot connect"):
        pgwire.connect(f"postgres://postgres:x@127.0.0.1:{free_port()}/postgres", timeout=1)


@pytest.fixture
def legacy_auth(postgres_server: PostgresServer) -> PostgresServer:
    """Roles that must use MD5 / cleartext password auth (pg_hba lines for them only)."""
    with psycopg.connect(postgres_server.dsn(), autocommit=True) as conn:
        hba = conn.execute("SHOW hba_file").fetchone()[0]  # type: ignore[index]
        with open(hba, encoding="utf-8") as fh:
            current = fh.read()
        if HBA_LINES not in current:
            with open(hba, "w", encoding="utf-8") as fh:
                fh.write(HBA_LINES + current)
            conn.execute("SELECT pg_reload_conf()")
        for role, encryption in (("demo_md5", "md5"), ("demo_clear", "scram-sha-256")):
            conn.execute(f"SET password_encryption = '{encryption}'")
            exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone()
            verb = "ALTER" if exists else "CREATE"
            conn.execute(f"{verb} ROLE {role} LOGIN PASSWORD 'legacy-pw'")
    return postgres_server


@pytest.mark.parametrize("role", ["demo_md5", "demo_clear"])
def test_md5_and_cleartext_auth(legacy_auth: PostgresServer, role: str) -> None:
    with pgwire.connect(legacy_auth.dsn("postgres", user=role, password="legacy-pw")) as conn:
        assert conn.query("SELECT current_user")[1] == [(role,)]
    with pytest.raises(pgwire.PgError) as info:
        pgwire.connect(legacy_auth.dsn("postgres", user=role, password="nope"))
    assert info.value.code == "28P01"
