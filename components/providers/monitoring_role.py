"""``ExporterRole``: postgres-exporter's own PostgreSQL role, member of ``pg_monitor``.

Guarantees:
- ``check`` and ``diff`` are pure: they validate the role name and compare a
  SHA-256 of the password with the recorded one; no network, no disk.
- Inputs: ``RoleInputs`` (``components.providers.inputs``).
- ``create``/``update`` connect with the admin DSN (``togather_deploy.db.wait``:
  retrying for up to ``wait_seconds`` while a fresh database container boots), then create the role or, if
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
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi.dynamic import CheckFailure, CheckResult, CreateResult, DiffResult, ResourceProvider, UpdateResult

from components.providers import inputs as provider_inputs
from components.providers.failures import operator_errors
from togather_deploy.db.wait import DEFAULT_WAIT_SECONDS, connect_when_ready
from togather_deploy.errors import DeployError


def _digest(password: str) -> str:
    return hashlib.sha256(password.encode()).hexdigest()


def _apply(admin_dsn: str, role: str, password: str, wait_seconds: float) -> None:
    import psycopg

    from togather_deploy.db.exporter_role import quiet_statements, role_exists_query, role_statements

    try:
        with connect_when_ready(admin_dsn, wait_seconds) as conn, conn.transaction():
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


@dataclass(frozen=True)
class RoleInputs:
    """The provider's inputs as ``check`` validated them (``components.providers.inputs``)."""

    admin_dsn: str = field(metadata=provider_inputs.SECRET)
    role: str
    password: str = field(metadata=provider_inputs.SECRET)
    wait_seconds: float = DEFAULT_WAIT_SECONDS
    """How long create/update wait for a database that is still starting (0: no wait)."""

    @classmethod
    def from_props(cls, props: Mapping[str, Any]) -> RoleInputs:
        return provider_inputs.parse(cls, props)


@operator_errors
class ExporterRoleProvider(ResourceProvider):
    """Inputs: ``RoleInputs``."""

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        import re

        from togather_deploy.db.exporter_role import ROLE_PATTERN

        failures = provider_inputs.check_failures(RoleInputs, news)
        if failures:
            return CheckResult(news, failures)
        i = RoleInputs.from_props(news)
        if not provider_inputs.is_unknown(i.role) and not re.fullmatch(ROLE_PATTERN, i.role):
            failures.append(CheckFailure("role", f"must be a lower-case SQL identifier, got {i.role!r}"))
        failures += [CheckFailure(key, "is required") for key in ("admin_dsn", "password")
                     if not getattr(i, key)]
        return CheckResult(provider_inputs.props(i), failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        i = RoleInputs.from_props(news)
        changes = []
        if olds.get("role") != i.role:
            changes.append("role")
        if provider_inputs.is_unknown(i.password) or olds.get("password_sha256") != _digest(i.password):
            changes.append("password")
        return DiffResult(changes=bool(changes), replaces=["role"] if "role" in changes else [],
                          delete_before_replace=True)

    def create(self, props: dict[str, Any]) -> CreateResult:
        i = RoleInputs.from_props(props)
        _apply(i.admin_dsn, i.role, i.password, i.wait_seconds)
        return CreateResult(i.role, self._outs(i))

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        i = RoleInputs.from_props(news)
        _apply(i.admin_dsn, i.role, i.password, i.wait_seconds)
        return UpdateResult(self._outs(i))

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        import psycopg

        from togather_deploy.db.exporter_role import drop_statements

        try:
            conn = psycopg.connect(props["admin_dsn"], connect_timeout=10, autocommit=True)
        except psycopg.OperationalError:
            return  # the database is gone, and the role with it
        with conn:
            for statement in drop_statements(props["role"]):
                conn.execute(statement)

    @staticmethod
    def _outs(i: RoleInputs) -> dict[str, Any]:
        # The engine hands `delete` (and `diff`'s olds) the recorded outputs only, so the
        # admin DSN must be among them (a secret output); the password is kept as a digest.
        return {"admin_dsn": i.admin_dsn, "role": i.role, "password_sha256": _digest(i.password)}


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
