"""Health and readiness checks against PostgreSQL, shaped like the real server's.

Each check opens its own short-lived connection (bounded by a timeout), so a
dead database makes ``/health`` fail fast instead of hanging. Status rules
(app contract): any ``fail`` -> unhealthy, else any ``warn`` -> degraded, else healthy.
"""

from __future__ import annotations

import time
from typing import Any

import pgwire

MIGRATIONS_SQL = "SELECT version, dirty FROM schema_migrations ORDER BY version DESC LIMIT 1"
JOB_QUEUE_SQL = "SELECT to_regclass('river_job') IS NOT NULL"
UNDEFINED_TABLE = "42P01"
STATUS_CODES = {"unhealthy": 0, "degraded": 1, "healthy": 2}
CHECK_CODES = {"fail": 0, "warn": 1, "pass": 2}


def overall(checks: dict[str, dict[str, Any]]) -> str:
    states = {c["status"] for c in checks.values()}
    if "fail" in states:
        return "unhealthy"
    return "degraded" if "warn" in states else "healthy"


def _migrations(conn: pgwire.Connection) -> dict[str, Any]:
    try:
        _cols, rows = conn.query(MIGRATIONS_SQL)
    except pgwire.PgError as exc:
        if exc.code == UNDEFINED_TABLE:
            return {"status": "fail", "message": "schema_migrations table missing: run the migrations"}
        return {"status": "fail", "message": f"cannot read schema_migrations: {exc.message}"}
    if not rows:
        return {"status": "fail", "message": "no migration applied"}
    version, dirty = rows[0]
    if dirty == "t":
        return {"status": "fail", "message": f"migration {version} is dirty: fix it, then force the version",
                "details": {"version": int(version or 0), "dirty": True}}
    return {"status": "pass", "message": f"schema at version {version}",
            "details": {"version": int(version or 0), "dirty": False}}


def _job_queue(conn: pgwire.Connection) -> dict[str, Any]:
    _cols, rows = conn.query(JOB_QUEUE_SQL)
    if rows and rows[0][0] == "t":
        return {"status": "pass", "message": "river_job table present"}
    return {"status": "warn", "message": "river_job table missing"}


def run_checks(database_url: str, *, with_job_queue: bool = True,
               timeout: float = 2.0) -> dict[str, dict[str, Any]]:
    """The database, migrations (and job queue) checks, never raising."""
    started = time.monotonic()
    try:
        conn = pgwire.connect(database_url, timeout=timeout)
    except pgwire.PgError as exc:
        down = {"status": "fail", "message": "database unavailable"}
        checks: dict[str, dict[str, Any]] = {
            "database": {"status": "fail", "message": f"cannot connect: {exc.message}",
                         "latency_ms": int((time.monotonic() - started) * 1000)},
            "migrations": dict(down)}
        if with_job_queue:
            checks["job_queue"] = dict(down)
        return checks
    with conn:
        try:
            conn.query("SELECT 1")
            checks = {"database": {"status": "pass", "message": "connected",
                                   "latency_ms": int((time.monotonic() - started) * 1000)}}
            checks["migrations"] = _migrations(conn)
            if with_job_queue:
                checks["job_queue"] = _job_queue(conn)
        except (pgwire.PgError, OSError) as exc:
            checks = {"database": {"status": "fail", "message": f"query failed: {exc}"},
                      "migrations": {"status": "fail", "message": "database unavailable"}}
    return checks
