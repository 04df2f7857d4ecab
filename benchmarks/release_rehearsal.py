"""Zero downtime, measured: a release and a rollback under load on a real Docker engine.

    venv/bin/python benchmarks/release_rehearsal.py [--flips N] [--baseline-s S]

Builds (or reuses) the rehearsal images, brings a stack up from nothing (see
``tests/rehearsal``), then measures through the router's real published port
with wrk (keep-alive, no retries) plus slow requests (300 ms) in flight:

* ``baseline``: the same load, nothing happening (measured in this run);
* ``release``: snapshot, migration, green started, gated and switched to;
* ``rollback``: the switch back to blue;
* ``flips``: ``N`` further flips under load, for the flip-latency distribution.

Prints one JSON object: requests, failures (non-2xx + socket errors), flip
latency (from writing ``active_color`` to the first response from the new
colour on a keep-alive connection) and the requests/s ratio against the
baseline. Exit 1 when a request failed or the engine/images are unavailable.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from functools import partial
from typing import Any

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from testkit.docker import engine_unavailable  # noqa: E402
from tests.rehearsal.app_images import ensure_images  # noqa: E402
from tests.rehearsal.load import Load, LoadResult, flip_latency  # noqa: E402
from tests.rehearsal.stack import Rehearsal  # noqa: E402

SLOW = "/api/v1/slow?ms=300"
FAST = "/api/v1/events"


def _phase(fast: LoadResult, slow: LoadResult, baseline_rps: float | None,
           **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"requests": fast.requests + slow.requests,
                           "failures": fast.failures + slow.failures,
                           "fast": fast.as_dict(), "slow": slow.as_dict(), **extra}
    if baseline_rps:
        out["rps_ratio_vs_baseline"] = round(fast.rps / baseline_rps, 3)
    return out


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def run(flips: int, baseline_s: float) -> dict[str, Any]:
    started = time.monotonic()
    imgs = ensure_images({"v1": "v1", "v2": "v2"})
    r = Rehearsal(imgs)
    report: dict[str, Any] = {"image_build_s": dict(imgs.seconds)}
    try:
        t = time.monotonic()
        r.bootstrap()
        report["bootstrap_s"] = round(time.monotonic() - t, 1)
        port = r.cfg.public_port

        with Load(r.public_url + FAST) as fast, Load(r.public_url + SLOW, connections=4, threads=1) as slow:
            time.sleep(baseline_s)
        base = fast.result()
        report["baseline"] = _phase(base, slow.result(), None)

        r.add_migrations(4)
        r.configure(green={"version": "v2"})
        with Load(r.public_url + FAST) as fast, Load(r.public_url + SLOW, connections=4, threads=1) as slow:
            t = time.monotonic()
            snap = r.snapshot("release v2")
            snap_s = time.monotonic() - t
            r.migrate(snapshot=snap.name)
            r.start_slot("green")
            r.gate("green")
            outs: list[dict[str, Any]] = []
            release_flip = flip_latency("127.0.0.1", port, lambda: outs.append(r.switch("green")), "green")
        report["release"] = _phase(
            fast.result(), slow.result(), base.rps, flip_latency_ms=_ms(release_flip),
            switch_verified_ms=outs[0]["latency_ms"], idle_stopped=outs[0]["idle_stopped"],
            snapshot_s=round(snap_s, 2), duration_s=round(fast.result().duration_s, 1))

        with Load(r.public_url + FAST) as fast, Load(r.public_url + SLOW, connections=4, threads=1) as slow:
            t = time.monotonic()
            r.gate("blue")  # stopIdleSlot stopped blue: a rollback is start → gate → switch
            gate_s = time.monotonic() - t
            outs = []
            rollback_flip = flip_latency("127.0.0.1", port, lambda: outs.append(r.switch("blue")), "blue")
        report["rollback"] = _phase(
            fast.result(), slow.result(), base.rps, start_and_gate_s=round(gate_s, 1),
            flip_latency_ms=_ms(rollback_flip), switch_verified_ms=outs[0]["latency_ms"])

        r.configure(stopIdleSlot=False)  # both colours warm for back-to-back flips
        r.gate("green")

        latencies = []
        with Load(r.public_url + FAST) as fast, Load(r.public_url + SLOW, connections=4, threads=1) as slow:
            for i in range(flips):
                color = "green" if i % 2 == 0 else "blue"
                latencies.append(flip_latency("127.0.0.1", port, partial(r.switch, color), color))
                time.sleep(0.2)
        report["flips"] = _phase(fast.result(), slow.result(), base.rps, count=len(latencies),
                                 flip_latency_ms={"p50": _ms(statistics.median(latencies)),
                                                  "max": _ms(max(latencies))} if latencies else None)
    finally:
        r.teardown()
    phases = [report[k] for k in ("release", "rollback", "flips") if k in report]
    report["total"] = {"requests": sum(p["requests"] for p in phases),
                       "failures": sum(p["failures"] for p in phases)}
    report["ratio"] = report.get("release", {}).get("rps_ratio_vs_baseline")
    report["ratio_is"] = "requests/s during the release ÷ requests/s with nothing happening"
    report["goal"] = "total.failures == 0 (release, rollback and flips under load)"
    report["wall_s"] = round(time.monotonic() - started, 1)
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flips", type=int, default=20)
    parser.add_argument("--baseline-s", type=float, default=8.0)
    args = parser.parse_args()
    reason = engine_unavailable()
    if reason is not None:
        print(json.dumps({"benchmark": "release_rehearsal", "skipped": reason}))
        return 1
    report = {"benchmark": "release_rehearsal", **run(args.flips, args.baseline_s)}
    print(json.dumps(report, indent=2))
    return 0 if report["total"]["failures"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
