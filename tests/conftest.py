"""Shared fixtures: real services started once per test session."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from testkit.nginx import private_dir  # noqa: E402
from testkit.pg import PostgresServer, pg_bindir, start_postgres  # noqa: E402
from testkit.provider_wire import ProviderWire, wire_session  # noqa: E402


@pytest.fixture(scope="session")
def project_root() -> str:
    return ROOT


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One real PostgreSQL 15 for the session (Debian's postgresql-15 + PostGIS)."""
    if pg_bindir() is None or shutil.which("runuser") is None:
        pytest.fail("PostgreSQL is not installed: run scripts/test, which installs it")
    server = start_postgres()
    yield server
    server.stop()


@pytest.fixture
def database_url(postgres_server: PostgresServer) -> str:
    """A fresh, empty database on the session server; its superuser DSN."""
    return postgres_server.create_database()


@pytest.fixture
def wire() -> Iterator[ProviderWire]:
    """Calls providers as the engine does in ``pulumi up`` (see ``testkit/provider_wire.py``)."""
    yield from wire_session()


@pytest.fixture
def preview_wire() -> Iterator[ProviderWire]:
    """Calls providers as the engine does in ``pulumi preview`` (unknowns, no create/update)."""
    yield from wire_session(preview=True)


@pytest.fixture
def workdir() -> Iterator[str]:
    """Our own temp dir, never pruned by a concurrent pytest run (see ``private_dir``).
    Here, not in ``tests/components/``: the router tests now live in ``render/`` and ``ops/`` too."""
    with private_dir() as d:
        yield d


@pytest.fixture(autouse=True)
def _umask_is_restored() -> Iterator[None]:
    """A test that sets ``umask 077`` and leaves it made every later test write private files
    (nginx's workers then failed TLS handshakes and answered the CA 404): fail that test."""
    before = os.umask(0o022)
    os.umask(before)
    yield
    after = os.umask(before)
    assert after == before, f"the test left the umask at {after:04o} (was {before:04o}): restore it"
