"""Real monitoring processes on loopback for the end-to-end test (Debian binaries).

Each ``start_*`` launches one process on a free 127.0.0.1 port with its output
in a log file (never a pipe that could fill up), waits until it listens and
returns a ``Proc``; ``Proc.stop`` terminates it. Nothing here is a fake.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from testkit.ports import free_port, wait_port

BINARIES = ("prometheus", "prometheus-alertmanager", "prometheus-node-exporter",
            "prometheus-postgres-exporter", "promtool")


def missing_binaries() -> list[str]:
    return [b for b in BINARIES if shutil.which(b) is None]


@dataclass
class Proc:
    name: str
    process: subprocess.Popen[bytes]
    port: int
    log_path: str

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.address}"

    def log(self) -> str:
        with open(self.log_path, encoding="utf-8", errors="replace") as fh:
            return fh.read()[-4000:]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


def start(name: str, argv: list[str], workdir: str, port: int,
          env: dict[str, str] | None = None) -> Proc:
    log_path = os.path.join(workdir, f"{name}.log")
    with open(log_path, "wb") as log:
        process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, cwd=workdir,
                                   env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **(env or {})})
    proc = Proc(name, process, port, log_path)
    try:
        wait_port(port, timeout=30)
    except TimeoutError:
        proc.stop()
        raise RuntimeError(f"{name} did not listen on {port}:\n{proc.log()}") from None
    return proc


def start_node_exporter(workdir: str, textfile_dir: str) -> Proc:
    port = free_port()
    return start("node-exporter", ["prometheus-node-exporter", f"--web.listen-address=127.0.0.1:{port}",
                                   f"--collector.textfile.directory={textfile_dir}"], workdir, port)


def start_postgres_exporter(workdir: str, dsn: str, queries_path: str) -> Proc:
    port = free_port()
    return start("postgres-exporter", ["prometheus-postgres-exporter",
                                       f"--web.listen-address=127.0.0.1:{port}",
                                       f"--extend.query-path={queries_path}"],
                 workdir, port, env={"DATA_SOURCE_NAME": dsn})


def start_alertmanager(workdir: str, config_path: str, port: int) -> Proc:
    data = os.path.join(workdir, "alertmanager-data")
    os.makedirs(data, exist_ok=True)
    return start("alertmanager", ["prometheus-alertmanager", f"--config.file={config_path}",
                                  f"--storage.path={data}", f"--web.listen-address=127.0.0.1:{port}",
                                  "--cluster.listen-address="], workdir, port)


def start_prometheus(workdir: str, config_path: str, port: int) -> Proc:
    """Alerts raised before Alertmanager is discovered (at start, and for up to 5 s after a
    reload) are dropped and re-sent after ``resend-delay`` (1 m): 2 s keeps the test short."""
    data = os.path.join(workdir, "prometheus-data")
    return start("prometheus", ["prometheus", f"--config.file={config_path}",
                                f"--storage.tsdb.path={data}", f"--web.listen-address=127.0.0.1:{port}",
                                "--storage.tsdb.retention.time=1d", "--storage.tsdb.retention.size=100MB",
                                "--web.enable-lifecycle", "--rules.alert.resend-delay=2s"], workdir, port)


def api(base: str, path: str, **params: str) -> Any:
    """GET a Prometheus/Alertmanager JSON API endpoint; returns its ``data``."""
    query = f"?{urllib.parse.urlencode(params)}" if params else ""
    with urllib.request.urlopen(f"{base}{path}{query}", timeout=10) as resp:
        body = json.loads(resp.read())
    assert body.get("status") == "success", body
    return body["data"]


def wait_for(what: str, probe: Callable[[], Any], *, timeout: float = 90.0,
             interval: float = 0.5) -> Any:
    """Poll ``probe`` until it returns something truthy (bounded in time and count)."""
    deadline = time.monotonic() + timeout
    last: Any = None
    for _ in range(int(timeout / interval) + 1):
        try:
            last = probe()
        except OSError as exc:
            last = exc
        else:
            if last:
                return last
        if time.monotonic() > deadline:
            break
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what}; last: {last!r}"[:3000])


@dataclass
class WebhookReceiver:
    """A local HTTP endpoint recording every JSON body Alertmanager posts."""

    server: ThreadingHTTPServer
    bodies: list[dict[str, Any]] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    """Request path and query of each body, in the same order."""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def start_webhook_receiver() -> WebhookReceiver:
    bodies: list[dict[str, Any]] = []
    paths: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            length = int(self.headers.get("Content-Length", "0"))
            paths.append(self.path)
            bodies.append(json.loads(self.rfile.read(length)))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return WebhookReceiver(server, bodies, paths)
