"""Continuous load through the router's published port, and the flip latency.

``Load`` runs wrk (keep-alive connections, no retries) in the background with a
Lua script that counts every response by status and by the colour the router
says it chose (``X-Togather-Slot``), so a test can assert "0 failed requests"
and "both colours served" from one run. Failures are non-2xx responses plus
every socket error (connect, read, write, timeout).
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

_SCRIPT = r"""
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) slots = {}; bad = 0 end
function response(status, headers, body)
  local s = headers["X-Togather-Slot"] or "none"
  if s == "" then s = "none" end
  slots[s] = (slots[s] or 0) + 1
  if status < 200 or status > 299 then bad = bad + 1 end
end
function done(summary, latency, requests)
  local agg, nbad = {}, 0
  for _, t in ipairs(threads) do
    for k, v in pairs(t:get("slots")) do agg[k] = (agg[k] or 0) + v end
    nbad = nbad + t:get("bad")
  end
  local parts = {}
  for k, v in pairs(agg) do table.insert(parts, string.format('"%s":%d', k, v)) end
  local e = summary.errors
  io.write(string.format('@@WRK@@{"requests":%d,"non_2xx":%d,"connect":%d,"read":%d,' ..
    '"write":%d,"timeout":%d,"duration_s":%.3f,"p99_ms":%.2f,"max_ms":%.2f,"slots":{%s}}\n',
    summary.requests, nbad, e.connect, e.read, e.write, e.timeout, summary.duration / 1e6,
    latency:percentile(99) / 1000, latency.max / 1000, table.concat(parts, ",")))
end
"""


@dataclass(frozen=True)
class LoadResult:
    requests: int
    non_2xx: int
    socket_errors: int
    duration_s: float
    p99_ms: float
    max_ms: float
    slots: dict[str, int] = field(default_factory=dict)
    """Responses per colour the router reported (``none``: no colour, e.g. a 502)."""

    @property
    def failures(self) -> int:
        return self.non_2xx + self.socket_errors

    @property
    def rps(self) -> float:
        return self.requests / self.duration_s if self.duration_s else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {"requests": self.requests, "failures": self.failures, "non_2xx": self.non_2xx,
                "socket_errors": self.socket_errors, "rps": round(self.rps, 1),
                "p99_ms": self.p99_ms, "max_ms": self.max_ms, "slots": self.slots}


class Load:
    """``with Load(url) as load: ...`` then ``load.result()``: wrk runs for the whole block.

    wrk is started with a generous ``max_seconds`` and stopped with SIGINT (after
    ``tail_s`` more seconds of load) when the block ends; on SIGINT it stops its
    loops and still reports every counter.
    """

    def __init__(self, url: str, *, max_seconds: int = 300, connections: int = 8, threads: int = 2,
                 tail_s: float = 1.0) -> None:
        self._dir = tempfile.mkdtemp(prefix="togather-wrk-")
        script = os.path.join(self._dir, "count.lua")
        with open(script, "w") as fh:
            fh.write(_SCRIPT)
        self.seconds = max_seconds
        self.tail_s = tail_s
        self.argv = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{max_seconds}s",
                     "--timeout", "10s", "-s", script, url]
        self._out = os.path.join(self._dir, "out")
        self._proc: subprocess.Popen[bytes] | None = None
        self._result: LoadResult | None = None

    def __enter__(self) -> Load:
        with open(self._out, "wb") as out:
            self._proc = subprocess.Popen(self.argv, stdout=out, stderr=subprocess.STDOUT)
        time.sleep(0.5)  # let the connections open before the caller acts
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._proc is not None
        if exc[0] is not None:
            self._proc.kill()
            self._proc.wait(timeout=30)
            shutil.rmtree(self._dir, ignore_errors=True)
            return
        time.sleep(self.tail_s)
        if self._proc.poll() is None:
            self._proc.send_signal(signal.SIGINT)
        try:
            self.result()
        finally:
            shutil.rmtree(self._dir, ignore_errors=True)

    def result(self) -> LoadResult:
        """Wait for wrk to finish its fixed duration and parse its counters."""
        if self._result is not None:
            return self._result
        assert self._proc is not None
        try:
            self._proc.wait(timeout=self.seconds + 60)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            raise
        with open(self._out, encoding="utf-8", errors="replace") as fh:
            text = fh.read()
        marker = [ln for ln in text.splitlines() if ln.startswith("@@WRK@@")]
        if not marker:
            raise AssertionError(f"wrk produced no result (exit {self._proc.returncode}):\n{text[-2000:]}")
        d = json.loads(marker[-1][len("@@WRK@@"):])
        self._result = LoadResult(
            requests=d["requests"], non_2xx=d["non_2xx"],
            socket_errors=d["connect"] + d["read"] + d["write"] + d["timeout"],
            duration_s=d["duration_s"], p99_ms=d["p99_ms"], max_ms=d["max_ms"], slots=d["slots"])
        return self._result


def served_color(conn: http.client.HTTPConnection, path: str) -> str:
    conn.request("GET", path)
    resp = conn.getresponse()
    resp.read()
    return resp.getheader("X-Togather-Slot") or ""


def flip_latency(host: str, port: int, flip: Callable[[], object], new_color: str, *,
                 path: str = "/api/v1/events", timeout_s: float = 60) -> float:
    """Seconds from starting ``flip`` until a keep-alive client through the router is
    answered by ``new_color``. ``flip`` runs in a thread (it may go on draining and
    stopping the old colour); its exception, if any, is raised here."""
    conn = http.client.HTTPConnection(host, port, timeout=10)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            flip()
        except BaseException as exc:  # handed to the caller below
            errors.append(exc)

    worker = threading.Thread(target=run, daemon=True)
    try:
        served_color(conn, path)  # connection open and warm before the clock starts
        started = time.perf_counter()
        worker.start()
        seen: float | None = None
        deadline = started + timeout_s
        while seen is None and time.perf_counter() < deadline and not errors:
            if served_color(conn, path) == new_color:
                seen = time.perf_counter() - started
        worker.join(max(0.0, deadline - time.perf_counter()))
    finally:
        conn.close()
    if errors:
        raise errors[0]
    if worker.is_alive() or seen is None:
        raise AssertionError(f"{new_color} did not answer through the router within {timeout_s}s")
    return seen
