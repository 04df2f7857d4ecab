"""The Deployment dashboard: active colour, versions, health per slot, deploy events.

Fed by the deploy tooling's ``togather_deploy_*`` textfile metrics (served by
node-exporter) and the servers' own ``togather_health_status``/``togather_app_info``.
"""

from __future__ import annotations

from typing import Any

from togather_deploy.render.dashboards.common import (
    annotation,
    dashboard,
    stat,
    table,
    timeseries,
    value_text,
)

UID = "togather-deployment"

ACTIVE = value_text({"1": ("active", "green"), "0": ("idle", "text")})
HEALTH = value_text({"0": ("unhealthy", "red"), "1": ("degraded", "orange"), "2": ("healthy", "green")})
SUCCESS = value_text({"1": ("succeeded", "green"), "0": ("failed", "red")})


def build() -> dict[str, Any]:
    panels = [
        stat("Active colour", [("togather_deploy_active_color", "{{color}}")], mappings=[ACTIVE],
             description="Which colour the router sends public traffic to (from the deploy tooling)."),
        stat("Health per slot", [("togather_health_status", "{{slot}}")], mappings=[HEALTH],
             description="Each running server's own /health verdict; a stopped idle slot shows no value."),
        table("Version per colour", [("togather_deploy_version_info", "")],
              description="The image tag deployed to each colour."),
        table("Running servers", [("togather_app_info", "")],
              description="What each running server reports about itself (version, commit, slot)."),
        stat("Last deployment", [("time() - togather_deploy_last_timestamp_seconds", "age")], unit="s"),
        stat("Last deployment result", [("togather_deploy_last_success", "result")], mappings=[SUCCESS]),
        timeseries("Deploy events", [("increase(togather_deploy_events_total[1h])", "{{event}}")],
                   description="Releases, switches, rollbacks and snapshots per hour."),
        stat("Last snapshot age", [("time() - togather_deploy_last_snapshot_timestamp_seconds", "age")],
             unit="s", description="SnapshotTooOld fires when this passes monitoring.snapshotMaxAgeDays."),
        stat("Last snapshot size", [("togather_deploy_last_snapshot_size_bytes", "size")], unit="bytes"),
    ]
    marks = [annotation("Deploy events", "increase(togather_deploy_events_total[2m]) > 0", "{{event}}")]
    return dashboard(UID, "Togather / Deployment", panels, annotations=marks, tags=["deployment"])
