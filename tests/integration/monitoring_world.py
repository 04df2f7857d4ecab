"""The world of the monitoring end-to-end test: real processes on loopback, rendered configs.

``monitoring_world`` starts (and always stops) two demo apps on a real
PostgreSQL database, node-exporter serving a ``togather_deploy_*`` textfile
written by ``togather_deploy.ops.metrics``, postgres-exporter as its own
``pg_monitor`` role, Alertmanager posting to a local webhook receiver, and
Prometheus, each with the config our renderers produce. Only addresses and
timings differ from production, and both are parameters of the renderers.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import psycopg

from components.providers.monitoring_files import ConfigFilesProvider
from components.providers.monitoring_role import ExporterRoleProvider
from testkit.demo_app import DemoApp, get_json, prepare_database, start_demo_app
from testkit.pg import PostgresServer
from testkit.ports import free_port
from tests.integration import monitoring_procs as mp
from togather_deploy.ops.metrics import DeployMetrics, SnapshotFacts, render
from togather_deploy.render.alert_rules import render_alert_rules
from togather_deploy.render.alertmanager import AlertmanagerSettings, render_alertmanager_config
from togather_deploy.render.pg_exporter import ROLE, exporter_dsn, render_queries
from togather_deploy.render.prometheus import PrometheusSettings, ScrapeTargets, render_prometheus_config

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


@contextlib.contextmanager
def monitoring_world(postgres_server: PostgresServer) -> Iterator[World]:
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
        shutil.rmtree(work, ignore_errors=True)
