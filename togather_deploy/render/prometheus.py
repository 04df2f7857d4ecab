"""Prometheus' ``prometheus.yml``, rendered from data by a pure function.

Both colours are scraped all the time, each target carrying a ``slot`` label;
whether a colour matters is decided in the alert rules by joining on the deploy
tooling's ``togather_deploy_active_color`` metric, so a stopped idle colour
(``up == 0``) never pages anybody. Targets are parameters: the program points
them at container aliases on the private network, the tests at loopback
processes, and both get the very same file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import yaml

from togather_deploy.config.model import COLORS
from togather_deploy.render.containers import APP_PORT, app_alias

APP_JOB = "togather"
NODE_JOB = "node"
POSTGRES_JOB = "postgres"
ALERTMANAGER_JOB = "alertmanager"
PROMETHEUS_JOB = "prometheus"

PROMETHEUS_PORT = 9090
ALERTMANAGER_PORT = 9093
NODE_EXPORTER_PORT = 9100
POSTGRES_EXPORTER_PORT = 9187

PROMETHEUS_ALIAS = "prometheus"
ALERTMANAGER_ALIAS = "alertmanager"
NODE_EXPORTER_ALIAS = "node-exporter"
POSTGRES_EXPORTER_ALIAS = "postgres-exporter"

RULES_GLOB = "rules/*.yml"
"""Rule files, relative to the directory holding ``prometheus.yml``."""


@dataclass(frozen=True)
class ScrapeTargets:
    """``host:port`` of everything Prometheus scrapes (and the Alertmanager it sends to)."""

    apps: Mapping[str, str]
    """Colour → ``host:port`` of that colour's server (its ``/metrics``)."""
    node_exporter: str
    postgres_exporter: str
    alertmanager: str
    prometheus: str


@dataclass(frozen=True)
class PrometheusSettings:
    """Timing knobs; the defaults are production's, tests shorten them."""

    scrape_interval: str = "15s"
    """Well under the server's public rate limit (60 requests/minute) for ``/metrics``."""
    evaluation_interval: str = "15s"
    scrape_timeout: str = "10s"
    external_labels: Mapping[str, str] = field(default_factory=dict)


def container_targets() -> ScrapeTargets:
    """Where the monitoring containers find each other on the stack's private network."""
    return ScrapeTargets(
        apps={color: f"{app_alias(color)}:{APP_PORT}" for color in COLORS},
        node_exporter=f"{NODE_EXPORTER_ALIAS}:{NODE_EXPORTER_PORT}",
        postgres_exporter=f"{POSTGRES_EXPORTER_ALIAS}:{POSTGRES_EXPORTER_PORT}",
        alertmanager=f"{ALERTMANAGER_ALIAS}:{ALERTMANAGER_PORT}",
        prometheus=f"localhost:{PROMETHEUS_PORT}",
    )


def _static(job: str, target: str) -> dict[str, object]:
    return {"job_name": job, "static_configs": [{"targets": [target]}]}


def prometheus_config(targets: ScrapeTargets,
                      settings: PrometheusSettings | None = None) -> dict[str, object]:
    """The config as a mapping (tests inspect it; ``render_prometheus_config`` dumps it)."""
    s = settings or PrometheusSettings()
    glob: dict[str, object] = {"scrape_interval": s.scrape_interval,
                               "evaluation_interval": s.evaluation_interval,
                               "scrape_timeout": s.scrape_timeout}
    if s.external_labels:
        glob["external_labels"] = dict(s.external_labels)
    app_job = {
        "job_name": APP_JOB,
        "metrics_path": "/metrics",
        # One static group per colour so every series carries the colour it came from.
        "static_configs": [{"targets": [targets.apps[c]], "labels": {"slot": c}}
                           for c in sorted(targets.apps)],
    }
    return {
        "global": glob,
        "alerting": {"alertmanagers": [{"static_configs": [{"targets": [targets.alertmanager]}]}]},
        "rule_files": [RULES_GLOB],
        "scrape_configs": [
            app_job,
            _static(NODE_JOB, targets.node_exporter),
            _static(POSTGRES_JOB, targets.postgres_exporter),
            _static(ALERTMANAGER_JOB, targets.alertmanager),
            _static(PROMETHEUS_JOB, targets.prometheus),
        ],
    }


def render_prometheus_config(targets: ScrapeTargets,
                             settings: PrometheusSettings | None = None) -> str:
    """``prometheus.yml`` text."""
    header = "# Rendered by togather-deploy (togather_deploy/render/prometheus.py); edits are overwritten.\n"
    return header + yaml.safe_dump(prometheus_config(targets, settings), sort_keys=False)
