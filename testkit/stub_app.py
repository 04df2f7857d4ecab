"""A tiny, scriptable stand-in for one Togather slot (stdlib HTTP, loopback only).

Real HTTP on a real socket; what it answers is set by the test through
``StubApp.state`` (health status, version, readiness, 429s, bad JSON), which the
demo app cannot be told to do on demand. Endpoints follow the app contract:
``/health``, ``/healthz``, ``/readyz``, ``/version``, ``/metrics``, plus
``/slow?ms=N`` and ``/events`` (a short ``text/event-stream``) for router tests.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from testkit.ports import free_port


@dataclass
class StubState:
    slot: str = "blue"
    version: str = "v1.0.0"
    status: str = "healthy"  # healthy | degraded | unhealthy
    ready: bool = True
    rate_limited: bool = False
    bad_json: bool = False
    hits: Counter[str] = field(default_factory=Counter)
    headers_seen: list[dict[str, str]] = field(default_factory=list)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _send(self, code: int, body: Any, ctype: str = "application/json") -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        st = self.server.state
        url = urllib.parse.urlsplit(self.path)
        st.hits[url.path] += 1
        st.headers_seen.append(dict(self.headers.items()))
        if url.path == "/health":
            if st.rate_limited:
                return self._send(429, {"error": "rate limited"})
            if st.bad_json:
                return self._send(200, b"<html>oops</html>", "text/html")
            checks = {"database": {"status": "pass", "latency_ms": 1}}
            if st.status == "degraded":
                checks["job_queue"] = {"status": "warn", "message": "river_job table missing"}
            if st.status == "unhealthy":
                checks["database"] = {"status": "fail", "message": "connection refused"}
            body = {"status": st.status, "version": st.version, "slot": st.slot, "checks": checks}
            return self._send(503 if st.status == "unhealthy" else 200, body)
        if url.path == "/readyz":
            return self._send(200 if st.ready else 503, {"status": "ready" if st.ready else "not_ready"})
        if url.path == "/healthz":
            return self._send(200, {"status": "ok"})
        if url.path == "/version":
            return self._send(200, {"version": st.version, "git_commit": "0" * 7})
        if url.path == "/metrics":
            return self._send(200, b"togather_up 1\n", "text/plain")
        if url.path == "/slow":
            ms = int(urllib.parse.parse_qs(url.query).get("ms", ["1000"])[0])
            time.sleep(ms / 1000)
        if url.path == "/events":
            return self._events()
        return self._send(200, {"slot": st.slot, "version": st.version, "path": url.path})

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        self._send(200, {"slot": self.server.state.slot, "received": length})

    def _events(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(b"data: first\n\n")
        self.wfile.flush()
        time.sleep(1.0)  # a buffering proxy would hold "first" back until here
        self.wfile.write(b"data: second\n\n")
        self.wfile.flush()
        self.close_connection = True


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 512
    state: StubState


class StubApp:
    """``with StubApp(slot="green", version="v2") as app: app.url ...``"""

    def __init__(self, *, slot: str = "blue", version: str = "v1.0.0", port: int | None = None,
                 host: str = "127.0.0.1") -> None:
        self.state = StubState(slot=slot, version=version)
        self.host = host
        self.port = port or free_port()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> StubApp:
        server = _Server((self.host, self.port), _Handler)
        server.state = self.state
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> StubApp:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
