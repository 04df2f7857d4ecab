"""The database side of migrations, golang-migrate compatible: connection, lock, version table.

- ``schema_migrations(version bigint primary key, dirty boolean not null)`` holds
  at most one row, exactly as golang-migrate keeps it (no row = no version).
- The advisory lock id is golang-migrate's: CRC-32/IEEE of
  ``"<schema>\\x00<table>\\x00<database>"`` times 1486364155, as an unsigned 32-bit
  number, so this runner and the ``migrate`` CLI never run at the same time.
- We wait for the lock a bounded time (golang-migrate waits forever) and say who holds it.

The database URL carries a password: every message goes through ``redact``; URLs are
parsed and built by ``togather_deploy.config.db_url`` (``parse_url``, ``redact`` re-exported here).
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from togather_deploy.config.db_url import parse_url, redact
from togather_deploy.errors import DeployError, LockError

TABLE = "schema_migrations"
LOCK_SALT = 1486364155
APPLICATION_NAME = "togather-migrate"


def lock_id(schema: str, table: str, database: str) -> int:
    """golang-migrate's advisory lock id for (schema, table, database)."""
    key = "\x00".join((schema, table, database)).encode("utf-8")
    return (zlib.crc32(key) * LOCK_SALT) & 0xFFFFFFFF


def connect(url: str, *, connect_timeout: int = 10) -> Any:
    """An autocommit psycopg connection, or a ``DeployError`` saying why not (password redacted)."""
    import psycopg

    db = parse_url(url)
    try:  # from the parsed parts: no value can be re-read as a libpq keyword
        return psycopg.connect(autocommit=True, connect_timeout=connect_timeout,
                               application_name=APPLICATION_NAME, **db.connect_kwargs())
    except psycopg.Error as exc:
        text = redact(str(exc), url)
        if "password authentication failed" in text or "no password supplied" in text:
            fix = "check the password in the database URL (DATABASE_URL / --database-url)"
        elif "does not exist" in text:
            fix = f"create the database {db.dbname} or correct the URL"
        else:
            fix = f"is PostgreSQL running and reachable at {db.host}:{db.port}?"
        raise DeployError(f"cannot connect to {db.safe}: {text.strip().splitlines()[-1]}",
                          fix=fix, context={"detail": " ".join(text.split())[:500]}) from None


@dataclass(frozen=True)
class VersionState:
    version: int | None
    """``None``: no migration has ever run (golang-migrate's NilVersion)."""
    dirty: bool


def ensure_table(conn: Any) -> None:
    conn.execute(f"CREATE TABLE IF NOT EXISTS {TABLE} "
                 "(version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL)")


def read_version(conn: Any) -> VersionState:
    """The recorded version; a missing table reads as no version."""
    exists = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (TABLE,)).fetchone()[0]
    if not exists:
        return VersionState(None, False)
    row = conn.execute(f"SELECT version, dirty FROM {TABLE} LIMIT 1").fetchone()
    return VersionState(None, False) if row is None else VersionState(int(row[0]), bool(row[1]))


def write_version(conn: Any, version: int | None, dirty: bool) -> None:
    """Replace the one row (call inside the transaction that did the work)."""
    conn.execute(f"DELETE FROM {TABLE}")
    if version is not None and version >= 0:
        conn.execute(f"INSERT INTO {TABLE} (version, dirty) VALUES (%s, %s)", (version, dirty))


def current_lock_id(conn: Any) -> int:
    schema, database = conn.execute("SELECT current_schema(), current_database()").fetchone()
    return lock_id(schema, TABLE, database)


@contextmanager
def migration_lock(conn: Any, *, timeout_s: float, poll_s: float = 0.2) -> Iterator[int]:
    """Hold golang-migrate's advisory lock; give up after ``timeout_s`` naming the holder."""
    lid = current_lock_id(conn)
    deadline = time.monotonic() + max(timeout_s, 0)
    while not conn.execute("SELECT pg_try_advisory_lock(%s)", (lid,)).fetchone()[0]:
        if time.monotonic() >= deadline:
            raise LockError(
                f"another migration holds the migration lock (advisory lock {lid}); "
                f"gave up after {timeout_s:g}s", context={"holder": _holder(conn, lid)},
                fix="wait for the other migration (or `migrate`) to finish, then retry")
        time.sleep(poll_s)
    try:
        yield lid
    finally:
        if not conn.closed:
            conn.execute("SELECT pg_advisory_unlock(%s)", (lid,))


def _holder(conn: Any, lid: int) -> str:
    row = conn.execute(
        "SELECT a.pid, coalesce(a.application_name, ''), coalesce(a.client_addr::text, 'local'), "
        "a.backend_start FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
        "WHERE l.locktype = 'advisory' AND l.granted AND l.classid = 0 AND l.objid = %s::bigint::oid "
        "LIMIT 1", (lid,)).fetchone()
    if row is None:
        return "unknown (released meanwhile)"
    app = row[1] or "no application_name"
    return f"pid {row[0]} ({app}, from {row[2]}, connected {row[3]:%Y-%m-%d %H:%M:%S})"
