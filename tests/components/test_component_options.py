"""Every component hands its children ``parent=self`` and nothing else of its own options.

A component's ``depends_on``/``retain_on_delete``/``aliases`` describe the
component: copied onto each child they would make every child wait for what the
component waits for, keep every child on delete, and give every child the
component's old names. Pulumi's own rule still applies: a child of a protected
component is protected (the SDK infers ``protect`` from the parent).
"""

from __future__ import annotations

from collections.abc import Callable

import pulumi
import pulumi_docker as docker
import pulumi_random as random
import pytest
from pulumi import ResourceOptions
from pulumi.runtime import mocks as pm
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from components.app_secrets import AppSecrets, AppSecretsArgs
from components.app_slot import AppSlot, AppSlotArgs
from components.database import Database, DatabaseArgs
from components.host_dirs import HostDirs, HostDirsArgs
from components.monitoring import MonitoringStack, MonitoringStackArgs
from components.router import NginxRouter, NginxRouterArgs
from testkit.program import ROOT, Registration, _Mocks, _Recorder
from togather_deploy.config.model import DeployConfig
from togather_deploy.config.source import from_stack_file

Build = Callable[[DeployConfig, docker.Network, ResourceOptions], pulumi.ComponentResource]
BUILDERS: dict[str, Build] = {
    "database": lambda cfg, net, opts: Database("database", DatabaseArgs(cfg, net), opts),
    "app-secrets": lambda cfg, net, opts: AppSecrets("app-secrets", AppSecretsArgs(cfg), opts),
    "host-dirs": lambda cfg, net, opts: HostDirs("host-dirs", HostDirsArgs(cfg), opts),
    "router": lambda cfg, net, opts: NginxRouter("router", NginxRouterArgs(cfg, net), opts),
    "app-blue": lambda cfg, net, opts: AppSlot("app-blue", AppSlotArgs(
        cfg, "blue", net, {"DATABASE_URL": pulumi.Output.secret("postgres://x")}), opts),
    "monitoring": lambda cfg, net, opts: MonitoringStack("monitoring", MonitoringStackArgs(
        cfg, net, admin_dsn=pulumi.Output.secret("postgres://admin@127.0.0.1/db")), opts),
}


def _declare(name: str) -> list[Registration]:
    cfg = from_stack_file(ROOT, "production")  # monitoring enabled there
    mocks = _Mocks()
    monitor = _Recorder(mocks)
    pm.set_mocks(mocks, project="togather-deploy", stack="production", preview=False, monitor=monitor)

    def program() -> None:
        net = docker.Network("net", name=cfg.network_name)
        first = random.RandomPassword("first", length=8)
        BUILDERS[name](cfg, net, ResourceOptions(depends_on=[first], protect=True, retain_on_delete=True))

    _sync_await(run_pulumi_func(program))
    return monitor.registrations


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_children_do_not_inherit_the_component_s_options(name: str) -> None:
    regs = _declare(name)
    (component,) = [r for r in regs if r.type.startswith("togather:deploy:")]
    assert component.retain_on_delete and any(d.endswith("::first") for d in component.dependencies)
    children = [r for r in regs if r.parent.endswith(f"::{name}")]
    assert children, name
    for child in children:
        assert not any(d.endswith("::first") for d in child.dependencies), child.name
        if child.type != "docker:index/volume:Volume":  # the data volume keeps itself, on purpose
            assert not child.retain_on_delete, child.name
