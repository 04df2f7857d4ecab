"""The Database dashboard: connections, cache hit ratio, transactions, sizes (postgres-exporter).

Per-table sizes come from the exporter's extra query ``pg_table`` (see
``togather_deploy.render.pg_exporter``), served as ``pg_table_size_bytes``.
"""

from __future__ import annotations

from typing import Any

from togather_deploy.render.dashboards.common import dashboard, stat, table, timeseries, value_text

UID = "togather-database"

UP = value_text({"0": ("down", "red"), "1": ("up", "green")})


def build() -> dict[str, Any]:
    panels = [
        stat("PostgreSQL", [("pg_up", "reachable")], mappings=[UP]),
        timeseries("Connections", [("sum by (datname) (pg_stat_database_numbackends)", "{{datname}}"),
                                   ("pg_settings_max_connections", "max")]),
        timeseries("Cache hit ratio", [(
            "sum by (datname) (rate(pg_stat_database_blks_hit[5m])) / (sum by (datname) (rate("
            "pg_stat_database_blks_hit[5m])) + sum by (datname) (rate(pg_stat_database_blks_read[5m])))",
            "{{datname}}")], unit="percentunit", description="Below ~0.99 the working set no longer fits."),
        timeseries("Transactions", [
            ("sum by (datname) (rate(pg_stat_database_xact_commit[5m]))", "commit {{datname}}"),
            ("sum by (datname) (rate(pg_stat_database_xact_rollback[5m]))", "rollback {{datname}}")],
            unit="ops"),
        table("Largest tables", [("topk(20, pg_table_size_bytes)", "")], unit="bytes",
              description="Total size (heap, indexes, TOAST) of the largest tables."),
        timeseries("Database size", [("pg_database_size_bytes", "{{datname}}")], unit="bytes"),
    ]
    return dashboard(UID, "Togather / Database", panels, tags=["database"])
