"""With ``togather:registry``, each app slot pulls through its own docker provider carrying the
registry's credentials (pulumi mocks: what the program declares)."""

from __future__ import annotations

import json
import os

import pulumi
import pulumi_docker as docker
from pulumi.runtime import mocks as pm
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from components.app_slot import AppSlot, AppSlotArgs
from testkit.program import Registration, _Mocks, _Recorder
from togather_deploy.config.model import DeployConfig, load_config

TOKEN = "ghp_" + "r" * 36
SECRET_SIG = "4dabf18193072939515e22adb298388d"  # the Pulumi wire's secret marker


def _declare(cfg: DeployConfig) -> list[Registration]:
    mocks = _Mocks()
    monitor = _Recorder(mocks)
    pm.set_mocks(mocks, project="togather-deploy", stack="dev", preview=False, monitor=monitor)

    def program() -> None:
        net = docker.Network("net", name=cfg.network_name)
        AppSlot("app-blue", AppSlotArgs(cfg, "blue", net, {"DATABASE_URL": pulumi.Output.secret("x")}))

    _sync_await(run_pulumi_func(program))
    return monitor.registrations


def _cfg(**extra: object) -> DeployConfig:
    return load_config({"image": "ghcr.io/org/server", "blue": {"version": "v1.0.0"}, "environment": "test",
                        **extra}, project="togather-deploy", stack="dev",
                       project_dir=os.path.dirname(__file__), secret_keys={"registry"})


def test_the_slot_pulls_through_a_provider_with_the_registry_auth() -> None:
    regs = _declare(_cfg(registry={"server": "ghcr.io", "username": "bot", "password": TOKEN}))
    (provider,) = [r for r in regs if r.type == "pulumi:providers:docker"]
    assert provider.name == "app-blue-registry" and provider.parent.endswith("::app-blue")
    wrapped = provider.inputs["registryAuth"]
    assert SECRET_SIG in wrapped  # the whole list travels as a secret: the password is in it
    auth = json.loads(wrapped["value"])
    assert auth[0]["address"] == "ghcr.io" and auth[0]["username"] == "bot" and auth[0]["password"] == TOKEN


def test_without_a_registry_the_default_provider_pulls() -> None:
    regs = _declare(_cfg())
    assert [r for r in regs if r.type == "pulumi:providers:docker"] == []
