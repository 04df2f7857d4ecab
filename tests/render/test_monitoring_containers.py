"""Monitoring container specs: loopback-only admin UIs, limits, read-only config directories."""

from __future__ import annotations

from togather_deploy.config.model import DeployConfig, load_config
from togather_deploy.render.containers import ContainerSpec
from togather_deploy.render.monitoring_containers import (
    alertmanager_spec,
    grafana_spec,
    node_exporter_spec,
    postgres_exporter_spec,
    prometheus_spec,
    textfile_dir,
)


def _cfg(**monitoring: object) -> DeployConfig:
    raw = {"image": "ghcr.io/togather/server", "environment": "test", "blue": {"version": "v1"},
           "stateDir": "/srv/t", "monitoring": {"enabled": True, **monitoring}}
    return load_config(raw, project="togather-deploy", stack="prod", project_dir="/srv/t")


def _all(cfg: DeployConfig) -> list[ContainerSpec]:
    return [prometheus_spec(cfg), alertmanager_spec(cfg), grafana_spec(cfg, "pw"),
            node_exporter_spec(cfg), postgres_exporter_spec(cfg, "dsn")]


def test_pinned_images_limits_and_own_network() -> None:
    cfg = _cfg()
    for spec in _all(cfg):
        assert ":" in spec.image and not spec.image.endswith(":latest")
        assert 0 < spec.memory_mb <= 512
        assert all(p.ip == "127.0.0.1" for p in spec.ports), spec.name
    networks = {s.name.rsplit("-prod-", 1)[1]: (s.network, s.extra_networks) for s in _all(cfg)}
    mon, app = "togather-deploy-prod-monitoring-net", "togather-deploy-prod-net"
    assert networks == {"prometheus": (mon, (app,)), "alertmanager": (mon, ()), "grafana": (mon, ()),
                        "node-exporter": (mon, ()), "postgres-exporter": (app, ())}


def test_config_directories_are_mounted_read_only_and_data_in_volumes() -> None:
    for spec in _all(_cfg()):
        for mount in spec.mounts:
            if mount.type == "bind":
                assert mount.read_only, (spec.name, mount)
                assert mount.source == "/" or mount.source.startswith("/srv/t/"), mount.source


def test_node_exporter_reads_the_deploy_tooling_textfiles() -> None:
    cfg = _cfg()
    spec = node_exporter_spec(cfg)
    textfile = next(m for m in spec.mounts if m.source == textfile_dir(cfg))
    assert textfile_dir(cfg) == "/srv/t/metrics"
    assert f"--collector.textfile.directory={textfile.target}" in spec.command
    assert "--path.rootfs=/host" in spec.command


def test_grafana_is_locked_down() -> None:
    env = grafana_spec(_cfg(), "secret-pw").env
    assert env["GF_AUTH_ANONYMOUS_ENABLED"] == "false" and env["GF_USERS_ALLOW_SIGN_UP"] == "false"
    assert env["GF_SECURITY_ADMIN_PASSWORD"] == "secret-pw"


def test_prometheus_retention_from_config() -> None:
    cmd = prometheus_spec(_cfg(retentionTime="7d", retentionSize="1GB")).command
    assert "--storage.tsdb.retention.time=7d" in cmd and "--storage.tsdb.retention.size=1GB" in cmd
    assert "--web.enable-lifecycle" not in cmd  # it would answer /-/quit on the app network


def test_the_secret_dsn_only_travels_in_the_environment() -> None:
    spec = postgres_exporter_spec(_cfg(), "postgresql://r:pw@db/x")
    assert spec.env == {"DATA_SOURCE_NAME": "postgresql://r:pw@db/x"}
    assert not any("pw" in arg for arg in spec.command)
