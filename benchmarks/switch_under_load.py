"""Colour flips under sustained keep-alive load: the pooled no-reload router vs its limits.

Everything is real and on loopback: PostgreSQL, two demo-app processes (blue, green),
nginx with the rendered router config (a kept-alive pool per colour), and wrk
(keep-alive, no retries). The soak (``flip_soak.py``): while one wrk requests
``/api/v1/events`` and a second keeps ~1 s requests (``/api/v1/slow``) in flight, the
``TrafficSwitch`` code path flips colours ``--flips`` times and once replaces the idle
colour's process with a new version at the same address, for ``--duration`` s (60); then
the TIME_WAIT sockets towards the slots are counted. It runs twice: SATURATING (both
cores at 100 %: the stress; a flip is one request queued behind the load) and PACED (what a
node at work sees; every goal of the issue, the 25 ms flip included, is judged there too).

Measured against, in the same run: an upstream include rewritten + ``nginx -s reload``
per flip (``flip_reload.py``); and a STATIC pooled nginx (no njs, no access log: the
limit), router and static taking turns (3 rounds of ``--round-seconds``: the shared cores'
load drifts), once in front of the demo app and once in front of a trivial ``return 200``
nginx (the router's own cost), with req/s and the nginx workers' CPU per request; and the
flips in front of two ``return 200`` slots (``flip_trivial.py``). Prints one JSON document.
Not a test: timing is measured here, never asserted.

    venv/bin/python benchmarks/switch_under_load.py [--duration 60] [--flips 30]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from typing import Any

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from benchmarks import nginx_baselines as base  # noqa: E402
from benchmarks.flip_reload import reload_phase  # noqa: E402
from benchmarks.flip_soak import PACE_MS, Slots, goals, soak  # noqa: E402
from benchmarks.flip_trivial import trivial_flip_phase  # noqa: E402
from testkit.demo_app import prepare_database  # noqa: E402
from testkit.nginx import start_router  # noqa: E402
from testkit.pg import start_postgres  # noqa: E402


def demo_compare_phase(slots: Slots, workdir: str, seconds: int, rounds: int) -> dict[str, Any]:
    """Router (blue active, no flips) vs a static pooled nginx, both in front of the demo app:
    interleaved rounds, the fast load only."""
    router = start_router({c: f"127.0.0.1:{a.port}" for c, a in slots.apps.items()},
                          os.path.join(workdir, "router-demo"), worker_processes="2")
    static = base.static_pooled(os.path.join(workdir, "static-demo"), f"127.0.0.1:{slots.apps['blue'].port}")
    try:
        targets = {"static": (static.url, static.proc.pid), "router": (router.url, router.proc.pid)}
        return base.compare(targets, "/api/v1/events", connections=32, seconds=seconds, rounds=rounds)
    finally:
        router.stop()
        static.stop()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--duration", type=int, default=60, help="seconds of load per approach (the soak)")
    ap.add_argument("--round-seconds", type=int, default=10, help="seconds per router-vs-static round")
    ap.add_argument("--flips", type=int, default=30, help="colour flips per approach (≥ 20)")
    args = ap.parse_args(argv)
    server = start_postgres()
    workdir = tempfile.mkdtemp(prefix="togather-switch-bench-")
    slots: Slots | None = None
    try:
        url = server.create_database()
        prepare_database(url)
        slots = Slots(url)
        no_reload = soak(slots, workdir, args.duration, args.flips)
        slots.stop()
        slots = Slots(url)
        static = demo_compare_phase(slots, workdir, args.round_seconds, rounds=3)
        slots.stop()  # new ports: the pools the compare phase's nginxes closed are in TIME_WAIT
        slots = Slots(url)
        paced = soak(slots, workdir, args.duration, args.flips, pace_ms=PACE_MS)
        slots.stop()
        slots = Slots(url)
        reload = reload_phase(slots.apps, workdir, args.duration, args.flips)
        slots.stop()
        slots = None
        trivial = base.trivial_phase(workdir, args.round_seconds, rounds=3)
        trivial_flips = trivial_flip_phase(workdir, args.round_seconds * 3, args.flips)
    finally:
        if slots is not None:
            slots.stop()
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)  # the router's access logs run to GBs
    flip_p50, flip_p99 = no_reload["write_to_verified_ms"]["p50"], no_reload["write_to_verified_ms"]["p99"]
    request_p99 = (no_reload["latency_ms"] or {}).get("p99")
    ratio = {  # the baseline's latency is write → reload → new colour seen: compare like with like
        "failure_rate": {k: round(v["failed"] / max(v["requests"], 1), 5)
                         for k, v in (("no_reload", no_reload), ("no_reload_paced", paced),
                                      ("reload", reload))},
        "flip_p50_reload_over_no_reload": (round(reload["switch_latency_ms"]["p50"] / flip_p50, 2)
                                           if flip_p50 else None),
        "throughput_vs_static": {"demo_app": static["throughput_vs_static"],
                                 "trivial": trivial["throughput_vs_static"]},
        "throughput_vs_reload": round(no_reload["requests"] / max(reload["requests"], 1), 3),
        # a flip is one verifying request: against the p99 of the load's own requests, same run
        "saturated_flip_p99_over_request_p99": (round(flip_p99 / request_p99, 2)
                                                if flip_p99 and request_p99 else None),
        "time_wait_router_side": {"saturated": no_reload["time_wait_after_soak"]["router_side"],
                                  "paced": paced["time_wait_after_soak"]["router_side"]},
    }
    vs_static = ratio["throughput_vs_static"]
    goal = {**{f"paced_soak.{k}": v for k, v in goals(paced).items()},
            **{f"saturated_soak.{k}": v for k, v in goals(no_reload).items() if k != "flip_p99_under_25ms"},
            "vs_static_demo_app_at_least_0.9": vs_static["demo_app"] >= 0.9,
            "vs_static_trivial_at_least_0.65": vs_static["trivial"] >= 0.65,
            "trivial_upstream.flip_p99_under_25ms":
                (trivial_flips["write_to_verified_ms"]["p99"] or 1e9) < 25,
            "trivial_upstream.zero_failed": trivial_flips["failed"] == 0}
    print(json.dumps({"benchmark": "switch_under_load", "duration_s": args.duration,
                      "cpus": os.cpu_count(), "load_avg_1m_at_end": round(os.getloadavg()[0], 2),
                      "soak_saturated": no_reload, "soak_paced": paced,
                      "demo_app_router_vs_static": static, "reload_baseline": reload,
                      "trivial_upstream": trivial,
                      "trivial_upstream_flips": trivial_flips, "ratio": ratio, "goal": goal,
                      "notes": ["switch_latency_ms: whole TrafficSwitch path (health look, write, "
                                "verified through the public port); write_to_verified_ms: the flip "
                                "(rename of the staged file → verified)",
                                "trivial_upstream_flips: the same flips in front of two return-200 "
                                "slots: the router's own part of a flip, without the demo app's queue",
                                "throughput_vs_static: router and static take turns (3 rounds each); the "
                                "router logs every request (JSON), the static baseline logs nothing; both "
                                "send the slot the same forwarded headers",
                                "time_wait_after_soak.router_side: TIME_WAIT sockets the router's side "
                                "holds towards the slot ports at the end of the run"]},
                     indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
