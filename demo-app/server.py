"""Togather demo server: behaves like the real SEL server at its HTTP edge (see README.md).

Standard library only. ``python3 server.py serve`` listens on
``SERVER_HOST:SERVER_PORT`` with HTTP/1.1 keep-alive, answers the contract's
endpoints, and on SIGTERM/SIGINT stops accepting connections, answers health
probes with 503 ``shutting_down``, lets in-flight requests finish (10 s at
most) and exits 0.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sys
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from app_config import Settings, SettingsError, read_settings
from app_endpoints import ROUTES, App
from app_ratelimit import client_ip

DRAIN_SECONDS = 10.0


def log(event: str, **fields: Any) -> None:
    line = {"time": datetime.now(UTC).isoformat(timespec="seconds"), "msg": event, **fields}
    print(json.dumps(line), file=sys.stderr, flush=True)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: every response carries Content-Length
    server_version = "togather-demo"
    timeout = 75  # idle keep-alive connections are closed after this

    @property
    def app(self) -> App:
        return self.server.app  # type: ignore[attr-defined]

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes: without NODELAY, Nagle + delayed ACK
        # would add ~40 ms to every keep-alive response.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self._dispatch(send_body=True)

    def do_HEAD(self) -> None:  # noqa: N802
        self._dispatch(send_body=False)

    def _not_allowed(self) -> None:
        # The request body is not read: close the connection rather than parse it as a request.
        self.close_connection = True
        self._send(405, {"error": "method not allowed"}, True, {"Allow": "GET, HEAD", "Connection": "close"})

    do_POST = do_PUT = do_DELETE = do_PATCH = _not_allowed  # noqa: N815

    def _dispatch(self, send_body: bool) -> None:
        app = self.app
        app.metrics.track(1)
        started = time.monotonic()
        url = urlsplit(self.path)
        route = ROUTES.get(url.path)
        status = 500
        try:
            delay = app.control.current().delay_ms
            if delay:
                time.sleep(delay / 1000)
            client = client_ip(self.client_address[0], self.headers.get("X-Forwarded-For"),
                               app.settings.trusted_proxies)
            if route is None:
                status, body, extra = 404, {"error": "not found", "path": url.path}, {}
            elif route[1] and not app.limiter.allow(client):
                status, body, extra = 429, {"error": "rate limit exceeded"}, {"Retry-After": "1"}
            else:
                status, body = getattr(app, route[0])(parse_qs(url.query))
                extra = {}
            self._send(status, body, send_body, extra)
        finally:
            app.metrics.track(-1)
            app.metrics.observe_request(self.command, url.path if route else "other", status,
                                        time.monotonic() - started)

    def _send(self, status: int, body: Any, send_body: bool, extra: dict[str, str]) -> None:
        if isinstance(body, str):
            data, ctype = body.encode(), "text/plain; version=0.0.4; charset=utf-8"
        else:
            data, ctype = json.dumps(body).encode(), "application/json"
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-Togather-Slot", self.app.settings.slot)
        self.send_header("X-Togather-Version", self.app.version())
        for name, value in extra.items():
            self.send_header(name, value)
        if self.app.stopping.is_set():
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if send_body:
            self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        if self.app.settings.log_requests:
            log("request", client=self.client_address[0], line=format % args)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # load tests open many connections at once

    def __init__(self, app: App) -> None:
        host = app.settings.host
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.app = app
        super().__init__((host, app.settings.port), Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            super().handle_error(request, client_address)


def serve(settings: Settings) -> int:
    app = App(settings)
    if settings.startup_delay_s > 0:
        time.sleep(settings.startup_delay_s)
    try:
        server = Server(app)
    except OSError as exc:
        log("cannot listen", host=settings.host, port=settings.port, error=str(exc))
        return 1
    signalled = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: signalled.set())
    loop = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    loop.start()
    log("listening", host=settings.host, port=server.server_address[1], version=settings.version,
        slot=settings.slot)
    while not signalled.wait(0.5):
        pass
    app.stopping.set()
    server.shutdown()  # no new connections from here on
    server.socket.close()
    deadline = time.monotonic() + DRAIN_SECONDS
    while app.metrics.in_flight > 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    log("stopped", drained=app.metrics.in_flight == 0)
    return 0


def main(argv: list[str]) -> int:
    if argv not in ([], ["serve"]):
        print("usage: server.py [serve]", file=sys.stderr)
        return 2
    try:
        settings = read_settings(os.environ)
    except SettingsError as exc:
        print(f"togather-demo: refusing to start: {exc}", file=sys.stderr)
        return 1
    return serve(settings)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
