"""Connect to a database that may still be booting: retry, bounded in time.

A ``pulumi up`` that creates the database container goes on to resources that
need it (the first snapshot, postgres-exporter's role) while PostgreSQL may
still be starting: refused connections, or "the database system is starting
up". ``connect_when_ready`` retries those for at most ``wait_s`` seconds (each
attempt itself bounded by ``connect_timeout``), then raises the last error. It
is the one wait both ``DbSnapshot`` and ``ExporterRole`` use.
"""

from __future__ import annotations

import time
from typing import Any

DEFAULT_WAIT_SECONDS = 90.0
"""How long create/update wait for a database that is still starting."""


def connect_when_ready(dsn: str, wait_s: float, *, connect_timeout: int = 5, **kwargs: Any) -> Any:
    """A psycopg connection, once the server accepts one (``OperationalError`` after ``wait_s``)."""
    import psycopg

    deadline = time.monotonic() + max(0.0, wait_s)
    pause = 0.1
    while True:
        try:
            return psycopg.connect(dsn, connect_timeout=connect_timeout, **kwargs)
        except psycopg.OperationalError:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise
            time.sleep(min(pause, remaining))
            pause = min(pause * 2, 1.0)


def wait_until_ready(dsn: str, wait_s: float) -> None:
    """Return once the database accepts a connection; ``OperationalError`` after ``wait_s``."""
    connect_when_ready(dsn, wait_s).close()
