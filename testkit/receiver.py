"""A real local HTTP receiver for notification tests (ntfy, webhooks), loopback only.

    with Receiver() as rec:
        rec.statuses = [500]        # answer the first POST with 500, then 200
        rec.hang_s = 30             # or: never answer (the client must time out)
        ... rec.url ... rec.requests
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from testkit.ports import free_port


class Receiver:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        """Each POST: ``path``, ``body`` (parsed JSON, else text), ``auth`` and ``type`` headers,
        and all ``headers``."""
        self.statuses: list[int] = []
        """Status to answer per request, in order (then 200)."""
        self.hang_s = 0.0
        self._release = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self.url = ""

    def __enter__(self) -> Receiver:
        rec = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                try:
                    parsed = json.loads(body or b"null")
                except ValueError:
                    parsed = body.decode("utf-8", "replace")  # not JSON: kept as text
                rec.requests.append({"path": self.path, "body": parsed,
                                     "auth": self.headers.get("Authorization"),
                                     "type": self.headers.get("Content-Type"),
                                     "headers": dict(self.headers)})
                if rec.hang_s:
                    rec._release.wait(rec.hang_s)
                    return  # the client gave up long ago: never answer
                self.send_response(rec.statuses.pop(0) if rec.statuses else 200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args: object) -> None:
                pass

        port = free_port()
        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{port}"
        return self

    def __exit__(self, *exc: object) -> None:
        self._release.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
