"""Graceful shutdown (SIGTERM drains in-flight requests) and the Docker health-check script."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable

import pytest

from testkit.demo_app import DEMO_APP_DIR, get_json
from testkit.ports import free_port
from tests.demo_app.conftest import StartApp

pytestmark = pytest.mark.postgres
HEALTHCHECK = os.path.join(DEMO_APP_DIR, "healthcheck.py")


def _in_flight(port: int) -> float:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    conn.request("GET", "/metrics")
    text = conn.getresponse().read().decode()
    conn.close()
    line = next(ln for ln in text.splitlines() if ln.startswith("togather_http_requests_in_flight "))
    return float(line.split()[1]) - 1  # minus this scrape


def _wait(predicate: Callable[[], bool], what: str, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _refused(port: int) -> bool:
    """No new connection is accepted. A connect that raced the listener's close may sit in
    the backlog and then be reset: that is a refusal too (the server never accepted it)."""
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except (ConnectionRefusedError, ConnectionResetError):
        return True
    return False


def test_sigterm_drains_in_flight_request_and_reports_shutting_down(start_app: StartApp) -> None:
    app = start_app(env={"RATE_LIMIT_PUBLIC": "0"})
    idle = http.client.HTTPConnection("127.0.0.1", app.port, timeout=10)
    idle.request("GET", "/healthz")
    assert idle.getresponse().read() == b'{"status": "ok"}'
    slow: dict[str, object] = {}

    def slow_request() -> None:
        slow["result"] = get_json(app.url + "/api/v1/slow?ms=3000", timeout=20)[:2]

    worker = threading.Thread(target=slow_request)
    worker.start()
    _wait(lambda: _in_flight(app.port) >= 1, "the slow request to be in flight")
    app.process.send_signal(signal.SIGTERM)

    def probe_says_shutting_down() -> bool:
        idle.request("GET", "/healthz")
        resp = idle.getresponse()
        body = resp.read()  # always: an unread body would block the next request
        return resp.status == 503 and body == b'{"status": "shutting_down"}'

    _wait(probe_says_shutting_down, "/healthz to answer 503 on a kept-alive connection")
    _wait(lambda: _refused(app.port), "the listener to close")
    assert app.process.poll() is None  # still draining the slow request
    worker.join(20)
    assert slow["result"] == (200, {"slept_ms": 3000, "slot": "blue", "version": "v1.0.0"})
    assert app.process.wait(15) == 0
    assert '"drained": true' in app.log()


def test_healthcheck_script_follows_healthz(start_app: StartApp) -> None:
    app = start_app()
    env = {"PATH": os.environ["PATH"], "SERVER_PORT": str(app.port)}
    run = [sys.executable, HEALTHCHECK]
    assert subprocess.run(run, env=env, timeout=30, check=False).returncode == 0
    app.set_control(live=False)
    assert subprocess.run(run, env=env, timeout=30, check=False, capture_output=True).returncode == 1
    env["SERVER_PORT"] = str(free_port())
    proc = subprocess.run(run, env=env, timeout=30, check=False, capture_output=True, text=True)
    assert proc.returncode == 1
    assert "healthz" in proc.stderr


def test_stop_helper_exits_cleanly(start_app: StartApp) -> None:
    app = start_app(env={"DEMO_STARTUP_DELAY_S": "0.2"})
    assert get_json(app.url + "/healthz")[0] == 200
    assert app.stop() == 0
    assert _refused(app.port)
