"""The router's own flip latency: colour flips in front of two ``return 200`` slots.

``switch_under_load.py`` times a flip (write → verified through the public port) in front
of the Python demo app, whose answer to the verifying request queues behind the load on
the same cores: a request sent straight to the slot right after a flip, bypassing the
router, measured up to 300 ms there (2 cores, wrk saturating). Here each colour is an
nginx answering every path with its own version at once (``/health`` included, so the
switch's health look passes), and the same ``TrafficSwitch`` code path flips between them
while wrk (keep-alive, no retries) saturates the router: what remains is the router's part
of a flip — the atomic rename, nginx testing the file, the pool of the new colour.

Run by ``switch_under_load.py`` (its ``trivial_flips``); not a test: nothing is asserted.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Mapping
from typing import Any

from benchmarks.nginx_baselines import Nginx, start_nginx
from benchmarks.wrk_load import parse_wrk, percentile, wrk
from components.providers.traffic_switch import switch
from testkit.nginx import NginxRouter, start_router
from testkit.ports import free_port

VERSIONS = {"blue": "v1.4.0", "green": "v1.5.0"}


def trivial_slot(conf_dir: str, version: str) -> Nginx:
    """Every path answers 200 with ``version`` in the header and in a healthy JSON body."""
    port = free_port()
    body = f"""server {{ listen 127.0.0.1:{port};
    location / {{ default_type application/json; add_header X-Togather-Version {version} always;
        return 200 '{{"status":"healthy","version":"{version}"}}'; }} }}"""
    return start_nginx(conf_dir, body, port, workers=1)


def trivial_flip_phase(workdir: str, duration: int, flips: int) -> dict[str, Any]:
    slots = {c: trivial_slot(os.path.join(workdir, f"trivial-{c}"), v) for c, v in VERSIONS.items()}
    router = start_router({c: s.addr for c, s in slots.items()}, os.path.join(workdir, "router-flip"),
                          worker_processes="2")
    load = wrk(router.url + "/", connections=50, duration=duration, threads=2)
    try:
        return flips_during(load, router, {c: (v, slots[c].url) for c, v in VERSIONS.items()},
                            duration, flips)
    finally:
        router.stop()
        for s in slots.values():
            s.stop()


def flips_during(load: subprocess.Popen[str], router: NginxRouter, targets: Mapping[str, tuple[str, str]],
                 duration: int, flips: int) -> dict[str, Any]:
    """``targets``: colour -> (version, the slot's own URL). Flips every ``duration / flips`` s
    (blue is active first), then waits for ``load``; kills it if anything fails."""
    ms: list[float] = []
    try:
        time.sleep(1.0)
        gap, active = (duration - 2.0) / max(flips, 1), "blue"
        for _ in range(flips):
            started = time.monotonic()
            active = "green" if active == "blue" else "blue"
            version, url = targets[active]
            out = switch({"router_dir": router.conf_dir, "public_url": router.url, "active_color": active,
                          "version": version, "target_url": url, "health_path": "/health",
                          "verify_path": "/version", "verify_timeout": 10, "stop_idle_slot": False})
            ms.append(out["latency_ms"])
            time.sleep(max(0.0, gap - (time.monotonic() - started)))
        result = parse_wrk(load.communicate(timeout=duration + 60)[0])
    finally:
        if load.poll() is None:
            load.kill()
    return {"requests": result["requests"], "req_per_s": round(result["requests"] / duration),
            "failed": result["failed"], "flips": len(ms), "request_latency_ms": result["latency_ms"],
            "write_to_verified_ms": {"p50": percentile(ms, 0.5), "p99": percentile(ms, 0.99),
                                     "max": percentile(ms, 1.0), "samples": [round(x, 1) for x in ms]}}
