"""postgres-exporter's least-privilege role, as SQL data.

The exporter connects as its own role, member of ``pg_monitor`` only (read the
statistics views and settings, nothing else): it can neither read application
tables nor change anything. ``role_statements`` builds the idempotent SQL the
``ExporterRole`` provider (``components.providers.monitoring_role``) runs.
"""

from __future__ import annotations

import re

from psycopg import sql

from togather_deploy.errors import ConfigError

ROLE_PATTERN = r"[a-z_][a-z0-9_]{0,62}"


def check_role_name(role: str) -> str:
    if not re.fullmatch(ROLE_PATTERN, role):
        raise ConfigError(f"exporter role: must be a lower-case SQL identifier, got {role!r}",
                          key="monitoring.exporterRole")
    return role


def role_exists_query(role: str) -> tuple[str, tuple[str]]:
    return "SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)


def role_statements(role: str, password: str, *, exists: bool) -> list[sql.Composed]:
    """Create (or re-password) the role and grant ``pg_monitor``; safe to run again.

    The password is a client-side literal: utility statements take no bind parameters.
    """
    ident = sql.Identifier(check_role_name(role))
    verb = sql.SQL("ALTER ROLE") if exists else sql.SQL("CREATE ROLE")
    return [
        sql.SQL("{} {} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE INHERIT "
                "CONNECTION LIMIT 5 PASSWORD {}").format(verb, ident, sql.Literal(password)),
        sql.SQL("GRANT pg_monitor TO {}").format(ident),
    ]


def quiet_statements() -> list[sql.Composed | sql.SQL]:
    """Keep the statement carrying the password out of the server log (superuser only)."""
    return [sql.SQL("SET LOCAL log_statement = 'none'"),
            sql.SQL("SET LOCAL log_min_duration_statement = -1")]


def drop_statements(role: str) -> list[sql.Composed]:
    ident = sql.Identifier(check_role_name(role))
    return [sql.SQL("DROP ROLE IF EXISTS {}").format(ident)]
