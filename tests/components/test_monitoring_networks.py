"""Who sits on which Docker network, read from what the real program declares (Pulumi mocks).

The app slots' network is where a compromised app would start from: nothing
there may serve an admin endpoint (Alertmanager's silences, Grafana's API,
Prometheus' /-/quit). Every name a monitoring tool connects to must still
resolve on a network it shares with the owner of that name.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from testkit.program import ROOT, ProgramRun, Registration, reveal, run_program
from togather_deploy.config.source import from_stack_file

STACK = "production"  # monitoring is enabled there


@pytest.fixture(scope="module")
def result() -> ProgramRun:
    return run_program(STACK)


def _role(reg: Registration) -> str:
    return next(la["value"] for la in reg.inputs["labels"] if la["label"] == "togather.role")


def _networks(reg: Registration) -> dict[str, list[str]]:
    """Network name → the aliases the container answers to there."""
    return {n["name"]: list(n.get("aliases") or []) for n in reg.inputs.get("networksAdvanced") or []}


def admin_endpoints(reg: Registration) -> list[str]:
    """What a container serves that changes or silences monitoring, judged from its mapping."""
    role, command = _role(reg), reg.inputs.get("command") or []
    if role == "alertmanager":
        return ["/api/v2/silences", "/-/reload"]
    if role == "grafana":
        return ["/api/admin", "/api/dashboards"]
    if role == "prometheus":
        return ((["/-/quit", "/-/reload"] if "--web.enable-lifecycle" in command else [])
                + (["/api/v1/admin/tsdb"] if "--web.enable-admin-api" in command else []))
    return []


def test_no_app_network_member_serves_an_admin_endpoint(result: ProgramRun) -> None:
    app_net = from_stack_file(ROOT, STACK).network_name
    members = {name: reg for name, reg in result.containers().items() if app_net in _networks(reg)}
    assert {_role(r) for r in members.values()} == {"database", "app", "router", "prometheus",
                                                   "postgres-exporter"}
    for name, reg in members.items():
        assert admin_endpoints(reg) == [], name


def test_network_membership_per_container(result: ProgramRun) -> None:
    cfg = from_stack_file(ROOT, STACK)
    app, mon = cfg.network_name, cfg.name("monitoring-net")
    seen = {_role(reg): _networks(reg) for reg in result.containers().values()}
    assert seen["prometheus"] == {mon: ["prometheus"], app: []}  # no name on the app network
    assert seen["alertmanager"] == {mon: ["alertmanager"]}
    assert seen["grafana"] == {mon: []}
    assert seen["node-exporter"] == {mon: ["node-exporter"]}
    assert seen["postgres-exporter"] == {app: ["postgres-exporter"]}
    assert seen["database"] == {app: ["db"]}
    (network,) = [r for r in result.of_type("docker:index/network:Network") if r.name == "monitoring-network"]
    assert network.inputs["name"] == mon


def _reachable(result: ProgramRun, client_role: str, host: str) -> bool:
    """Does ``host`` resolve, for ``client_role``, to a container on a network they share?"""
    regs = list(result.containers().values())
    (client,) = [r for r in regs if _role(r) == client_role]
    shared = set(_networks(client))
    return any(host in aliases for r in regs for net, aliases in _networks(r).items() if net in shared)


def _files(result: ProgramRun, name: str) -> dict[str, Any]:
    return dict(reveal(result.named(name).inputs["files"]))


def test_every_name_the_tools_connect_to_resolves_on_a_shared_network(result: ProgramRun) -> None:
    config = yaml.safe_load(_files(result, "monitoring-prometheus-config")["prometheus.yml"])
    targets = [t for job in config["scrape_configs"] for group in job["static_configs"]
               for t in group["targets"]]
    targets += config["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"]
    hosts = {t.rsplit(":", 1)[0] for t in targets} - {"localhost"}
    assert {"app-blue", "app-green", "postgres-exporter", "node-exporter", "alertmanager"} <= hosts
    deployed = {f"app-{c}" for c in from_stack_file(ROOT, STACK).deployed_colors}
    for host in hosts - ({"app-blue", "app-green"} - deployed):  # a colour without a version has none
        assert _reachable(result, "prometheus", host), host
    datasources = [text for path, text in _files(result, "monitoring-grafana-provisioning").items()
                   if "datasource" in path]
    (url,) = [d["url"] for text in datasources for d in yaml.safe_load(text)["datasources"]]
    assert _reachable(result, "grafana", str(urlsplit(url).hostname))
    (dsn,) = [e for e in reveal(result.containers()[cfg_name("postgres-exporter")].inputs["envs"])
              if e.startswith("DATA_SOURCE_NAME=")]
    assert _reachable(result, "postgres-exporter", str(urlsplit(dsn.split("=", 1)[1]).hostname))
    assert not _reachable(result, "app", "alertmanager") and not _reachable(result, "app", "prometheus")


def cfg_name(role: str) -> str:
    return f"togather-deploy-{STACK}-{role}"


def test_prometheus_reloads_by_sighup_when_its_files_change(result: ProgramRun) -> None:
    prometheus = result.containers()[cfg_name("prometheus")]
    assert "--web.enable-lifecycle" not in prometheus.inputs["command"]
    assert result.named("monitoring-prometheus-config").inputs.get("reload_url") is None
    reload = result.named("monitoring-prometheus-reload")
    assert reload.inputs["create"] == (
        "if [ \"$(docker inspect --format '{{.State.Running}}' togather-deploy-production-prometheus "
        "2>/dev/null)\" = true ]; then docker kill --signal HUP -- togather-deploy-production-prometheus; fi")
    assert any(d.endswith("::monitoring-prometheus") for d in reload.dependencies)
    assert any(d.endswith("::monitoring-prometheus-config") for d in reload.dependencies)
    assert "triggers" in reload.inputs  # replaced, so run again, whenever the files are written
    # Alertmanager is not on the app network: its HTTP reload on the loopback port stays.
    assert result.named("monitoring-alertmanager-config").inputs["reload_url"].endswith(":9093/-/reload")
