"""Colour flips under sustained keep-alive load: the pooled no-reload router vs its limits.

Everything is real and on loopback: PostgreSQL, two demo-app processes (blue, green),
nginx with the rendered router config (a kept-alive pool per colour), and wrk
(keep-alive, no retries). While one wrk hammers ``/api/v1/events`` and a second keeps
~1 s requests (``/api/v1/slow``) in flight, the ``TrafficSwitch`` code path
(``components.providers.traffic_switch.switch``: health look, atomic write, verification
through the public port) flips colours ``--flips`` times, and once replaces the idle
colour's process with a new version at the same address mid-run. The run lasts
``--duration`` s (60: the soak), then the TIME_WAIT sockets towards the slots are counted.

Measured against, in the same run: an upstream include rewritten + ``nginx -s reload``
per flip; and a STATIC pooled nginx (no njs, no access log: the limit), router and static
taking turns (3 rounds of ``--round-seconds``: the shared cores' load drifts), once in front
of the demo app and once in front of a trivial ``return 200`` nginx (the router's own cost),
with req/s and the nginx workers' CPU per request; the same flips under a PACED load (what
a node at work sees: ``flip_paced.py``, where the flip goal is judged: under the saturating
soak a flip is one request queued behind the load) and in front of two ``return 200`` slots
(``flip_trivial.py``). Prints one JSON document. Not a test: timing is measured here, never
asserted.

    venv/bin/python benchmarks/switch_under_load.py [--duration 60] [--flips 30]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import tempfile
import time
from typing import Any

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from benchmarks import nginx_baselines as base  # noqa: E402
from benchmarks.flip_paced import paced_flip_phase  # noqa: E402
from benchmarks.flip_reload import reload_phase  # noqa: E402
from benchmarks.flip_trivial import trivial_flip_phase  # noqa: E402
from benchmarks.wrk_load import percentile, run_load  # noqa: E402
from components.providers.traffic_switch import switch  # noqa: E402
from components.traffic import DRAIN_SECONDS  # noqa: E402
from testkit.demo_app import DemoApp, prepare_database, start_demo_app  # noqa: E402
from testkit.nginx import start_router  # noqa: E402
from testkit.pg import start_postgres  # noqa: E402
from testkit.ports import free_port  # noqa: E402

APP_ENV = {"RATE_LIMIT_PUBLIC": "1000000"}


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


def no_reload_phase(slots: Slots, workdir: str, duration: int, flips: int) -> dict[str, Any]:
    apps = slots.apps
    router = start_router({c: f"127.0.0.1:{a.port}" for c, a in apps.items()},
                          os.path.join(workdir, "router"), worker_processes="2")
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
        slots.replace(idle, "v1.6.0")
        state["replaced"] = idle

    try:
        result = run_load(router.url, duration, flips, flip, replace_idle)
        # the soak's end, before nginx exits (its exit closes the pool, legitimately)
        result["time_wait_after_soak"] = base.time_wait({a.port for a in slots.apps.values()})
        # each is a request that met a dead pooled connection (or a closing slot) and was
        # retried by nginx on a fresh one: wrk's failure count says whether any retry failed
        result["upstream_errors_logged"] = len(re.findall(
            r"upstream prematurely closed|Connection reset by peer|Broken pipe", router.error_log()))
    finally:
        router.stop()
    return {**result, "replaced_idle_colour": state["replaced"], "reloads": 0,
            "req_per_s": round(result["requests"] / duration),
            "write_to_verified_ms": {"p50": percentile(write_to_verified, 0.5),
                                     "p99": percentile(write_to_verified, 0.99),
                                     "samples": [round(x, 1) for x in write_to_verified]}}


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
        no_reload = no_reload_phase(slots, workdir, args.duration, args.flips)
        slots.stop()
        slots = Slots(url)
        static = demo_compare_phase(slots, workdir, args.round_seconds, rounds=3)
        paced = paced_flip_phase(slots.apps, workdir, args.round_seconds * 3, args.flips)
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
                         for k, v in (("no_reload", no_reload), ("reload", reload))},
        "flip_p50_reload_over_no_reload": (round(reload["switch_latency_ms"]["p50"] / flip_p50, 2)
                                           if flip_p50 else None),
        "throughput_vs_static": {"demo_app": static["throughput_vs_static"],
                                 "trivial": trivial["throughput_vs_static"]},
        "throughput_vs_reload": round(no_reload["requests"] / max(reload["requests"], 1), 3),
        # a flip is one verifying request: against the p99 of the load's own requests, same run
        "saturated_flip_p99_over_request_p99": (round(flip_p99 / request_p99, 2)
                                                if flip_p99 and request_p99 else None),
    }
    paced_p99 = paced["write_to_verified_ms"]["p99"]
    goal = {"zero_failed": no_reload["failed"] == 0 and no_reload["slow"]["failed"] == 0,
            "at_least_50000_requests": no_reload["requests"] >= 50_000,
            "at_least_20_flips": no_reload["flips"] >= 20,
            "idle_colour_replaced": no_reload["replaced_idle_colour"] is not None,
            "vs_static_demo_app_at_least_0.9": ratio["throughput_vs_static"]["demo_app"] >= 0.9,
            "vs_static_trivial_at_least_0.65": ratio["throughput_vs_static"]["trivial"] >= 0.65,
            "flip_p99_under_25ms_paced_load": (paced_p99 or 1e9) < 25,
            "paced_flips_zero_failed": paced["failed"] == 0 and paced["flips"] >= 20,
            "flip_p99_under_25ms_trivial_upstream":
                (trivial_flips["write_to_verified_ms"]["p99"] or 1e9) < 25,
            "trivial_flips_zero_failed": trivial_flips["failed"] == 0}
    print(json.dumps({"benchmark": "switch_under_load", "duration_s": args.duration,
                      "cpus": os.cpu_count(), "load_avg_1m_at_end": round(os.getloadavg()[0], 2),
                      "no_reload": no_reload, "demo_app_router_vs_static": static,
                      "paced_flips": paced, "reload_baseline": reload, "trivial_upstream": trivial,
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
