"""postgres-exporter's extra query file and its least-privilege role, as data.

The exporter connects as its own role, member of ``pg_monitor`` only (read the
statistics views and settings, nothing else): it can neither read application
tables nor change anything. ``role_statements`` builds the idempotent SQL the
``ExporterRole`` provider (``components.providers.monitoring_role``) runs.
"""

from __future__ import annotations

import re

import yaml
from psycopg import sql

from togather_deploy.config.db_url import build_url
from togather_deploy.errors import ConfigError

ROLE = "togather_exporter"
QUERIES_DIR = "/etc/postgres-exporter"
QUERIES_FILE = "queries.yml"
ROLE_PATTERN = r"[a-z_][a-z0-9_]{0,62}"

# Per-table size for the Database dashboard; the exporter serves it as pg_table_size_bytes.
EXTRA_QUERIES = {
    "pg_table": {
        "query": ("SELECT schemaname, relname, pg_total_relation_size(relid) AS size_bytes "
                  "FROM pg_stat_user_tables"),
        "metrics": [
            {"schemaname": {"usage": "LABEL", "description": "Schema"}},
            {"relname": {"usage": "LABEL", "description": "Table"}},
            {"size_bytes": {"usage": "GAUGE",
                            "description": "Total size: heap, indexes and TOAST, in bytes"}},
        ],
    },
}


def render_queries() -> str:
    """``queries.yml`` for ``--extend.query-path``."""
    header = "# Rendered by togather-deploy (togather_deploy/render/pg_exporter.py).\n"
    return header + yaml.safe_dump(EXTRA_QUERIES, sort_keys=False)


def exporter_dsn(role: str, password: str, *, host: str, port: int, database: str) -> str:
    """The exporter's ``DATA_SOURCE_NAME``, percent-encoded like every URL here."""
    return build_url(role, password, host, port, database, params={"sslmode": "disable"})


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
