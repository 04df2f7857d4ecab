"""The demo server's endpoints: one ``App`` per process holds the settings, the
test control, the rate limiter and the metrics, and answers each route.

Every endpoint returns ``(HTTP status, body)``; a ``str`` body is Prometheus
text, anything else is JSON. The HTTP plumbing lives in ``server.py``.
"""

from __future__ import annotations

import platform
import threading
import time
from datetime import UTC, datetime
from typing import Any

from app_checks import overall, run_checks
from app_config import ControlFile, Settings
from app_metrics import Registry, render
from app_ratelimit import RateLimiter

MAX_SLOW_MS = 5000
FORCED_CHECK = {"healthy": "pass", "degraded": "warn", "unhealthy": "fail"}
Reply = tuple[int, Any]


class App:
    """Everything a request needs; one per process, passed to the handler through the server."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.control = ControlFile(settings.control_file, settings.forced_health)
        self.limiter = RateLimiter(settings.rate_limit_public)
        self.metrics = Registry()
        self.stopping = threading.Event()

    def version(self) -> str:
        return self.control.current().version or self.settings.version

    def checks(self, *, with_job_queue: bool = True) -> dict[str, dict[str, Any]]:
        started = time.monotonic()
        self.metrics.db_open_delta(1)
        try:
            checks = run_checks(self.settings.database_url, with_job_queue=with_job_queue)
        finally:
            self.metrics.db_open_delta(-1)
        failed = checks["database"]["status"] == "fail"
        self.metrics.observe_db("health_check", time.monotonic() - started,
                                "connection" if failed else None)
        return checks

    def health(self) -> tuple[str, dict[str, dict[str, Any]]]:
        checks = self.checks()
        forced = self.control.current().health
        if forced:
            checks["demo_control"] = {"status": FORCED_CHECK[forced], "message": "forced by the test control"}
            return forced, checks
        return overall(checks), checks

    # Endpoints: each returns (status, JSON-able body or text).
    def get_health(self, query: dict[str, list[str]]) -> Reply:
        if self.stopping.is_set():
            return 503, {"status": "shutting_down"}
        status, checks = self.health()
        body = {"status": status, "version": self.version(), "git_commit": self.settings.git_commit,
                "slot": self.settings.slot, "docs_url": "/api/docs", "checks": checks,
                "timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
        return (503 if status == "unhealthy" else 200), body

    def get_healthz(self, query: dict[str, list[str]]) -> Reply:
        if self.stopping.is_set() or self.control.current().live is False:
            return 503, {"status": "shutting_down"}
        return 200, {"status": "ok"}

    def get_readyz(self, query: dict[str, list[str]]) -> Reply:
        ready = self.control.current().ready
        if self.stopping.is_set() or ready is False:
            return 503, {"status": "not_ready"}
        if ready is None and overall(self.checks(with_job_queue=False)) == "unhealthy":
            return 503, {"status": "not_ready"}
        return 200, {"status": "ready"}

    def get_version(self, query: dict[str, list[str]]) -> Reply:
        return 200, {"version": self.version(), "git_commit": self.settings.git_commit,
                     "build_date": self.settings.build_date,
                     "go_version": f"demo-python{platform.python_version()}"}

    def get_metrics(self, query: dict[str, list[str]]) -> Reply:
        status, checks = self.health()
        s = self.settings
        return 200, render(self.metrics, version=self.version(), commit=s.git_commit,
                           build_date=s.build_date, slot=s.slot, health=status, checks=checks,
                           max_open=s.max_open_connections)

    def get_events(self, query: dict[str, list[str]]) -> Reply:
        return 200, {"items": [], "slot": self.settings.slot, "version": self.version()}

    def get_slow(self, query: dict[str, list[str]]) -> Reply:
        try:
            ms = int(query.get("ms", ["1000"])[0])
        except ValueError:
            return 400, {"error": "ms must be an integer"}
        if not 0 <= ms <= MAX_SLOW_MS:
            return 400, {"error": f"ms must be between 0 and {MAX_SLOW_MS}"}
        time.sleep(ms / 1000)
        return 200, {"slept_ms": ms, "slot": self.settings.slot, "version": self.version()}


# path -> (App method, rate limited with the public tier)
ROUTES = {
    "/health": ("get_health", True), "/healthz": ("get_healthz", False),
    "/readyz": ("get_readyz", False), "/version": ("get_version", True),
    "/metrics": ("get_metrics", True), "/api/v1/events": ("get_events", False),
    "/api/v1/slow": ("get_slow", False),
}
