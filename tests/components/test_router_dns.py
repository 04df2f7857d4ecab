"""Upstream names are resolved per request: a replaced slot at a NEW address needs no reload.

In production the router asks Docker's embedded DNS (127.0.0.11) for ``app-blue``
/ ``app-green``. Here a tiny real DNS responder on loopback plays that part
(UDP, A records, 1 s TTL), and the slots live on distinct loopback addresses
(127.0.0.2, .3, then .4 for the replacement), so the router must re-resolve to
find the new one.
"""

from __future__ import annotations

import http.client
import os
import socket
import struct
import threading
from collections.abc import Iterator

import pytest

from tests.support.nginx import NginxRouter, nginx_available, start_router
from tests.support.ports import free_port
from tests.support.stub_app import StubApp

pytestmark = [pytest.mark.nginx,
              pytest.mark.skipif(not nginx_available(), reason="nginx + njs not installed: scripts/test")]


class LoopbackDNS:
    """Answers A queries from ``records`` (name -> IPv4); NXDOMAIN otherwise."""

    def __init__(self) -> None:
        self.records: dict[str, str] = {}
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.queries = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                data, peer = self.sock.recvfrom(512)
            except (TimeoutError, OSError):
                continue
            self.queries += 1
            self.sock.sendto(self.answer(data), peer)

    def answer(self, query: bytes) -> bytes:
        qid = query[:2]
        labels, i = [], 12
        while query[i]:
            labels.append(query[i + 1:i + 1 + query[i]].decode())
            i += 1 + query[i]
        question = query[12:i + 5]
        qtype = struct.unpack("!H", query[i + 1:i + 3])[0]
        ip = self.records.get(".".join(labels).lower())
        if ip is None or qtype != 1:
            flags = 0x8183 if ip is None else 0x8180
            return qid + struct.pack("!HHHHH", flags, 1, 0, 0, 0) + question
        record = struct.pack("!HHHIH", 0xC00C, 1, 1, 1, 4) + socket.inet_aton(ip)
        return qid + struct.pack("!HHHHH", 0x8180, 1, 1, 0, 0) + question + record

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self.sock.close()


@pytest.fixture
def dns() -> Iterator[LoopbackDNS]:
    server = LoopbackDNS()
    yield server
    server.stop()


def _get(router: NginxRouter) -> tuple[int, str | None, str]:
    conn = http.client.HTTPConnection("127.0.0.1", router.params.listen_port, timeout=10)
    try:
        conn.request("GET", "/version")
        resp = conn.getresponse()
        body = resp.read().decode()
        return resp.status, resp.getheader("X-Togather-Slot"), body
    finally:
        conn.close()


def test_a_replaced_idle_slot_at_a_new_address_is_reached_without_reload(
        dns: LoopbackDNS, workdir: str) -> None:
    port = free_port()
    dns.records = {"app-blue": "127.0.0.2", "app-green": "127.0.0.3"}
    blue = StubApp(slot="blue", version="v1", host="127.0.0.2", port=port)
    green = StubApp(slot="green", version="v2", host="127.0.0.3", port=port)
    with blue, green, start_router({"blue": f"app-blue:{port}", "green": f"app-green:{port}"},
                                   os.path.join(workdir, "router"),
                                   resolver=f"127.0.0.1:{dns.port}") as router:
        master = router.proc.pid
        status, slot, body = _get(router)
        assert (status, slot) == (200, "blue") and '"v1"' in body
        router.switch("green")
        assert '"v2"' in _get(router)[2]
        router.switch("blue")
        green.stop()  # the idle colour's container is replaced: new process, new address
        dns.records["app-green"] = "127.0.0.4"
        with StubApp(slot="green", version="v3", host="127.0.0.4", port=port):
            router.switch("green")
            status, slot, body = 0, None, ""
            for _ in range(40):  # bounded: the 1 s DNS TTL must expire at most once
                status, slot, body = _get(router)
                if '"v3"' in body:
                    break
                threading.Event().wait(0.1)
            assert (status, slot) == (200, "green") and '"v3"' in body
        assert router.proc.pid == master and dns.queries >= 3
        assert "reconfiguring" not in router.error_log()
