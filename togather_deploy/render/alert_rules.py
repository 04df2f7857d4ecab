"""Prometheus alerting rules, rendered from data by a pure function.

``for:`` durations follow the deployment research (seed/): HighErrorRate 2m,
DatabaseDown 1m, DiskSpaceLow 5m, HighMemoryUsage 10m. Alerts about the server
are limited to the *active* colour: the deploy tooling publishes
``togather_deploy_active_color{color}`` (1 active, 0 other) through
node-exporter's textfile collector, and the rules join on it, so the stopped
idle colour never raises TargetDown or ServiceUnhealthy (and DeployMetricsMissing
says when that metric is absent, which would leave both blind).

Every rule has a ``summary`` and a ``description`` that tells the operator what
to do next. ``durations`` and ``snapshot_max_age_days`` are parameters of the
renderer; the end-to-end test shortens ``for:`` with them rather than forking
the rules.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import yaml

from togather_deploy.errors import DeployError
from togather_deploy.render import backup_rules
from togather_deploy.render.alert_rules_tls import TLS_DURATIONS, tls_rules
from togather_deploy.render.prometheus import APP_JOB, POSTGRES_JOB

GROUP = "togather"

# The active colour as a vector labelled ``slot`` (value 1), ready for `and on(slot)`.
ACTIVE_SLOT = 'label_replace(togather_deploy_active_color == 1, "slot", "$1", "color", "(.+)")'

DEFAULT_DURATIONS: Mapping[str, str] = {
    "HighErrorRate": "2m",
    "DatabaseDown": "1m",
    "DiskSpaceLow": "5m",
    "HighMemoryUsage": "10m",
    "ServiceUnhealthy": "2m",
    "HighLatency": "5m",
    "TargetDown": "2m",
    "SnapshotTooOld": "10m",
    "DeployMetricsMissing": "15m",
    "ConfigReloadFailed": "5m",
    **TLS_DURATIONS,
    **backup_rules.DURATIONS,
}

# Real filesystems only: tmpfs/overlay sizes say nothing about the host's disk.
_FS = 'fstype!~"tmpfs|ramfs|devtmpfs|overlay|squashfs|nsfs|autofs|fuse.*",mountpoint!~"/run.*|/boot.*"'


@dataclass(frozen=True)
class Rule:
    name: str
    expr: str
    severity: str
    summary: str
    description: str


def rules(snapshot_max_age_days: int, allow_degraded: bool = False) -> tuple[Rule, ...]:
    """The alert catalogue (without ``for:``, which comes from ``durations``).

    ``allow_degraded`` (the stack's ``health.allowDegraded``): an operator who
    accepts ``degraded`` as good enough to serve is paged only for ``unhealthy``.
    """
    floor = 1 if allow_degraded else 2
    max_age_s = snapshot_max_age_days * 86400
    return (
        Rule("HighErrorRate",
             f'sum by (slot) (rate(togather_http_requests_total{{job="{APP_JOB}",status=~"5.."}}[5m]))\n'
             f'  / sum by (slot) (rate(togather_http_requests_total{{job="{APP_JOB}"}}[5m])) > 0.05',
             "critical", "More than 5% of requests to the {{ $labels.slot }} slot fail with 5xx",
             "{{ $value | humanizePercentage }} of requests end in a server error. Check the "
             "server logs (`docker logs` of the {{ $labels.slot }} container) and the Application "
             "health dashboard; if a release just went out, flip activeColor back to the other colour."),
        Rule("DatabaseDown",
             f'pg_up == 0 or up{{job="{POSTGRES_JOB}"}} == 0',
             "critical", "PostgreSQL is unreachable",
             "postgres-exporter cannot reach the database (or cannot be scraped). Check the "
             "database container (`docker ps`, `docker logs`), disk space and memory; the "
             "server answers 503 until the database is back."),
        Rule("DiskSpaceLow",
             f"node_filesystem_avail_bytes{{{_FS}}} / node_filesystem_size_bytes{{{_FS}}} < 0.10",
             "warning", "Less than 10% disk space left on {{ $labels.mountpoint }}",
             "Only {{ $value | humanizePercentage }} is free. Prune old snapshots and images "
             "(`docker image prune`), check Prometheus' retention.size and the snapshot "
             "directory before PostgreSQL runs out of space."),
        Rule("HighMemoryUsage",
             "1 - node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes > 0.85",
             "warning", "More than 85% of the host's memory is in use",
             "{{ $value | humanizePercentage }} of memory is used. Find the largest containers "
             "with `docker stats`; stop the idle colour if it is still running, or lower "
             "appMemoryMb/database.memoryMb before the kernel starts killing processes."),
        Rule("ServiceUnhealthy",
             f"togather_health_status < {floor} and on (slot) {ACTIVE_SLOT}",
             "critical", "The active slot ({{ $labels.slot }}) reports itself not healthy",
             "togather_health_status is {{ $value }} (0 unhealthy, 1 degraded, 2 healthy). Open "
             "/health on the slot's loopback port to see which check fails (database, "
             "migrations, job_queue); flip back to the other colour if this started with a release."),
        Rule("HighLatency",
             "histogram_quantile(0.95, sum by (slot, le) "
             f'(rate(togather_http_request_duration_seconds_bucket{{job="{APP_JOB}"}}[5m]))) > 1',
             "warning", "p95 latency of the {{ $labels.slot }} slot is above 1s",
             "95% of requests take up to {{ $value | humanizeDuration }}. Check database load "
             "and connection pool use on the Database and Application health dashboards."),
        Rule("TargetDown",
             f'up{{job!="{APP_JOB}"}} == 0\n'
             f'  or (up{{job="{APP_JOB}"}} == 0 and on (slot) {ACTIVE_SLOT})',
             "critical", "Prometheus cannot scrape {{ $labels.job }} at {{ $labels.instance }}",
             "The target has been down for a while. Check its container (`docker ps -a`, "
             "`docker logs`); for the server, the active colour is not answering on /metrics "
             "and users are probably affected."),
        Rule("SnapshotTooOld",
             f"time() - togather_deploy_last_snapshot_timestamp_seconds > {max_age_s}",
             "warning", f"No database snapshot in the last {snapshot_max_age_days} day(s)",
             "The newest snapshot is {{ $value | humanizeDuration }} old. Run the snapshot "
             "verb by hand, then check why the scheduled snapshot stopped (timer, disk space, "
             "its log)."),
        # Without the textfile the active-slot alerts above are blind: say so.
        Rule("DeployMetricsMissing",
             "absent(togather_deploy_active_color)",
             "warning", "The deploy tooling's metrics are missing",
             "node-exporter serves no togather_deploy_active_color, so TargetDown and "
             "ServiceUnhealthy cannot tell the active colour and stay silent for the servers. "
             "Check that <stateDir>/metrics/togather_deploy.prom exists (any deploy writes it) "
             "and that node-exporter mounts that directory."),
        # Prometheus reloads by SIGHUP (no lifecycle API on the app network), which reports
        # nothing back to `pulumi up`: a rejected config is only visible here.
        Rule("ConfigReloadFailed",
             "prometheus_config_last_reload_successful == 0\n"
             "  or alertmanager_config_last_reload_successful == 0",
             "warning", "{{ $labels.job }} rejected its new config and still runs the previous one",
             "The last config reload failed, so rule or target changes from the last `pulumi up` "
             "are not in effect. `docker logs` of the {{ $labels.job }} container names the error; "
             "fix the rendered config and run `pulumi up` again."),
        *(Rule(*r) for r in tls_rules()),
        *(Rule(*r) for r in backup_rules.RULES),
    )


def alert_rules(snapshot_max_age_days: int, durations: Mapping[str, str] | None = None, *,
                annotations: bool = True, allow_degraded: bool = False) -> dict[str, object]:
    """The rule file as a mapping; ``durations`` overrides ``for:`` per alert name.

    ``annotations=False`` leaves out summary/description, for ``promtool test rules``
    cases that compare labels only (promtool compares annotations verbatim)."""
    fors = {**DEFAULT_DURATIONS, **(durations or {})}
    unknown = set(fors) - set(DEFAULT_DURATIONS)
    if unknown:
        raise DeployError(f"durations for unknown alerts: {sorted(unknown)}",
                          fix=f"use alert names from {sorted(DEFAULT_DURATIONS)}")
    return {"groups": [{"name": GROUP, "rules": [
        {"alert": r.name, "expr": r.expr, "for": fors[r.name],
         "labels": {"severity": r.severity},
         **({"annotations": {"summary": r.summary, "description": r.description}}
            if annotations else {})}
        for r in rules(snapshot_max_age_days, allow_degraded)]}]}


def render_alert_rules(snapshot_max_age_days: int, durations: Mapping[str, str] | None = None,
                       *, annotations: bool = True, allow_degraded: bool = False) -> str:
    """``rules/togather.yml`` text for Prometheus' ``rule_files``."""
    header = "# Rendered by togather-deploy (togather_deploy/render/alert_rules.py); edits are overwritten.\n"
    doc = alert_rules(snapshot_max_age_days, durations, annotations=annotations,
                      allow_degraded=allow_degraded)
    return header + yaml.safe_dump(doc,
                                   sort_keys=False, width=200)
