"""Run the demo server (demo-app/server.py) as a real process for tests.

    app = start_demo_app(port=free_port(), version="v1", slot="blue", database_url=url)
    app.set_control(health="unhealthy", delay_ms=200)   # misbehave on demand
    app.stop()                                          # SIGTERM, waits for a clean exit

``prepare_database`` gives a database the state the server checks: a
``schema_migrations`` row (optionally dirty) and the ``river_job`` table.
Output goes to a log file (never a pipe that could fill up and block the server).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from togather_deploy import ROOT

DEMO_APP_DIR = os.path.join(ROOT, "demo-app")
SERVER = os.path.join(DEMO_APP_DIR, "server.py")
JWT_SECRET = "demo-jwt-secret-0123456789abcdef0123456789"


@dataclass
class DemoApp:
    process: subprocess.Popen[bytes]
    port: int
    version: str
    slot: str
    control_file: str
    log_path: str
    _tmpdir: str | None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        with open(self.log_path, encoding="utf-8", errors="replace") as fh:
            return fh.read()

    def set_control(self, **state: Any) -> None:
        """Replace the control state atomically (health, delay_ms, version, ready, live)."""
        tmp = f"{self.control_file}.{os.getpid()}.tmp"
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(state, fh)
        os.replace(tmp, self.control_file)

    def stop(self, timeout: float = 15.0) -> int:
        """SIGTERM and wait (the server drains in-flight requests); returns the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self._cleanup()
        return int(self.process.returncode)

    def kill(self) -> None:
        """SIGKILL: the abrupt crash case."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(5)
        self._cleanup()

    def _cleanup(self) -> None:
        if self._tmpdir:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None


def start_demo_app(*, port: int, version: str, slot: str, database_url: str,
                   control_file: str | None = None, env: Mapping[str, str] | None = None,
                   wait: bool = True, timeout: float = 20.0) -> DemoApp:
    """Start ``demo-app/server.py`` on 127.0.0.1:``port``; wait until ``/healthz`` answers.

    ``env`` adds or overrides variables (e.g. ``RATE_LIMIT_PUBLIC``). Without a
    ``control_file`` a private one is created, so ``set_control`` always works.
    """
    tmpdir = tempfile.mkdtemp(prefix="togather-demo-")
    control = control_file or os.path.join(tmpdir, "control.json")
    log_path = os.path.join(tmpdir, "server.log")
    full_env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "DATABASE_URL": database_url, "JWT_SECRET": JWT_SECRET, "ENVIRONMENT": "test",
        "SERVER_HOST": "127.0.0.1", "SERVER_PORT": str(port), "VERSION": version,
        "GIT_COMMIT": f"commit-{version}", "BUILD_DATE": "2026-01-01T00:00:00Z",
        "SLOT": slot, "DEPLOYMENT_SLOT": slot, "DEMO_CONTROL_FILE": control,
        **(env or {}),
    }
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([sys.executable, SERVER, "serve"], env=full_env, stdout=log,
                                stderr=subprocess.STDOUT, cwd=DEMO_APP_DIR)
    app = DemoApp(proc, port, version, slot, control, log_path, tmpdir)
    if wait:
        wait_ready(app, timeout)
    return app


def wait_ready(app: DemoApp, timeout: float = 20.0) -> None:
    """Until ``/healthz`` answers (any status); raises with the server log if it died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if app.process.poll() is not None:
            raise RuntimeError(f"demo app exited with {app.process.returncode}:\n{app.log()}")
        try:
            with urllib.request.urlopen(app.url + "/healthz", timeout=1):
                return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.05)
    app.kill()
    raise TimeoutError(f"demo app not answering on {app.url} after {timeout}s")


def prepare_database(database_url: str, *, version: int = 4, dirty: bool = False,
                     migrations: bool = True, job_queue: bool = True) -> None:
    """Give a database the bookkeeping the server's health checks read (no real schema)."""
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as conn:
        if migrations:
            conn.execute("CREATE TABLE IF NOT EXISTS schema_migrations "
                         "(version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL)")
            conn.execute("DELETE FROM schema_migrations")
            conn.execute("INSERT INTO schema_migrations VALUES (%s, %s)", (version, dirty))
        else:
            conn.execute("DROP TABLE IF EXISTS schema_migrations")
        if job_queue:
            conn.execute("CREATE TABLE IF NOT EXISTS river_job (id bigserial PRIMARY KEY, kind text)")
        else:
            conn.execute("DROP TABLE IF EXISTS river_job")


def get_json(url: str, timeout: float = 5.0) -> tuple[int, dict[str, Any], Mapping[str, str]]:
    """GET ``url``; (status, JSON body, headers) also for 4xx/5xx answers."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status, json.loads(resp.read() or b"{}"), dict(resp.headers)
    except urllib.error.HTTPError as exc:
        body = exc.read()
        return exc.code, json.loads(body or b"{}"), dict(exc.headers)
