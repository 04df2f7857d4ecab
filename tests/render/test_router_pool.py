"""Pooled keep-alive upstreams per colour: few connections, a failed cached one is retried, and
a colour's container replaced at its (fixed) address is reached without a reload.

In production each colour has a fixed address on the private network (``network.subnet``);
here the slots live on distinct loopback addresses (blue 127.0.0.2, green 127.0.0.3), and a
"replaced container" is a slot PROCESS killed and started again at the same address, so its
pooled connections really die with it (an in-process server's threads would keep serving them).
"""

from __future__ import annotations

import http.client
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from testkit.nginx import NginxRouter, nginx_available, start_router
from testkit.ports import free_port, wait_port
from togather_deploy import ROOT

pytestmark = [pytest.mark.nginx,
              pytest.mark.skipif(not nginx_available(), reason="nginx + njs not installed: scripts/test")]

BLUE, GREEN = "127.0.0.2", "127.0.0.3"


class _Counting(ThreadingHTTPServer):
    """Counts accepted TCP connections; with ``one_shot`` each connection answers ONE request
    and closes when the next arrives: what nginx meets on a pooled connection whose slot died."""

    daemon_threads = True

    def __init__(self, host: str, slot: str, one_shot: bool = False) -> None:
        super().__init__((host, free_port()), _Handler)
        self.slot, self.one_shot, self.accepted = slot, one_shot, 0
        threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def process_request(self, request: Any, client_address: Any) -> None:
        self.accepted += 1
        super().process_request(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Counting
    served = 0

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _answer(self) -> None:
        if self.server.one_shot and self.served:
            self.close_connection = True  # read the request, answer nothing, close
            return
        self.served += 1
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = f'{{"slot": "{self.server.slot}"}}'.encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer  # noqa: N815


def _request(router: NginxRouter, method: str = "GET") -> tuple[int, str]:
    conn = http.client.HTTPConnection("127.0.0.1", router.params.listen_port, timeout=10)
    try:
        conn.request(method, "/x", body=b"{}" if method == "POST" else None)
        resp = conn.getresponse()
        return resp.status, resp.read().decode()
    finally:
        conn.close()


@pytest.fixture
def servers() -> Iterator[list[_Counting]]:
    made: list[_Counting] = []
    yield made
    for s in made:
        s.shutdown()
        s.server_close()


def test_requests_share_a_few_pooled_connections_per_colour(workdir: str,
                                                            servers: list[_Counting]) -> None:
    blue, green = _Counting(BLUE, "blue"), _Counting(GREEN, "green")
    servers += [blue, green]
    upstreams = {"blue": f"{BLUE}:{blue.server_port}", "green": f"{GREEN}:{green.server_port}"}
    with start_router(upstreams, os.path.join(workdir, "router")) as router:
        for _ in range(100):  # a new client connection each time: the router's pool is what's shared
            assert _request(router) == (200, '{"slot": "blue"}')
        router.switch("green")
        for _ in range(100):
            assert _request(router) == (200, '{"slot": "green"}')
    # one connection per request would be 100 each; a pool needs ~1 per worker (here 1)
    assert blue.accepted <= 2 and green.accepted <= 2


def test_a_dead_cached_connection_is_retried_but_a_post_is_not(workdir: str,
                                                               servers: list[_Counting]) -> None:
    """Every pooled connection dies after one answer: each GET after the first meets a dead
    cached connection, and nginx retries it on a fresh one (that try is not counted). A POST
    already sent is not retried (``proxy_next_upstream`` without ``non_idempotent``): 502."""
    blue = _Counting(BLUE, "blue", one_shot=True)
    servers.append(blue)
    with start_router({"blue": f"{BLUE}:{blue.server_port}", "green": f"{GREEN}:{free_port()}"},
                      os.path.join(workdir, "router")) as router:
        for _ in range(20):
            assert _request(router) == (200, '{"slot": "blue"}')
        assert blue.accepted == 20  # each GET after the first: dead cached one, then a fresh one
        assert _request(router, "POST")[0] == 502
        assert "upstream prematurely closed connection" in router.error_log()


def _slot_process(host: str, port: int, slot: str, version: str) -> subprocess.Popen[bytes]:
    code = ("import sys, time; from testkit.stub_app import StubApp; "
            "StubApp(slot=sys.argv[1], version=sys.argv[2], host=sys.argv[3], "
            "port=int(sys.argv[4])).start(); time.sleep(600)")
    proc = subprocess.Popen([sys.executable, "-c", code, slot, version, host, str(port)], cwd=ROOT)
    wait_port(port, host=host)
    return proc


def test_the_idle_colour_replaced_at_its_address_is_reached_without_reload(workdir: str) -> None:
    port = free_port()
    procs = {"blue": _slot_process(BLUE, port, "blue", "v1"),
             "green": _slot_process(GREEN, port, "green", "v2")}
    try:
        with start_router({"blue": f"{BLUE}:{port}", "green": f"{GREEN}:{port}"},
                          os.path.join(workdir, "router")) as router:
            master = router.proc.pid
            router.switch("green")
            for _ in range(5):  # green's pool now holds a connection to the v2 process
                assert '"v2"' in _request(router)[1]
            router.switch("blue")
            procs["green"].send_signal(signal.SIGKILL)  # the idle colour's container goes away...
            procs["green"].wait(10)
            procs["green"] = _slot_process(GREEN, port, "green", "v3")  # ...and comes back, same address
            router.switch("green")
            for _ in range(5):  # never the dead process' pooled connection, never a failure
                assert _request(router) == (200, '{"slot": "green", "version": "v3", "path": "/x"}')
            assert router.proc.pid == master
            assert "reconfiguring" not in router.error_log() and "signal" not in router.error_log()
    finally:
        for p in procs.values():
            p.kill()
            p.wait(10)
