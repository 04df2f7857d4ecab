"""``declare_traffic`` / ``declare_router_config`` under Pulumi's mocks: what gets registered."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pulumi
from pulumi.runtime import mocks as pm
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from components.router import declare_router_config
from components.traffic import declare_traffic, gate_props, switch_props
from testkit.program import Registration, _Mocks, _Recorder
from togather_deploy.config.model import DeployConfig, load_config

HERE = os.path.dirname(os.path.abspath(__file__))
DYNAMIC = "pulumi-python:dynamic:Resource"


def _cfg(**raw: Any) -> DeployConfig:
    base = {"image": "ghcr.io/x/server", "environment": "test", "blue": {"version": "v1.4.0"},
            "green": {"version": "v1.5.0"}, "activeColor": "green", "stateDir": "/srv/togather"}
    return load_config({**base, **raw}, project="togather-deploy", stack="dev", project_dir=HERE)


def _run(program: Callable[[], None]) -> list[Registration]:
    mocks = _Mocks()
    monitor = _Recorder(mocks)
    pm.set_mocks(mocks, project="togather-deploy", stack="dev", preview=False, monitor=monitor)
    _sync_await(run_pulumi_func(program))
    return monitor.registrations


def test_props_come_from_the_config() -> None:
    cfg = _cfg(health={"allowDegraded": True, "consecutive": 4}, stopIdleSlot=False)
    gate = gate_props(cfg, "green", container_name="c-green", container_id="id-g")
    assert gate["base_url"] == "http://127.0.0.1:18082" and gate["version"] == "v1.5.0"
    assert gate["active"] is True and gate["allow_degraded"] is True and gate["consecutive"] == 4
    assert gate_props(cfg, "blue", container_name="b", container_id="i")["active"] is False
    sw = switch_props(cfg, idle_container="c-blue", gate_checked_at="t")
    assert sw["change"] == "activeColor: blue → green (v1.4.0 → v1.5.0)"
    assert sw["public_url"] == "http://127.0.0.1:80" and sw["router_dir"] == "/srv/togather/router"
    assert sw["target_url"] == "http://127.0.0.1:18082" and sw["stop_idle_slot"] is False


def test_declares_a_gate_per_colour_and_a_switch_behind_the_active_gate() -> None:
    cfg = _cfg()

    def program() -> None:
        files = declare_router_config("router-config", cfg)
        router = pulumi.CustomResource("test:index:Router", "router", {"name": "r"},
                                       opts=pulumi.ResourceOptions(depends_on=[files]))
        slots = {c: {"container_name": f"togather-deploy-dev-app-{c}", "container_id": f"id-{c}"}
                 for c in ("blue", "green")}
        declare_traffic("traffic", cfg, slots=slots, router=router)

    regs = {r.name: r for r in _run(program)}
    assert {"router-config", "traffic-gate-blue", "traffic-gate-green", "traffic-switch"} <= set(regs)
    assert all(regs[n].type == DYNAMIC for n in ("router-config", "traffic-gate-blue", "traffic-switch"))
    switch = regs["traffic-switch"]
    assert switch.inputs["active_color"] == "green" and switch.inputs["version"] == "v1.5.0"
    assert switch.inputs["idle_container"] == "togather-deploy-dev-app-blue"
    deps = " ".join(switch.dependencies)
    assert "traffic-gate-green" in deps and "router" in deps and "traffic-gate-blue" not in deps
    assert regs["traffic-gate-green"].inputs["active"] is True
    assert regs["router-config"].inputs["params"]["upstreams"]["green"] == "10.77.0.11:8080"  # fixed address
    assert "active" not in str(regs["router-config"].inputs["params"])  # no colour in the router


def test_only_deployed_colours_get_a_gate() -> None:
    cfg = _cfg(green={}, activeColor="blue")

    def program() -> None:
        router = pulumi.CustomResource("test:index:Router", "router", {})
        declare_traffic("traffic", cfg, slots={"blue": {"container_name": "b", "container_id": "i"}},
                        router=router)

    names = {r.name for r in _run(program)}
    assert "traffic-gate-blue" in names and "traffic-gate-green" not in names
