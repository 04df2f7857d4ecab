"""wrk (keep-alive, never retrying) that sorts every answer: the app, the maintenance page, other.

A maintenance page is an intended 503, so wrk's own "Non-2xx" count cannot tell a failure
from it. The Lua script here counts per response: ``ok`` (200), ``maintenance`` (503 carrying
the router's maintenance page) and ``other`` (anything else: 502/504, a 503 without the page).
A failed request is an ``other`` answer or a socket error (connect, read, write, timeout).

    proc = start(url + "/x", connections=32, duration=10)
    ... toggle ...
    counts = finish(proc)   # {"requests", "ok", "maintenance", "other", "socket_errors", "failed"}
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from typing import Any

_SCRIPT = r"""
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) ok = 0; maintenance = 0; other = 0 end
function response(status, headers, body)
  if status == 200 then ok = ok + 1
  elseif status == 503 and body and string.find(body, "Down for maintenance", 1, true) then
    maintenance = maintenance + 1
  else other = other + 1 end
end
function done(summary, latency, requests)
  local o, m, x = 0, 0, 0
  for _, t in ipairs(threads) do
    o = o + t:get("ok"); m = m + t:get("maintenance"); x = x + t:get("other")
  end
  io.write(string.format("STATUS ok=%d maintenance=%d other=%d\n", o, m, x))
end
"""


def start(url: str, *, connections: int, duration: int, threads: int = 1) -> subprocess.Popen[str]:
    fd, script = tempfile.mkstemp(prefix="togather-wrk-", suffix=".lua")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(_SCRIPT)
    proc = subprocess.Popen(["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{duration}s",
                             "--timeout", "10s", "-s", script, url],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    proc.script = script  # type: ignore[attr-defined]
    return proc


def parse(text: str) -> dict[str, Any]:
    total = re.search(r"(\d+) requests in", text)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    status = re.search(r"STATUS ok=(\d+) maintenance=(\d+) other=(\d+)", text)
    if not total or not status:
        raise RuntimeError(f"wrk did not report: {text[-500:]}")
    sock = dict(zip(("connect", "read", "write", "timeout"),
                    (int(x) for x in errors.groups()) if errors else (0, 0, 0, 0), strict=True))
    ok, maintenance, other = (int(x) for x in status.groups())
    return {"requests": int(total.group(1)), "ok": ok, "maintenance": maintenance, "other": other,
            "socket_errors": sock, "failed": other + sum(sock.values())}


def finish(proc: subprocess.Popen[str], timeout: float = 120) -> dict[str, Any]:
    try:
        out, _ = proc.communicate(timeout=timeout)
    finally:
        os.unlink(proc.script)  # type: ignore[attr-defined]
    return parse(out)
