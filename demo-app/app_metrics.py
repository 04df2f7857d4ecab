"""Prometheus text exposition with the real server's ``togather_`` metric names.

Thread-safe counters/histograms for HTTP traffic, gauges filled at scrape time
(health, DB connections, process). ``render`` is pure given the registry state.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterable

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
Labels = tuple[tuple[str, str], ...]


def _fmt_labels(labels: Labels) -> str:
    if not labels:
        return ""
    inner = ",".join(f'{k}="{v}"'.replace("\n", " ") for k, v in labels)
    return "{" + inner + "}"


def _esc(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def labels(**pairs: str) -> Labels:
    return tuple((k, _esc(str(v))) for k, v in pairs.items())


class Registry:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: dict[Labels, int] = {}
        self.durations: dict[Labels, list[float]] = {}  # bucket counts + [sum, count]
        self.db_errors: dict[Labels, int] = {}
        self.db_query: dict[Labels, list[float]] = {}
        self.in_flight = 0
        self.db_open = 0
        self.started = time.time()

    def track(self, delta: int) -> None:
        with self._lock:
            self.in_flight += delta

    def db_open_delta(self, delta: int) -> None:
        with self._lock:
            self.db_open += delta

    def _observe(self, table: dict[Labels, list[float]], key: Labels, seconds: float) -> None:
        row = table.setdefault(key, [0.0] * (len(BUCKETS) + 2))
        for i, bound in enumerate(BUCKETS):
            if seconds <= bound:
                row[i] += 1
        row[-2] += seconds
        row[-1] += 1

    def observe_request(self, method: str, path: str, status: int, seconds: float) -> None:
        key = labels(method=method, path=path, status=str(status))
        with self._lock:
            self.requests[key] = self.requests.get(key, 0) + 1
            self._observe(self.durations, labels(method=method, path=path), seconds)

    def observe_db(self, operation: str, seconds: float, error_type: str | None = None) -> None:
        with self._lock:
            self._observe(self.db_query, labels(operation=operation), seconds)
            if error_type:
                key = labels(operation=operation, error_type=error_type)
                self.db_errors[key] = self.db_errors.get(key, 0) + 1

    def snapshot(self) -> tuple[dict[Labels, int], dict[Labels, list[float]], dict[Labels, int],
                                dict[Labels, list[float]], int, int]:
        with self._lock:
            return (dict(self.requests), {k: list(v) for k, v in self.durations.items()},
                    dict(self.db_errors), {k: list(v) for k, v in self.db_query.items()},
                    self.in_flight, self.db_open)


def _family(name: str, kind: str, help_text: str, samples: Iterable[tuple[Labels, float]]) -> list[str]:
    out = [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]
    out += [f"{name}{_fmt_labels(lbl)} {value:g}" for lbl, value in samples]
    return out


def _histogram(name: str, help_text: str, table: dict[Labels, list[float]]) -> list[str]:
    out = [f"# HELP {name} {help_text}", f"# TYPE {name} histogram"]
    for key, row in sorted(table.items()):
        for i, bound in enumerate(BUCKETS):
            out.append(f"{name}_bucket{_fmt_labels(key + (('le', f'{bound:g}'),))} {row[i]:g}")
        out.append(f"{name}_bucket{_fmt_labels(key + (('le', '+Inf'),))} {row[-1]:g}")
        out.append(f"{name}_sum{_fmt_labels(key)} {row[-2]:g}")
        out.append(f"{name}_count{_fmt_labels(key)} {row[-1]:g}")
    return out


def _process() -> list[str]:
    times = os.times()
    try:
        with open("/proc/self/statm", encoding="ascii") as fh:
            rss = int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        fds = len(os.listdir("/proc/self/fd"))
    except OSError:
        rss, fds = 0, 0
    return (_family("process_cpu_seconds_total", "counter", "User and system CPU time.",
                    [((), times.user + times.system)])
            + _family("process_resident_memory_bytes", "gauge", "Resident memory.", [((), rss)])
            + _family("process_open_fds", "gauge", "Open file descriptors.", [((), fds)]))


def render(reg: Registry, *, version: str, commit: str, build_date: str, slot: str,
           health: str, checks: dict[str, dict[str, object]], max_open: int) -> str:
    from app_checks import CHECK_CODES, STATUS_CODES

    requests, durations, db_errors, db_query, in_flight, db_open = reg.snapshot()
    lines = _family("togather_app_info", "gauge", "Build information.",
                    [(labels(version=version, commit=commit, build_date=build_date, active_slot=slot), 1)])
    lines += _family("togather_health_status", "gauge", "0 unhealthy, 1 degraded, 2 healthy.",
                     [(labels(slot=slot), STATUS_CODES.get(health, 0))])
    lines += _family("togather_health_check_status", "gauge", "Per check: 0 fail, 1 warn, 2 pass.",
                     [(labels(check=name, slot=slot), CHECK_CODES.get(str(c["status"]), 0))
                      for name, c in sorted(checks.items())])
    lines += _family("togather_health_check_latency_ms", "gauge", "Per-check latency.",
                     [(labels(check=name, slot=slot), float(str(c["latency_ms"])))
                      for name, c in sorted(checks.items()) if "latency_ms" in c])
    lines += _family("togather_http_requests_total", "counter", "HTTP requests.", sorted(requests.items()))
    lines += _histogram("togather_http_request_duration_seconds", "HTTP request latency.", durations)
    lines += _family("togather_http_requests_in_flight", "gauge", "Requests being served.",
                     [((), in_flight)])
    for name, value in (("open", db_open), ("in_use", db_open), ("idle", 0), ("max_open", max_open)):
        lines += _family(f"togather_db_connections_{name}", "gauge", f"Database connections ({name}).",
                         [((), value)])
    lines += _histogram("togather_db_query_duration_seconds", "Database query latency.", db_query)
    lines += _family("togather_db_errors_total", "counter", "Database errors.", sorted(db_errors.items()))
    lines += _family("togather_river_jobs_in_flight", "gauge", "Background jobs running.", [((), 0)])
    lines += _family("togather_river_jobs_completed_total", "counter", "Background jobs done.", [])
    lines += _family("process_start_time_seconds", "gauge", "Start time (Unix seconds).",
                     [((), reg.started)])
    lines += _process()
    return "\n".join(lines) + "\n"
