"""Declare the router config, the health gates and the traffic switch from the stack config.

Keeps ``__main__.py`` thin (the router's own config files are ``NginxRouter``'s):

    router = NginxRouter("router", NginxRouterArgs(cfg, network, depends_on=[host]))
    gates, switch = declare_traffic("traffic", cfg, slots={"blue": blue, "green": green},
                                    router=router)

A slot value is anything with ``container_name`` and ``container_id`` (an
``AppSlot``), or a mapping with those keys. Only the active colour's gate is a
dependency of the switch: a colour that never proved healthy is never switched
to, and a broken idle colour never blocks a rollback away from it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi
from pulumi import ResourceOptions

from components.providers.health_gate import HealthGate
from components.providers.traffic_switch import TrafficSwitch, switch_summary
from togather_deploy.config.model import DeployConfig, other_color
from togather_deploy.config.urls import loopback_url
from togather_deploy.ops import router_files
from togather_deploy.render.nginx_tls import local_verify_url

DRAIN_SECONDS = 2
"""After a verified flip, only requests already routed can reach the old colour: a short wait."""
VERIFY_TIMEOUT_SECONDS = 10


def local_url(port: int) -> str:
    return loopback_url(port)


def _attr(slot: Any, name: str) -> Any:
    return slot[name] if isinstance(slot, Mapping) else getattr(slot, name)


def gate_props(cfg: DeployConfig, color: str, *, container_name: Any, container_id: Any) -> dict[str, Any]:
    h = cfg.health
    serving = router_files.read_active_color(cfg.router_dir)  # what serves now (observed)
    return {
        "color": color, "base_url": local_url(cfg.slot(color).host_port),
        "version": cfg.slot(color).version, "container": container_name, "container_id": container_id,
        "active": color == cfg.active_color, "path": h.path, "interval_seconds": h.interval_seconds,
        "timeout_seconds": h.timeout_seconds, "consecutive": h.consecutive,
        "allow_degraded": h.allow_degraded,
        "stop_on_failure": cfg.stop_idle_slot and serving is not None and color != serving,
    }


def switch_props(cfg: DeployConfig, *, idle_container: Any, gate_checked_at: Any,
                 target_container: Any = "") -> dict[str, Any]:
    active, idle = cfg.active_color, cfg.idle_color
    version = cfg.slot(active).version or ""
    return {
        "router_dir": cfg.router_dir, "public_url": local_verify_url(cfg),
        "active_color": active, "version": version,
        "target_url": local_url(cfg.slot(active).host_port), "health_path": cfg.health.path,
        "allow_degraded": cfg.health.allow_degraded, "verify_path": "/version",
        "verify_timeout": VERIFY_TIMEOUT_SECONDS, "stop_idle_slot": cfg.stop_idle_slot,
        "idle_container": idle_container or "", "target_container": target_container or "",
        "drain_seconds": DRAIN_SECONDS,
        "gate_checked_at": gate_checked_at,
        "change": switch_summary(idle, cfg.slot(idle).version, active, version),
    }


def declare_traffic(name: str, cfg: DeployConfig, *, slots: Mapping[str, Any], router: pulumi.Resource,
                    opts: ResourceOptions | None = None) -> tuple[dict[str, HealthGate], TrafficSwitch]:
    """One ``HealthGate`` per deployed colour, and the ``TrafficSwitch`` behind the active one."""
    base = opts or ResourceOptions()
    gates: dict[str, HealthGate] = {}
    for color, slot in sorted(slots.items()):
        props = gate_props(cfg, color, container_name=_attr(slot, "container_name"),
                           container_id=_attr(slot, "container_id"))
        deps = [slot] if isinstance(slot, pulumi.Resource) else []
        gates[color] = HealthGate(f"{name}-gate-{color}", props,
                                  base.merge(ResourceOptions(depends_on=deps)))
    active_gate = gates[cfg.active_color]
    idle_slot = slots.get(other_color(cfg.active_color))
    props = switch_props(cfg, idle_container=_attr(idle_slot, "container_name") if idle_slot else "",
                         gate_checked_at=active_gate.checked_at,
                         target_container=_attr(slots[cfg.active_color], "container_name"))
    switch = TrafficSwitch(f"{name}-switch", props,
                           base.merge(ResourceOptions(depends_on=[active_gate, router])))
    return gates, switch
