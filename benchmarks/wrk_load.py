"""wrk load for the benchmarks: keep-alive clients that never retry, and their parsed results."""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Callable
from typing import Any


def wrk(url: str, *, connections: int, duration: int, threads: int = 1,
        script: str | None = None) -> subprocess.Popen[str]:
    """``script``: a wrk Lua script (e.g. one whose ``delay()`` paces each connection)."""
    extra = ["-s", script] if script else []
    return subprocess.Popen(["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{duration}s",
                             "--timeout", "10s", "--latency", *extra, url],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def parse_wrk(text: str) -> dict[str, Any]:
    total = re.search(r"(\d+) requests in", text)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    sock = dict(zip(("connect", "read", "write", "timeout"),
                    (int(x) for x in errors.groups()) if errors else (0, 0, 0, 0), strict=True))
    failed_non2xx = int(non2xx.group(1)) if non2xx else 0
    latency = re.search(r"Latency\s+(\S+)\s+(\S+)\s+(\S+)", text)  # avg, stdev, max as wrk prints them
    # --latency: "Latency Distribution" lines such as "     99%   12.34ms"
    dist = {f"p{q}": _ms(v, unit) for q, v, unit in
            re.findall(r"^\s+(50|90|99)%\s+([\d.]+)(us|ms|s)\s*$", text, re.MULTILINE)}
    return {"requests": int(total.group(1)) if total else 0, "non_2xx": failed_non2xx,
            "latency": dict(zip(("avg", "stdev", "max"), latency.groups(), strict=True)) if latency else None,
            "latency_ms": dist or None,
            "socket_errors": sock, "failed": failed_non2xx + sum(sock.values())}


def _ms(value: str, unit: str) -> float:
    return round(float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit], 2)


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))], 2)


def run_load(url: str, duration: int, flips: int, flip: Callable[[int], float],
             midway: Callable[[], None] | None = None, script: str | None = None) -> dict[str, Any]:
    """wrk (fast + slow) for ``duration`` s while ``flip(i)`` runs ``flips`` times, evenly spaced;
    ``script`` (e.g. a pacing ``delay()``) applies to the fast load."""
    fast = wrk(url + "/api/v1/events", connections=32, duration=duration, threads=2, script=script)
    slow = wrk(url + "/api/v1/slow?ms=1000", connections=8, duration=duration)
    latencies: list[float] = []
    time.sleep(1.0)
    gap = (duration - 6.0) / max(flips, 1)  # room for the drain + restart of the idle replacement
    if not flips:
        time.sleep(duration)
    for i in range(flips):
        started = time.monotonic()
        latencies.append(flip(i))
        if midway is not None and i == flips // 2:
            midway()
        time.sleep(max(0.0, gap - (time.monotonic() - started)))
    fast_out, _ = fast.communicate(timeout=duration + 60)
    slow_out, _ = slow.communicate(timeout=duration + 60)
    return {**parse_wrk(fast_out), "slow": parse_wrk(slow_out), "flips": len(latencies),
            "switch_latency_ms": {"p50": percentile(latencies, 0.5), "p99": percentile(latencies, 0.99),
                                  "max": percentile(latencies, 1.0),
                                  "samples": [round(x, 1) for x in latencies]}}
