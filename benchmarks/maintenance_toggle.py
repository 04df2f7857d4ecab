"""Maintenance on/off under sustained keep-alive load: the flag file vs an nginx reload.

Real nginx with the rendered router config in front of a stub slot on loopback, and wrk
(keep-alive, never retrying; ``testkit/wrk_status.py`` sorts each answer into app /
maintenance page / other) with fast requests plus 500 ms ones in flight. The toggle under
test is ``togather_deploy.ops.maintenance_flag`` (what ``scripts/maintenance`` does). The
baseline, in the same run under the same load, is the previous way: the config rendered with
a static ``return 503`` in the public ``location /`` and ``nginx -s reload`` per toggle.
A failed request is a socket error or an answer that is neither the app nor the maintenance
page. Prints one JSON document; not a test, nothing asserted.

    venv/bin/python benchmarks/maintenance_toggle.py [--duration 20] [--toggles 24]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from testkit import wrk_status  # noqa: E402
from testkit.nginx import NginxRouter, start_router  # noqa: E402
from testkit.stub_app import StubApp  # noqa: E402
from togather_deploy.ops import maintenance_flag, router_files  # noqa: E402
from togather_deploy.render.nginx import CONF_FILE  # noqa: E402

FLAG_TEST = re.compile(r"^( +)if \(-f \"[^\"]+/maintenance\"\) \{ return 503; \}$", re.M)
"""The public listener's maintenance test (``render.nginx``)."""


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def _until(url: str, want: int) -> float:
    """Milliseconds until a new connection sees ``want`` (bounded: 10 s)."""
    start = time.monotonic()
    while _status(url) != want and time.monotonic() - start < 10:
        time.sleep(0.002)
    return (time.monotonic() - start) * 1000


def percentile(values: list[float], q: float) -> float | None:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))], 2) if ordered else None


def run_load(r: NginxRouter, duration: int, toggles: int, toggle: Callable[[bool], None]) -> dict[str, Any]:
    fast = wrk_status.start(r.url + "/api/v1/events", connections=32, duration=duration, threads=2)
    slow = wrk_status.start(r.url + "/slow?ms=500", connections=8, duration=duration)
    time.sleep(1.0)
    gap, latencies = (duration - 3.0) / toggles, []
    for i in range(toggles):
        started = time.monotonic()
        on = i % 2 == 0
        toggle(on)
        latencies.append((time.monotonic() - started) * 1000 + _until(r.url + "/x", 503 if on else 200))
        time.sleep(max(0.0, gap - (time.monotonic() - started)))
    toggle(False)
    return {**wrk_status.finish(fast, duration + 60), "slow": wrk_status.finish(slow, duration + 60),
            "toggles": toggles, "toggle_to_seen_ms": {"p50": percentile(latencies, 0.5),
                                                      "p99": percentile(latencies, 0.99),
                                                      "max": percentile(latencies, 1.0)}}


def flag_phase(upstream: str, workdir: str, duration: int, toggles: int) -> dict[str, Any]:
    with start_router({"blue": upstream, "green": upstream}, os.path.join(workdir, "flag"),
                      worker_processes="2") as r:
        def toggle(on: bool) -> None:
            if on:
                maintenance_flag.turn_on(r.conf_dir, "benchmark")
            else:
                maintenance_flag.turn_off(r.conf_dir)
        return {**run_load(r, duration, toggles, toggle), "reloads": 0}


def reload_phase(upstream: str, workdir: str, duration: int, toggles: int) -> dict[str, Any]:
    with start_router({"blue": upstream, "green": upstream}, os.path.join(workdir, "reload"),
                      worker_processes="2") as r:
        path = os.path.join(r.conf_dir, CONF_FILE)
        normal = router_files.read_text(path) or ""
        assert FLAG_TEST.search(normal), "the rendered config changed: update FLAG_TEST"
        static = FLAG_TEST.sub(r"\1return 503;", normal)

        def toggle(on: bool) -> None:
            router_files.atomic_write(path, static if on else normal)
            r.reload()
        return {**run_load(r, duration, toggles, toggle), "reloads": toggles + 1}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--duration", type=int, default=20, help="seconds of load per approach")
    ap.add_argument("--toggles", type=int, default=24, help="maintenance toggles per approach (≥ 20)")
    ns = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="togather-maint-bench-") as workdir, \
            StubApp(slot="blue", version="v1") as app:
        os.chmod(workdir, 0o755)  # nginx's workers run as nobody
        upstream = f"127.0.0.1:{app.port}"
        flag = flag_phase(upstream, workdir, ns.duration, ns.toggles)
        baseline = reload_phase(upstream, workdir, ns.duration, ns.toggles)
    result = {
        "benchmark": "maintenance_toggle", "duration_s": ns.duration,
        "flag_file": flag, "baseline_reload": baseline,
        "failed": {"flag_file": flag["failed"] + flag["slow"]["failed"],
                   "baseline_reload": baseline["failed"] + baseline["slow"]["failed"]},
        "ratio_toggle_p50_flag_vs_reload": (
            round(flag["toggle_to_seen_ms"]["p50"] / baseline["toggle_to_seen_ms"]["p50"], 3)
            if flag["toggle_to_seen_ms"]["p50"] and baseline["toggle_to_seen_ms"]["p50"] else None),
    }
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
