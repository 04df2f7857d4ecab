"""The monitoring stack end to end, with the real tools on loopback and the rendered configs.

Real Prometheus, Alertmanager, node-exporter, postgres-exporter and two demo
apps (see ``monitoring_world``): every target up, the rules loaded, every
dashboard metric really exported, alerts delivered to a webhook through the
real Alertmanager, a config change reloaded in place, and only the active
colour paging.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from components.providers.monitoring_files import ConfigFilesProvider
from testkit.pg import PostgresServer
from tests.integration import monitoring_procs as mp
from tests.integration.monitoring_world import EXPECTED_JOBS, FAST_FOR, World, monitoring_world
from togather_deploy.render.alert_rules import render_alert_rules
from togather_deploy.render.alertmanager import NTFY_MESSAGE, NTFY_TITLE
from togather_deploy.render.dashboards.common import metric_names, queries_of
from togather_deploy.render.grafana import dashboards

pytestmark = [pytest.mark.monitoring, pytest.mark.slow, pytest.mark.postgres]


@pytest.fixture(scope="module")
def world(postgres_server: PostgresServer) -> Iterator[World]:
    missing = mp.missing_binaries()
    if missing:
        pytest.fail(f"missing {missing}: run scripts/test (Debian prometheus packages)")
    with monitoring_world(postgres_server) as w:
        yield w


def _up(world: World) -> dict[tuple[str, str], str]:
    result = mp.api(world.prometheus.url, "/api/v1/query", query="up")["result"]
    return {(r["metric"]["job"], r["metric"].get("slot", "")): r["value"][1] for r in result}


def test_every_target_is_up(world: World) -> None:
    def all_up() -> dict[tuple[str, str], str] | None:
        up = _up(world)
        jobs = {job for job, _ in up}
        return up if jobs == EXPECTED_JOBS and len(up) == 6 and set(up.values()) == {"1"} else None

    up = mp.wait_for("up == 1 for every target", all_up, timeout=90)
    assert {slot for job, slot in up if job == "togather"} == {"blue", "green"}


def test_the_rules_are_loaded(world: World) -> None:
    groups = mp.api(world.prometheus.url, "/api/v1/rules")["groups"]
    (group,) = [g for g in groups if g["name"] == "togather"]
    names = {r["name"] for r in group["rules"]}
    assert names == {"HighErrorRate", "DatabaseDown", "DiskSpaceLow", "HighMemoryUsage",
                     "ServiceUnhealthy", "HighLatency", "TargetDown", "SnapshotTooOld",
                     "DeployMetricsMissing", "ConfigReloadFailed",
                     "CertificateExpiresSoon", "CertificateRenewalFailed",
                     "BackupNeverRan", "BackupTooOld", "BackupFailed", "RestoreDrillFailed"}
    assert all(r["health"] in ("ok", "unknown") for r in group["rules"]), group["rules"]


def test_every_dashboard_metric_is_really_exported(world: World) -> None:
    wanted = {name for model in dashboards().values() for expr in queries_of(model)
              for name in metric_names(expr)}

    assert len(wanted) > 30

    def unserved() -> set[str]:
        return wanted - set(mp.api(world.prometheus.url, "/api/v1/label/__name__/values"))

    try:
        mp.wait_for("every dashboard metric in Prometheus", lambda: not unserved(), timeout=60)
    except AssertionError:
        raise AssertionError(f"queried by dashboards, exported by nobody: {sorted(unserved())}") from None


def test_an_alert_fires_end_to_end_into_the_webhook(world: World) -> None:
    def snapshot_alert() -> dict[str, Any] | None:
        for body in world.webhook.bodies:
            for alert in body.get("alerts", []):
                if alert["labels"].get("alertname") == "SnapshotTooOld" and alert["status"] == "firing":
                    return alert
        return None

    alert = mp.wait_for("SnapshotTooOld delivered to the webhook", snapshot_alert, timeout=90)
    assert alert["labels"]["severity"] == "warning"
    assert "snapshot" in alert["annotations"]["description"]
    assert "day" in alert["annotations"]["summary"]


def test_the_ntfy_templates_only_reference_fields_alertmanager_sends(world: World) -> None:
    """ntfy renders NTFY_TITLE/NTFY_MESSAGE over the posted JSON: every field must exist."""
    def ntfy_post() -> tuple[str, dict[str, Any]] | None:
        for path, body in zip(list(world.webhook.paths), list(world.webhook.bodies), strict=False):
            if path.startswith("/ntfy-topic?"):
                return path, body
        return None

    path, body = mp.wait_for("a post to the ntfy URL", ntfy_post, timeout=90)
    query = parse_qs(urlsplit(path).query)
    assert query["tpl"] == ["yes"] and query["t"] == [NTFY_TITLE] and query["m"] == [NTFY_MESSAGE]
    for field_path in re.findall(r"\{\{\.([\w.]+)\}\}", NTFY_TITLE):
        value: Any = body
        for part in field_path.split("."):
            value = value[part]
        assert isinstance(value, str) and value, field_path
    inner = re.findall(r"\{\{\.annotations\.(\w+)\}\}", NTFY_MESSAGE)
    assert inner and all(alert["annotations"][name] for alert in body["alerts"] for name in inner)


def test_a_config_change_reloads_prometheus_in_place(world: World) -> None:
    pid = world.prometheus.process.pid
    new = {**world.rules_props, "files": {**world.rules_props["files"],
                                          "rules/togather.yml": render_alert_rules(30, FAST_FOR)}}
    updated = ConfigFilesProvider().update(world.config_dir, world.rules_props, new)
    assert updated.outs is not None and updated.outs["reloaded"] is True

    def reloaded() -> bool:
        groups = mp.api(world.prometheus.url, "/api/v1/rules")["groups"]
        summaries = {r["name"]: r["annotations"]["summary"] for g in groups for r in g["rules"]}
        return "30 day(s)" in summaries.get("SnapshotTooOld", "")

    mp.wait_for("the new rule file in the running Prometheus", reloaded, timeout=30)
    assert world.prometheus.process.pid == pid and world.prometheus.process.poll() is None


def _alerts(world: World, name: str) -> list[dict[str, Any]]:
    return [a for a in mp.api(world.prometheus.url, "/api/v1/alerts")["alerts"]
            if a["labels"]["alertname"] == name]


def test_only_the_active_colour_s_health_pages(world: World) -> None:
    """Both colours report unhealthy; blue is active (deploy textfile), so only blue alerts."""
    for app in world.apps.values():
        app.set_control(health="unhealthy")
    try:
        def delivered() -> dict[str, Any] | None:
            return next((a for body in list(world.webhook.bodies) for a in body.get("alerts", [])
                         if a["labels"].get("alertname") == "ServiceUnhealthy"
                         and a["status"] == "firing"), None)

        alert = mp.wait_for("ServiceUnhealthy delivered", delivered, timeout=60)
        assert alert["labels"]["slot"] == "blue"
        assert mp.wait_for("green seen unhealthy", lambda: [r for r in mp.api(
            world.prometheus.url, "/api/v1/query", query='togather_health_status{slot="green"} == 0'
        )["result"]], timeout=30)
        assert {a["labels"]["slot"] for a in _alerts(world, "ServiceUnhealthy")} == {"blue"}
    finally:
        for app in world.apps.values():
            app.set_control()
    mp.wait_for("ServiceUnhealthy resolved", lambda: not _alerts(world, "ServiceUnhealthy"), timeout=30)


def _evaluated_at(world: World, rule: str) -> float:
    groups = mp.api(world.prometheus.url, "/api/v1/rules")["groups"]
    (stamp,) = [r["lastEvaluation"] for g in groups for r in g["rules"] if r["name"] == rule]
    trimmed = re.sub(r"(\.\d{6})\d*", r"\1", stamp).replace("Z", "+00:00")
    return datetime.fromisoformat(trimmed).timestamp()


def test_a_stopped_idle_colour_raises_no_alert(world: World) -> None:
    """Last: stops green. TargetDown has for: 0s here, so a wrong join would fire at once."""
    world.apps["green"].stop()
    mp.wait_for("green seen down", lambda: _up(world).get(("togather", "green")) == "0", timeout=30)
    seen = time.time()
    mp.wait_for("two more evaluations", lambda: _evaluated_at(world, "TargetDown") > seen + 1.5, timeout=30)
    alerts = mp.api(world.prometheus.url, "/api/v1/alerts")["alerts"]
    assert not [a for a in alerts if a["labels"]["alertname"] in ("TargetDown", "ServiceUnhealthy")]
