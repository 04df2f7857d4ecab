"""``ExporterRole``: postgres-exporter's own PostgreSQL role, member of ``pg_monitor``.

Guarantees:
- ``check`` and ``diff`` are pure: they validate the role name and compare a
  SHA-256 of the password with the recorded one; no network, no disk.
- ``create``/``update`` connect with the admin DSN (retrying for up to
  ``wait_seconds`` while a fresh database container boots), then create the role or, if
  it already exists, reset its password and attributes, and grant ``pg_monitor``:
  running them twice changes nothing. Everything runs in one transaction, so a
  failure halfway leaves the role as it was.
- ``delete`` drops the role (it owns nothing; no data is lost). A database that
  is already gone is not an error: the role went with it.
- The statement carrying the password is kept out of the server log
  (``SET LOCAL log_statement = 'none'``) when the admin may do so.
- Recorded state: the role name and the password's SHA-256, never the password.
  The admin DSN and the password are inputs the program passes as secrets.
"""

from __future__ import annotations

import hashlib
from typing import Any

import pulumi
from pulumi.dynamic import CheckFailure, CheckResult, CreateResult, DiffResult, ResourceProvider, UpdateResult

from components.errors import DeployError


def _digest(password: str) -> str:
    return hashlib.sha256(password.encode()).hexdigest()


def _connect(admin_dsn: str, wait_seconds: float) -> Any:
    """Connect, retrying while a just-started database container is still booting (bounded)."""
    import time

    import psycopg

    deadline = time.monotonic() + wait_seconds
    for _attempt in range(int(wait_seconds) + 1):
        try:
            return psycopg.connect(admin_dsn, connect_timeout=5)
        except psycopg.OperationalError:
            if time.monotonic() >= deadline:
                raise
            time.sleep(1)
    return psycopg.connect(admin_dsn, connect_timeout=5)


def _apply(admin_dsn: str, role: str, password: str, wait_seconds: float) -> None:
    import psycopg

    from components.monitoring_pgexporter import quiet_statements, role_exists_query, role_statements

    try:
        with _connect(admin_dsn, wait_seconds) as conn, conn.transaction():
            try:
                with conn.transaction():  # a savepoint: a non-superuser admin cannot SET these
                    for statement in quiet_statements():
                        conn.execute(statement)
            except psycopg.errors.InsufficientPrivilege:
                pass
            query, params = role_exists_query(role)
            exists = conn.execute(query, params).fetchone() is not None
            for statement in role_statements(role, password, exists=exists):
                conn.execute(statement)
    except psycopg.Error as exc:
        raise DeployError(f"could not create the postgres-exporter role {role}", cause=exc,
                          fix="check that the database container is running and reachable "
                              "on its 127.0.0.1 host port, then run `pulumi up` again") from None


def _wait(props: dict[str, Any]) -> float:
    return float(props.get("wait_seconds") or DEFAULT_WAIT_SECONDS)


DEFAULT_WAIT_SECONDS = 90
"""How long create/update wait for a database that is still starting."""


class ExporterRoleProvider(ResourceProvider):
    """Inputs: ``admin_dsn`` (secret), ``role``, ``password`` (secret), ``wait_seconds``."""

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        import re

        from components.monitoring_pgexporter import ROLE_PATTERN

        failures = []
        if not re.fullmatch(ROLE_PATTERN, str(news.get("role", ""))):
            failures.append(CheckFailure("role", "must be a lower-case SQL identifier"))
        for key in ("admin_dsn", "password"):
            if not isinstance(news.get(key), str) or not news[key]:
                failures.append(CheckFailure(key, "is required"))
        return CheckResult(news, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changes = []
        if olds.get("role") != news.get("role"):
            changes.append("role")
        if olds.get("password_sha256") != _digest(str(news.get("password", ""))):
            changes.append("password")
        return DiffResult(changes=bool(changes), replaces=["role"] if "role" in changes else [],
                          delete_before_replace=True)

    def create(self, props: dict[str, Any]) -> CreateResult:
        _apply(props["admin_dsn"], props["role"], props["password"], _wait(props))
        return CreateResult(props["role"], self._outs(props))

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        _apply(news["admin_dsn"], news["role"], news["password"], _wait(news))
        return UpdateResult(self._outs(news))

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        import psycopg

        from components.monitoring_pgexporter import drop_statements

        try:
            conn = psycopg.connect(props["admin_dsn"], connect_timeout=10, autocommit=True)
        except psycopg.OperationalError:
            return  # the database is gone, and the role with it
        with conn:
            for statement in drop_statements(props["role"]):
                conn.execute(statement)

    @staticmethod
    def _outs(props: dict[str, Any]) -> dict[str, Any]:
        # The engine hands `delete` (and `diff`'s olds) the recorded outputs only, so the
        # admin DSN must be among them (a secret output); the password is kept as a digest.
        return {"admin_dsn": props["admin_dsn"], "role": props["role"],
                "password_sha256": _digest(props["password"])}


class ExporterRole(pulumi.dynamic.Resource):
    role: pulumi.Output[str]

    def __init__(self, name: str, *, admin_dsn: pulumi.Input[str], role: str,
                 password: pulumi.Input[str], opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(ExporterRoleProvider(), name,
                         {"admin_dsn": pulumi.Output.secret(admin_dsn), "role": role,
                          "password": pulumi.Output.secret(password), "password_sha256": None},
                         pulumi.ResourceOptions.merge(opts or pulumi.ResourceOptions(),
                                                      pulumi.ResourceOptions(
                                                          additional_secret_outputs=["admin_dsn"])))
