"""Grafana's provisioning files: the Prometheus datasource (fixed uid) and four dashboards.

Pure: ``provisioning_files`` returns ``{relative path: text}`` for the host
directory mounted read-only at ``/etc/grafana/provisioning``. Grafana re-scans
the dashboards directory every ``DASHBOARD_RESCAN_SECONDS``, so a changed
dashboard appears without replacing the container.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import yaml

from togather_deploy.render.dashboards import application, database, deployment, infrastructure
from togather_deploy.render.dashboards.common import DATASOURCE_UID

PROVISIONING_DIR = "/etc/grafana/provisioning"
DASHBOARDS_SUBDIR = "dashboards/json"
DASHBOARD_RESCAN_SECONDS = 30

BUILDERS: dict[str, Callable[[], dict[str, Any]]] = {
    "deployment": deployment.build,
    "application": application.build,
    "infrastructure": infrastructure.build,
    "database": database.build,
}


def datasources(prometheus_url: str) -> dict[str, Any]:
    return {"apiVersion": 1, "datasources": [{
        "name": "Prometheus", "type": "prometheus", "uid": DATASOURCE_UID, "access": "proxy",
        "url": prometheus_url, "isDefault": True, "editable": False,
        "jsonData": {"timeInterval": "15s"}}]}


def dashboard_provider() -> dict[str, Any]:
    return {"apiVersion": 1, "providers": [{
        "name": "togather", "type": "file", "folder": "Togather", "disableDeletion": True,
        "allowUiUpdates": False, "updateIntervalSeconds": DASHBOARD_RESCAN_SECONDS,
        "options": {"path": f"{PROVISIONING_DIR}/{DASHBOARDS_SUBDIR}", "foldersFromFilesStructure": False}}]}


def dashboards() -> dict[str, dict[str, Any]]:
    """Dashboard name → dashboard JSON model."""
    return {name: build() for name, build in BUILDERS.items()}


def provisioning_files(prometheus_url: str) -> dict[str, str]:
    """Every file under the provisioning directory, by path relative to it."""
    header = "# Rendered by togather-deploy (togather_deploy/render/grafana.py).\n"
    files = {
        "datasources/togather.yml": header + yaml.safe_dump(datasources(prometheus_url), sort_keys=False),
        "dashboards/togather.yml": header + yaml.safe_dump(dashboard_provider(), sort_keys=False),
    }
    for name, model in dashboards().items():
        files[f"{DASHBOARDS_SUBDIR}/{name}.json"] = json.dumps(model, indent=2, sort_keys=True) + "\n"
    # Grafana scans these too and logs an error when they are missing; they stay empty.
    for unused in ("plugins", "alerting", "notifiers"):
        files[f"{unused}/.keep"] = ""
    return files
