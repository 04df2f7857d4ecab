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
from collections.abc import Mapping
from typing import Any

from benchmarks.flip_loop import flips_during
from benchmarks.wrk_load import wrk
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
    try:
        targets = {c: (a.version, a.url) for c, a in apps.items()}
        return {"pace_ms": PACE_MS, **flips_during(load, router, targets, duration, flips)}
    finally:
        router.stop()
