"""The soak: colour flips through the pooled no-reload router while wrk runs, in front of the demo app.

For ``--duration`` s one wrk (32 keep-alive connections that never retry) requests
``/api/v1/events`` and a second keeps ~1 s requests (``/api/v1/slow``) in flight, while the
``TrafficSwitch`` code path (``components.providers.traffic_switch.switch``: health look,
atomic write, verification through the public port) flips colours ``flips`` times and, once,
the idle colour's process is replaced by a new version at the same address. Then the
TIME_WAIT sockets towards the slots are counted.

``switch_under_load.py`` runs it twice, with the same checks:

- **saturating** (``pace_ms=None``): wrk sends each next request the moment the last one
  returns, both cores at 100 %: the stress. A flip is one verifying request and waits in the
  demo app's queue like every other (traced: each flip verified on its first request, 37 ms
  against a request p99 of 38 ms), so its p99 is reported next to the load's own p99.
- **paced** (``pace_ms=PACE_MS``): each connection pauses between requests (wrk's Lua
  ``delay()``), about half of what the demo app serves here: what a node at work sees, and
  where the issue's flip goal (p99 < 25 ms) is judged, in the same soak as every other goal.

Not a test: nothing is asserted.
"""

from __future__ import annotations

import os
import re
import time
from typing import Any

from benchmarks import nginx_baselines as base
from benchmarks.wrk_load import percentile, run_load
from components.providers.traffic_switch import switch
from components.traffic import DRAIN_SECONDS
from testkit.demo_app import DemoApp, start_demo_app
from testkit.nginx import start_router
from testkit.ports import free_port

APP_ENV = {"RATE_LIMIT_PUBLIC": "1000000"}
PACE_MS = 15
"""Each connection's pause between requests when paced: 32 connections × ~1000/(15 + latency)
req/s ≈ 1,800 req/s, about half of the 3,500–4,200 req/s the demo app served here through nginx."""


class Slots:
    """The two demo apps and the version each one runs now."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self.apps: dict[str, DemoApp] = {
            c: start_demo_app(port=free_port(), version=v, slot=c, database_url=database_url, env=APP_ENV)
            for c, v in (("blue", "v1.4.0"), ("green", "v1.5.0"))}

    def replace(self, color: str, version: str) -> None:
        port = self.apps[color].port
        self.apps[color].stop()
        self.apps[color] = start_demo_app(port=port, version=version, slot=color,
                                          database_url=self.database_url, env=APP_ENV)

    def stop(self) -> None:
        for app in self.apps.values():
            app.stop()


def pace_script(workdir: str, pace_ms: int) -> str:
    path = os.path.join(workdir, f"pace-{pace_ms}ms.lua")
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(f"function delay()\n    return {pace_ms}\nend\n")
    return path


def soak(slots: Slots, workdir: str, duration: int, flips: int, pace_ms: int | None = None) -> dict[str, Any]:
    name = f"router-paced-{pace_ms}ms" if pace_ms else "router"
    router = start_router({c: f"127.0.0.1:{a.port}" for c, a in slots.apps.items()},
                          os.path.join(workdir, name), worker_processes="2")
    state = {"active": "blue", "replaced": None}
    write_to_verified: list[float] = []

    def flip(_i: int) -> float:
        target = "green" if state["active"] == "blue" else "blue"
        app = slots.apps[target]
        started = time.monotonic()
        out = switch({"router_dir": router.conf_dir, "public_url": router.url, "active_color": target,
                      "version": app.version, "target_url": app.url, "health_path": "/health",
                      "verify_path": "/version", "verify_timeout": 10, "stop_idle_slot": False})
        state["active"] = target
        write_to_verified.append(out["latency_ms"])
        return (time.monotonic() - started) * 1000

    def replace_idle() -> None:
        idle = "green" if state["active"] == "blue" else "blue"
        # the real protocol (TrafficSwitch + stopIdleSlot): let requests already routed to the
        # old colour drain before its process goes away; without this wait, connections still
        # in its accept queue are reset when it stops (measured: ~20 x 502 per replacement)
        time.sleep(DRAIN_SECONDS)
        slots.replace(idle, f"v1.6.{0 if pace_ms is None else 1}")
        state["replaced"] = idle

    script = pace_script(workdir, pace_ms) if pace_ms else None
    try:
        result = run_load(router.url, duration, flips, flip, replace_idle, script=script)
        # the soak's end, before nginx exits (its exit closes the pool, legitimately)
        result["time_wait_after_soak"] = base.time_wait({a.port for a in slots.apps.values()})
        # each is a request that met a dead pooled connection (or a closing slot) and was
        # retried by nginx on a fresh one: wrk's failure count says whether any retry failed
        result["upstream_errors_logged"] = len(re.findall(
            r"upstream prematurely closed|Connection reset by peer|Broken pipe", router.error_log()))
    finally:
        router.stop()
    return {**result, "pace_ms": pace_ms, "replaced_idle_colour": state["replaced"], "reloads": 0,
            "req_per_s": round(result["requests"] / duration),
            "write_to_verified_ms": {"p50": percentile(write_to_verified, 0.5),
                                     "p99": percentile(write_to_verified, 0.99),
                                     "samples": [round(x, 1) for x in write_to_verified]}}


def goals(s: dict[str, Any]) -> dict[str, bool]:
    """The issue's "done when" for one soak (the throughput goals are judged apart)."""
    return {"zero_failed": s["failed"] == 0 and s["slow"]["failed"] == 0,
            "at_least_50000_requests": s["requests"] >= 50_000,
            "at_least_20_flips": s["flips"] >= 20,
            "idle_colour_replaced": s["replaced_idle_colour"] is not None,
            "flip_p99_under_25ms": (s["write_to_verified_ms"]["p99"] or 1e9) < 25}
