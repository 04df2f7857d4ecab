"""The monitoring stack end to end, with the real tools on loopback and the rendered configs.

Real Prometheus, Alertmanager, node-exporter (serving a ``togather_deploy_*``
textfile written by ``components.deploy_metrics``), postgres-exporter (as its
own ``pg_monitor`` role, against the real PostgreSQL) and two demo-app
processes. Only the targets' addresses and the timings differ from production,
and both are parameters of the same renderers.
"""

from __future__ import annotations

import os
import re
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import psycopg
import pytest

from components.alert_rules import render_alert_rules
from components.alertmanager_conf import (
    NTFY_MESSAGE,
    NTFY_TITLE,
    AlertmanagerSettings,
    render_alertmanager_config,
)
from components.dashboards.common import metric_names, queries_of
from components.deploy_metrics import DeployMetrics, SnapshotFacts, render
from components.grafana_provisioning import dashboards
from components.monitoring_files import ConfigFilesProvider
from components.monitoring_pgexporter import ROLE, exporter_dsn, render_queries
from components.monitoring_pgrole import ExporterRoleProvider
from components.prometheus_conf import PrometheusSettings, ScrapeTargets, render_prometheus_config
from tests.integration import monitoring_procs as mp
from tests.support.demo_app import DemoApp, get_json, prepare_database, start_demo_app
from tests.support.pg import PostgresServer
from tests.support.ports import free_port

pytestmark = [pytest.mark.monitoring, pytest.mark.slow, pytest.mark.postgres]

# Test-only timings, passed as renderer parameters (production: 15s, 30s/5m/4h, for: 10m).
FAST_PROMETHEUS = PrometheusSettings(scrape_interval="1s", evaluation_interval="1s", scrape_timeout="1s")
FAST_ALERTMANAGER = AlertmanagerSettings(group_wait="1s", group_interval="1s", repeat_interval="1h")
# for: 0s makes TargetDown fire on the first evaluation that sees up == 0, unless the rule
# excludes the idle colour as it should.
FAST_FOR = {"SnapshotTooOld": "0s", "TargetDown": "0s", "ServiceUnhealthy": "0s"}
EXPECTED_JOBS = {"togather", "node", "postgres", "alertmanager", "prometheus"}


@dataclass
class World:
    prometheus: mp.Proc
    alertmanager: mp.Proc
    webhook: mp.WebhookReceiver
    apps: dict[str, DemoApp]
    config_dir: str
    rules_props: dict[str, Any]


def _deploy_textfile(directory: str) -> None:
    """What the deploy tooling publishes; the last snapshot is 10 days old (max age: 2 days)."""
    now = time.time()
    text = render(DeployMetrics(
        last_timestamp=now - 600, last_success=True, active_color="blue",
        versions={"blue": "v2", "green": "v1"},
        snapshot=SnapshotFacts(path="/snap/x.dump", timestamp=now - 10 * 86400, size_bytes=12345),
        events={"deploy": 3, "switch": 2}))
    with open(os.path.join(directory, "togather_deploy.prom"), "w", encoding="utf-8") as fh:
        fh.write(text)


def _traffic(app: DemoApp) -> None:
    for path in ("/api/v1/events", "/api/v1/slow?ms=5", "/version", "/health", "/nope"):
        get_json(app.url + path)


@pytest.fixture(scope="module")
def world(postgres_server: PostgresServer) -> Iterator[World]:
    missing = mp.missing_binaries()
    if missing:
        pytest.fail(f"missing {missing}: run scripts/test (Debian prometheus packages)")
    work = tempfile.mkdtemp(prefix="togather-mon-")
    procs: list[mp.Proc] = []
    apps: dict[str, DemoApp] = {}
    webhook = mp.start_webhook_receiver()
    try:
        url = postgres_server.create_database()
        prepare_database(url)
        with psycopg.connect(url, autocommit=True) as conn:  # a table for the table-size panel
            conn.execute("CREATE TABLE events (id serial PRIMARY KEY, body text)")
            conn.execute("INSERT INTO events (body) SELECT repeat('x', 100) FROM generate_series(1, 500)")
        ExporterRoleProvider().create({"admin_dsn": url, "role": ROLE, "password": "exporter-pw-123"})
        for color in ("blue", "green"):
            apps[color] = start_demo_app(port=free_port(), version=f"v-{color}", slot=color,
                                         database_url=url, env={"RATE_LIMIT_PUBLIC": "10000"})
            _traffic(apps[color])

        textfiles = os.path.join(work, "metrics")
        os.makedirs(textfiles)
        _deploy_textfile(textfiles)
        queries = os.path.join(work, "queries.yml")
        with open(queries, "w", encoding="utf-8") as fh:
            fh.write(render_queries())
        dsn = exporter_dsn(ROLE, "exporter-pw-123", host="127.0.0.1", port=postgres_server.port,
                           database=url.rsplit("/", 1)[1])
        procs.append(mp.start_node_exporter(work, textfiles))
        procs.append(mp.start_postgres_exporter(work, dsn, queries))

        am_port, prom_port = free_port(), free_port()
        am_dir = os.path.join(work, "alertmanager")
        ConfigFilesProvider().create({"directory": am_dir, "mode": 0o644, "reload_url": None, "files": {
            "alertmanager.yml": render_alertmanager_config(webhook.url.replace("/hook", "/ntfy-topic"),
                                                           webhook.url, FAST_ALERTMANAGER)}})
        alertmanager = mp.start_alertmanager(work, os.path.join(am_dir, "alertmanager.yml"), am_port)
        procs.append(alertmanager)

        targets = ScrapeTargets(apps={c: f"127.0.0.1:{a.port}" for c, a in apps.items()},
                                node_exporter=procs[0].address, postgres_exporter=procs[1].address,
                                alertmanager=alertmanager.address, prometheus=f"127.0.0.1:{prom_port}")
        config_dir = os.path.join(work, "prometheus")
        rules_props = {"directory": config_dir, "mode": 0o644,
                       "reload_url": f"http://127.0.0.1:{prom_port}/-/reload", "files": {
                           "prometheus.yml": render_prometheus_config(targets, FAST_PROMETHEUS),
                           "rules/togather.yml": render_alert_rules(2, FAST_FOR)}}
        created = ConfigFilesProvider().create(rules_props)
        # Prometheus is not running yet: the reload is skipped, it reads the files on start.
        assert created.outs is not None and created.outs["reloaded"] is False
        prometheus = mp.start_prometheus(work, os.path.join(config_dir, "prometheus.yml"), prom_port)
        procs.append(prometheus)
        yield World(prometheus, alertmanager, webhook, apps, config_dir,
                    {**rules_props, "digests": created.outs["digests"]})
    finally:
        for proc in reversed(procs):
            proc.stop()
        for app in apps.values():
            app.stop()
        webhook.stop()


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
                     "DeployMetricsMissing"}
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
