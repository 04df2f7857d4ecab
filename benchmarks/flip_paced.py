"""Colour flips in front of the demo app under a PACED load: what a flip costs a node at work.

``switch_under_load.py``'s soak saturates both cores (wrk sends each next request the
moment the last one returns), so any single request through the router waits in the demo
app's queue: there a flip (write → verified through the public port) costs one such
request, and its p99 is the load's own request p99 (measured: every flip verified on its
first request, 37 ms against a request p99 of 38 ms). A node serving real traffic is not at
100 % CPU; here the same 32 keep-alive connections (no retries) each wait ``PACE_MS``
between requests (wrk's Lua ``delay()``), about half of what the demo app can serve on
these cores, while the same ``TrafficSwitch`` code path flips the colours.

Run by ``switch_under_load.py`` (its ``paced_flips``); not a test: nothing is asserted.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from typing import Any

from benchmarks.wrk_load import parse_wrk, percentile, wrk
from components.providers.traffic_switch import switch
from testkit.demo_app import DemoApp
from testkit.nginx import start_router

PACE_MS = 15
"""Each connection's pause between requests: 32 connections × ~1000/(15 + latency) req/s ≈
1,800 req/s, about half of the 3,500–4,200 req/s the demo app served here through nginx."""


def paced_flip_phase(apps: Mapping[str, DemoApp], workdir: str, duration: int,
                     flips: int) -> dict[str, Any]:
    router = start_router({c: f"127.0.0.1:{a.port}" for c, a in apps.items()},
                          os.path.join(workdir, "router-paced"), worker_processes="2")
    script = os.path.join(workdir, "paced.lua")
    with open(script, "w", encoding="utf-8") as fh:
        fh.write(f"function delay()\n    return {PACE_MS}\nend\n")
    load = wrk(router.url + "/api/v1/events", connections=32, duration=duration, threads=2, script=script)
    ms: list[float] = []
    try:
        time.sleep(1.0)
        gap, active = (duration - 2.0) / max(flips, 1), "blue"
        for _ in range(flips):
            started = time.monotonic()
            active = "green" if active == "blue" else "blue"
            app = apps[active]
            out = switch({"router_dir": router.conf_dir, "public_url": router.url, "active_color": active,
                          "version": app.version, "target_url": app.url, "health_path": "/health",
                          "verify_path": "/version", "verify_timeout": 10, "stop_idle_slot": False})
            ms.append(out["latency_ms"])
            time.sleep(max(0.0, gap - (time.monotonic() - started)))
        result = parse_wrk(load.communicate(timeout=duration + 60)[0])
    finally:
        if load.poll() is None:
            load.kill()
        router.stop()
    return {"pace_ms": PACE_MS, "requests": result["requests"],
            "req_per_s": round(result["requests"] / duration), "failed": result["failed"],
            "flips": len(ms), "request_latency_ms": result["latency_ms"],
            "write_to_verified_ms": {"p50": percentile(ms, 0.5), "p99": percentile(ms, 0.99),
                                     "max": percentile(ms, 1.0), "samples": [round(x, 1) for x in ms]}}
