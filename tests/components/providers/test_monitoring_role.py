"""ExporterRole provider against the real PostgreSQL, called over the wire like the engine."""

from __future__ import annotations

import os
import time
import uuid

import psycopg
import pytest

from components.providers.monitoring_role import ExporterRoleProvider
from testkit.pg import PostgresServer
from testkit.ports import closed_port, free_port
from testkit.provider_wire import ProviderCallError, ProviderWire, Secret

pytestmark = pytest.mark.postgres
P = ExporterRoleProvider()


def _role() -> str:
    return f"exporter_{uuid.uuid4().hex[:8]}"


def _connect(server: PostgresServer, db: str, role: str, password: str) -> psycopg.Connection:
    return psycopg.connect(server.dsn(db, user=role, password=password), connect_timeout=5,
                           autocommit=True)


def test_check_is_pure_validation(wire: ProviderWire) -> None:
    bad = wire.check(P, {}, {"admin_dsn": "", "role": "Robert'); DROP", "password": "x"})
    assert {f.property for f in bad.failures} == {"role", "admin_dsn"}


def test_create_gives_a_login_role_with_pg_monitor_only(postgres_server: PostgresServer,
                                                        database_url: str, wire: ProviderWire) -> None:
    role, db = _role(), database_url.rsplit("/", 1)[1]
    with psycopg.connect(database_url, autocommit=True) as admin:
        admin.execute("CREATE TABLE secrets_of_the_app (x int)")
    props = {"admin_dsn": database_url, "role": role, "password": "pw-one-0123456789"}
    result = wire.create(P, props)
    assert result.id == role and "pw-one" not in str(result.outs)
    again = wire.create(P, props)  # idempotent
    assert again.outs == result.outs

    with _connect(postgres_server, db, role, "pw-one-0123456789") as conn:
        assert conn.execute("SELECT pg_has_role(current_user, 'pg_monitor', 'member')").fetchone() == (True,)
        assert conn.execute("SELECT count(*) FROM pg_stat_activity").fetchone()[0] >= 1  # type: ignore[index]
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT * FROM secrets_of_the_app")
        super_, createdb = conn.execute(
            "SELECT rolsuper, rolcreatedb FROM pg_roles WHERE rolname = current_user").fetchone()  # type: ignore[misc]
        assert (super_, createdb) == (False, False)

    diff = wire.diff(P, role, result.outs, {**props, "password": "pw-two-0123456789"})
    assert diff.changes and not diff.replaces
    assert not wire.diff(P, role, result.outs, props).changes
    wire.update(P, role, result.outs, {**props, "password": "pw-two-0123456789"})
    with pytest.raises(psycopg.OperationalError):
        _connect(postgres_server, db, role, "pw-one-0123456789")
    _connect(postgres_server, db, role, "pw-two-0123456789").close()

    assert "password" not in result.outs  # only its digest is recorded
    wire.delete(P, role, result.outs)  # the engine passes the recorded outputs only
    with psycopg.connect(database_url) as admin:
        assert admin.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone() is None


def test_delete_with_the_database_gone_is_not_an_error(wire: ProviderWire) -> None:
    with closed_port() as port:
        wire.delete(P, "r", {"admin_dsn": f"postgresql://postgres:x@127.0.0.1:{port}/postgres", "role": "r"})


def test_create_against_an_unreachable_database_says_what_to_do(wire: ProviderWire) -> None:
    from testkit.provider_wire import ProviderCallError

    with closed_port() as port, pytest.raises(ProviderCallError) as err:
        dsn = f"postgresql://postgres:x@127.0.0.1:{port}/postgres"
        wire.create(P, {"admin_dsn": dsn, "role": "r", "password": "p", "wait_seconds": 2})
    assert err.value.type_name == "DeployError" and "pulumi up" in err.value.message


def test_the_password_stays_out_of_the_server_log(postgres_server: PostgresServer,
                                                  database_url: str, wire: ProviderWire) -> None:
    with psycopg.connect(database_url, autocommit=True) as admin:  # log everything on this database
        admin.execute(f'ALTER DATABASE "{database_url.rsplit("/", 1)[1]}" SET log_statement = \'all\'')
    role, password = _role(), f"pw-{uuid.uuid4().hex}"
    wire.create(P, {"admin_dsn": database_url, "role": role, "password": password})
    with open(os.path.join(os.path.dirname(postgres_server.datadir), "log"), encoding="utf-8") as fh:
        log = fh.read()
    assert "statement: SET LOCAL log_statement" in log  # statements on this database are logged ...
    assert password not in log  # ... but not the one carrying the password


def test_create_waits_for_a_database_that_is_still_starting(postgres_server: PostgresServer,
                                                            database_url: str, wire: ProviderWire) -> None:
    """The DSN answers only after a few failed attempts: a TCP relay that opens late."""
    import socket
    import threading

    port = free_port()
    relay_dsn = database_url.replace(f":{postgres_server.port}/", f":{port}/")

    def relay_later() -> None:
        time.sleep(2.5)  # the "container" comes up after the first attempts failed
        with socket.create_server(("127.0.0.1", port)) as srv:
            client, _ = srv.accept()
            upstream = socket.create_connection(("127.0.0.1", postgres_server.port))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=_pump, args=(a, b), daemon=True).start()
            time.sleep(5)

    threading.Thread(target=relay_later, daemon=True).start()
    role = _role()
    result = wire.create(P, {"admin_dsn": relay_dsn, "role": role, "password": "pw-3-0123456789",
                                        "wait_seconds": 30})
    assert result.id == role
    with psycopg.connect(database_url) as admin:
        assert admin.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone() == (1,)


def _pump(src: object, dst: object) -> None:
    import socket

    assert isinstance(src, socket.socket) and isinstance(dst, socket.socket)
    try:
        while data := src.recv(65536):
            dst.sendall(data)
    except OSError:
        pass


def test_secret_inputs_are_unwrapped_and_never_shown(database_url: str, wire: ProviderWire) -> None:
    role, password = _role(), f"pw-{uuid.uuid4().hex}"
    props = {"admin_dsn": Secret(database_url), "role": role, "password": Secret(password)}
    checked = wire.check(P, {}, props)
    assert checked.failures == []
    result = wire.create(P, {**checked.inputs, "admin_dsn": Secret(database_url),
                             "password": Secret(password)})
    assert password not in repr(result.outs) and result.secret_outputs == {"admin_dsn", "password"}
    assert "password" not in result.outs  # only its digest is recorded
    bad = wire.check(P, {}, {**props, "wait_seconds": "soon", "password": Secret(7_654_321)})
    assert {f.property for f in bad.failures} == {"wait_seconds", "password"}
    assert "7654321" not in repr(bad.failures) and "'soon'" in repr(bad.failures)
    with closed_port() as port, pytest.raises(ProviderCallError) as err:
        dsn = f"postgresql://postgres:{password}@127.0.0.1:{port}/postgres"
        wire.create(P, {"admin_dsn": Secret(dsn), "role": role, "password": Secret(password),
                        "wait_seconds": 0})
    assert password not in str(err.value)
