"""Colour flips through the real ``TrafficSwitch`` code path while one wrk load runs.

Shared by ``flip_trivial.py`` (two ``return 200`` slots, a saturating load) and
``flip_paced.py`` (the demo app, a paced load). Not a test: nothing is asserted.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Mapping
from typing import Any

from benchmarks.wrk_load import parse_wrk, percentile
from components.providers.traffic_switch import switch
from testkit.nginx import NginxRouter


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
