"""The migration runner: forward-only, golang-migrate compatible, safer where it can be.

Guarantees of ``migrate_up``:
- Runs under golang-migrate's advisory lock (bounded wait), re-reading the real
  ``schema_migrations`` once it holds it; a second runner waits, then fails clearly.
- A file that can run in a transaction runs in ONE transaction together with its
  version bump: if any statement fails, the database stays at the previous
  version and clean (never dirty), and the error names the file, line and SQL.
- A file that cannot (``CREATE INDEX CONCURRENTLY`` …) runs statement by statement
  with golang-migrate's dirty-flag semantics: version marked dirty first, clean
  after the last statement; a failure leaves it dirty.
- A dirty database is refused before anything runs, with the recovery steps
  (the snapshot taken just before, then ``scripts/migrate force VERSION``).
- Running it again with nothing pending changes nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from togather_deploy.db.migrations.database import (
    VersionState,
    connect,
    ensure_table,
    migration_lock,
    read_version,
    redact,
    write_version,
)
from togather_deploy.db.migrations.files import Migration
from togather_deploy.db.migrations.sql import (
    line_of,
    needs_no_transaction,
    split_statements,
    strip_wrapping_transaction,
)
from togather_deploy.errors import MigrationError

DEFAULT_LOCK_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class Applied:
    version: int
    name: str
    duration_s: float
    transactional: bool


@dataclass(frozen=True)
class UpResult:
    before: VersionState
    version: int | None
    applied: tuple[Applied, ...]


def pending(migrations: list[Migration], state: VersionState) -> list[Migration]:
    return [m for m in migrations if state.version is None or m.version > state.version]


def dirty_error(state: VersionState, migrations: list[Migration], snapshot: str | None) -> MigrationError:
    """The refusal for a dirty database, with the exact recovery steps."""
    v = state.version
    prior = max((m.version for m in migrations if v is not None and m.version < v), default=-1)
    restore = (f"scripts/snapshot restore {snapshot}" if snapshot
               else "scripts/snapshot list  (then scripts/snapshot restore NAME, the newest one)")
    return MigrationError(
        f"the database is dirty at version {v}: that migration failed partway and may have left "
        "some of its changes behind; nothing was run",
        fix=(f"1) restore the snapshot taken just before it: {restore}; "
             f"2) mark the version it was at: scripts/migrate force {prior}; "
             "3) rerun the migrations (scripts/migrate up, or pulumi up). "
             f"If you instead finished the migration by hand: scripts/migrate force {v}"),
        context={"snapshot": snapshot or "none recorded"})


def migrate_up(url: str, migrations: list[Migration], *, lock_timeout_s: float = DEFAULT_LOCK_TIMEOUT_S,
               snapshot: str | None = None, on_applied: Callable[[Applied], None] | None = None) -> UpResult:
    """Apply every migration above the database's version, in order (see module doc)."""
    conn = connect(url)
    try:
        with migration_lock(conn, timeout_s=lock_timeout_s):
            ensure_table(conn)
            before = read_version(conn)
            if before.dirty:
                raise dirty_error(before, migrations, snapshot)
            newest = max((m.version for m in migrations), default=None)
            if before.version is not None and (newest is None or before.version > newest):
                raise MigrationError(
                    f"the database is at version {before.version}, newer than every migration file "
                    f"(newest: {newest})", fix="use the migrations of the release that is deployed "
                    "(check migrations.dir and the app version)")
            done: list[Applied] = []
            for m in pending(migrations, before):
                applied = _apply(conn, m, url, snapshot)
                done.append(applied)
                if on_applied:
                    on_applied(applied)
            version = done[-1].version if done else before.version
            return UpResult(before=before, version=version, applied=tuple(done))
    finally:
        conn.close()


def _apply(conn: Any, m: Migration, url: str, snapshot: str | None) -> Applied:
    statements, other_tx_control = strip_wrapping_transaction(split_statements(m.up_sql))
    no_tx = needs_no_transaction(statements)
    started = time.perf_counter()
    if no_tx is None and not other_tx_control:
        _apply_in_transaction(conn, m, statements, url)
    else:
        _apply_without_transaction(conn, m, statements, url, snapshot)
    return Applied(m.version, m.name, round(time.perf_counter() - started, 6), no_tx is None
                   and not other_tx_control)


def _apply_in_transaction(conn: Any, m: Migration, statements: list[Any], url: str) -> None:
    import psycopg

    # Statement by statement (like psql), so an error names its exact line. A
    # SQL-standard function body (BEGIN ATOMIC … END) has inner semicolons the
    # splitter does not follow: such a file goes in one call, as golang-migrate sends it.
    whole_file = any("BEGIN ATOMIC" in s.code.upper() for s in statements)
    try:
        with conn.transaction():
            if whole_file:
                _run(conn, m, m.up_sql, 1, url)
            else:
                for stmt in statements:
                    _run(conn, m, stmt.text, stmt.line, url)
            write_version(conn, m.version, False)
    except MigrationError as exc:
        exc.message += f"; rolled back: the database is still clean at the version before {m.version}"
        raise
    except psycopg.Error as exc:
        raise MigrationError(f"{m.up_name}: recording version {m.version} failed: "
                             f"{redact(str(exc), url)}", file=m.up_name) from None


def _apply_without_transaction(conn: Any, m: Migration, statements: list[Any], url: str,
                               snapshot: str | None) -> None:
    with conn.transaction():
        write_version(conn, m.version, True)
    for stmt in statements:
        try:
            _run(conn, m, stmt.text, stmt.line, url)
        except MigrationError as exc:
            exc.message += (f"; this file runs outside a transaction, so the database is now dirty "
                            f"at version {m.version}")
            exc.fix = dirty_error(VersionState(m.version, True), [m], snapshot).fix
            raise
    with conn.transaction():
        write_version(conn, m.version, False)


def _run(conn: Any, m: Migration, sql: str, first_line: int, url: str) -> None:
    import psycopg

    try:
        conn.execute(sql)
    except psycopg.Error as exc:
        pos = getattr(exc.diag, "statement_position", None)
        line = first_line + line_of(sql, int(pos)) - 1 if pos else first_line
        text = redact(str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__, url)
        raise MigrationError(f"{m.up_name} failed at line {line}: {text}", file=m.up_name,
                             sql=_statement_near(sql, pos)) from None


def _statement_near(sql: str, pos: Any) -> str:
    if not pos:
        return sql[:300]
    stmts = split_statements(sql)
    before = [s for s in stmts if s.line <= line_of(sql, int(pos))]
    return (before[-1] if before else stmts[0]).text[:300] if stmts else sql[:300]


def force(url: str, version: int, *, lock_timeout_s: float = DEFAULT_LOCK_TIMEOUT_S) -> VersionState:
    """Set the recorded version and clear dirty (``-1``: no version), like ``migrate force``."""
    if version < -1:
        raise MigrationError(f"force: version must be -1 or more, got {version}", exit_code=10)
    conn = connect(url)
    try:
        with migration_lock(conn, timeout_s=lock_timeout_s):
            ensure_table(conn)
            with conn.transaction():
                write_version(conn, None if version == -1 else version, False)
            return read_version(conn)
    finally:
        conn.close()


def status(url: str) -> VersionState:
    """The recorded version and dirty flag (read only, no lock needed)."""
    conn = connect(url)
    try:
        return read_version(conn)
    finally:
        conn.close()
