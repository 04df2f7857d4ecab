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
from typing import Any

from benchmarks.flip_loop import flips_during
from benchmarks.nginx_baselines import Nginx, start_nginx
from benchmarks.wrk_load import wrk
from testkit.nginx import start_router
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
