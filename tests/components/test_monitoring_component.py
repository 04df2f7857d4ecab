"""MonitoringStack under Pulumi's mocks: what it declares, where it listens, what is secret."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pulumi
import pulumi_docker as docker
from pulumi.runtime import mocks as pm
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from components.monitoring import MonitoringStack, MonitoringStackArgs, declare_monitoring
from testkit.program import Registration, _Mocks, _Recorder, is_secret, reveal
from togather_deploy.config.model import DeployConfig, load_config

CONTAINER = "docker:index/container:Container"


def _config(monitoring: dict[str, Any], **extra: Any) -> DeployConfig:
    raw = {"image": "ghcr.io/togather/server", "environment": "test", "blue": {"version": "v1"},
           "stateDir": "/srv/togather", "monitoring": monitoring, **extra}
    return load_config(raw, project="togather-deploy", stack="dev", project_dir="/srv/togather",
                       secret_keys=set(extra))


def _run(cfg: DeployConfig) -> tuple[list[Registration], list[MonitoringStack | None]]:
    mocks = _Mocks()
    monitor = _Recorder(mocks)
    pm.set_mocks(mocks, project="togather-deploy", stack="dev", preview=False, monitor=monitor)
    made: list[MonitoringStack | None] = []

    def program() -> None:
        net = docker.Network("net", name=cfg.network_name)
        made.append(declare_monitoring("monitoring", MonitoringStackArgs(
            config=cfg, network=net, admin_dsn=pulumi.Output.secret("postgres://admin@127.0.0.1/db"))))

    _sync_await(run_pulumi_func(program))
    return monitor.registrations, made


def _by(regs: list[Registration], pred: Callable[[Registration], bool]) -> list[Registration]:
    return [r for r in regs if pred(r)]


def test_disabled_declares_nothing() -> None:
    regs, made = _run(_config({"enabled": False}))
    assert made == [None]
    assert [r.type for r in regs] == ["docker:index/network:Network"]


def test_enabled_declares_the_five_containers_under_the_component() -> None:
    regs, _ = _run(_config({"enabled": True}))
    comp = _by(regs, lambda r: r.type == "togather:deploy:MonitoringStack")
    assert len(comp) == 1
    containers = {r.inputs["name"]: r for r in _by(regs, lambda r: r.type == CONTAINER)}
    assert sorted(containers) == sorted(f"togather-deploy-dev-{role}" for role in (
        "prometheus", "alertmanager", "grafana", "node-exporter", "postgres-exporter"))
    for reg in regs:
        if reg.type != "togather:deploy:MonitoringStack" and reg.name != "net":
            assert reg.name.startswith("monitoring-"), reg.name
            assert reg.parent.endswith("MonitoringStack::monitoring"), reg.name
    for reg in containers.values():
        assert reg.inputs["memory"] > 0  # a resource limit on every container


def test_every_published_port_is_loopback_and_exporters_publish_nothing() -> None:
    regs, _ = _run(_config({"enabled": True, "grafanaPort": 3300}))
    containers = {r.inputs["name"].rsplit("-dev-", 1)[1]: r for r in _by(regs, lambda r: r.type == CONTAINER)}
    published = {role: [(p["ip"], p["external"]) for p in reg.inputs.get("ports", [])]
                 for role, reg in containers.items()}
    assert published == {"prometheus": [("127.0.0.1", 9090)], "alertmanager": [("127.0.0.1", 9093)],
                         "grafana": [("127.0.0.1", 3300)], "node-exporter": [], "postgres-exporter": []}


def test_prometheus_has_both_retentions_and_no_lifecycle_endpoints() -> None:
    regs, _ = _run(_config({"enabled": True, "retentionTime": "30d", "retentionSize": "2GB"}))
    (prom,) = _by(regs, lambda r: r.type == CONTAINER and r.inputs["name"].endswith("-prometheus"))
    assert {"--storage.tsdb.retention.time=30d", "--storage.tsdb.retention.size=2GB"} <= set(
        prom.inputs["command"])
    assert "--web.enable-lifecycle" not in prom.inputs["command"]  # reloads by SIGHUP instead
    mounts = {m["target"]: m for m in prom.inputs["mounts"]}
    assert mounts["/etc/prometheus/togather"]["readOnly"] is True
    assert mounts["/etc/prometheus/togather"]["source"] == "/srv/togather/monitoring/prometheus"


def test_grafana_password_is_random_and_secret() -> None:
    regs, made = _run(_config({"enabled": True}))
    assert _by(regs, lambda r: r.name == "monitoring-grafana-password")
    (grafana,) = _by(regs, lambda r: r.type == CONTAINER and r.inputs["name"].endswith("-grafana"))
    assert is_secret(grafana.inputs["envs"])  # the engine marks the whole list secret
    envs = reveal(grafana.inputs["envs"])
    assert "GF_SECURITY_ADMIN_PASSWORD=" + "r" * 32 in envs
    assert "GF_AUTH_ANONYMOUS_ENABLED=false" in envs
    stack = made[0]
    assert stack is not None and _sync_await(stack.grafana_admin_password.is_secret())


def test_operator_grafana_password_wins_and_stays_secret() -> None:
    regs, made = _run(_config({"enabled": True}, grafanaAdminPassword="operator-chosen-pw"))
    assert not _by(regs, lambda r: r.name == "monitoring-grafana-password")
    stack = made[0]
    assert stack is not None and _sync_await(stack.grafana_admin_password.is_secret())


def test_exporter_role_and_dsn_are_secret() -> None:
    regs, _ = _run(_config({"enabled": True}))
    (role,) = _by(regs, lambda r: r.name == "monitoring-exporter-role")
    assert is_secret(role.inputs["admin_dsn"]) and is_secret(role.inputs["password"])
    (exp,) = _by(regs, lambda r: r.type == CONTAINER and r.inputs["name"].endswith("-postgres-exporter"))
    assert is_secret(exp.inputs["envs"])
    (dsn,) = [e for e in reveal(exp.inputs["envs"]) if e.startswith("DATA_SOURCE_NAME=")]
    assert dsn == "DATA_SOURCE_NAME=postgresql://togather_exporter:" + "r" * 32 + \
        "@db:5432/togather?sslmode=disable"


def test_alertmanager_config_contents_are_secret_in_the_state() -> None:
    regs, _ = _run(_config({"enabled": True, "ntfyUrl": "https://ntfy.sh/secret-topic"}))
    (am,) = _by(regs, lambda r: r.name == "monitoring-alertmanager-config")
    assert is_secret(am.inputs["files"])
    assert "secret-topic" in reveal(am.inputs["files"])["alertmanager.yml"]
    assert am.inputs["reload_url"] == "http://127.0.0.1:9093/-/reload"


def test_rules_follow_the_stack_s_allow_degraded() -> None:
    for allow, expr in ((False, "togather_health_status < 2"), (True, "togather_health_status < 1")):
        regs, _ = _run(_config({"enabled": True}, health={"allowDegraded": allow}))
        (prom,) = _by(regs, lambda r: r.name == "monitoring-prometheus-config")
        assert expr in reveal(prom.inputs["files"])["rules/togather.yml"]
