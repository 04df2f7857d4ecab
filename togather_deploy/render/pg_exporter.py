"""postgres-exporter's extra query file and its connection string, as data.

The exporter connects as its own least-privilege role (``togather_deploy.db.exporter_role``
holds the SQL that creates it).
"""

from __future__ import annotations

import yaml

from togather_deploy.config.db_url import build_url

ROLE = "togather_exporter"
QUERIES_DIR = "/etc/postgres-exporter"
QUERIES_FILE = "queries.yml"

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
