"""``scripts/health-check``: the real script against a real HTTP server on loopback."""

from __future__ import annotations

import io
import json
import os
import subprocess
from collections.abc import Iterator

import pytest

from testkit.ports import free_port
from testkit.stub_app import StubApp
from togather_deploy import ROOT
from togather_deploy.cli.health_check import build_parser, main

SCRIPT = os.path.join(ROOT, "scripts", "health-check")


@pytest.fixture
def app() -> Iterator[StubApp]:
    with StubApp(slot="blue", version="v1.4.0") as stub:
        yield stub


def _script(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([SCRIPT, *args], capture_output=True, text=True, timeout=120, check=False)


def test_healthy_exits_0(app: StubApp) -> None:
    r = _script(app.url, "--version", "v1.4.0", "--consecutive", "1", "--timeout", "20")
    assert r.returncode == 0, r.stderr
    assert "healthy" in r.stdout and "version v1.4.0" in r.stdout


def test_unhealthy_exits_4_and_prints_failing_checks(app: StubApp) -> None:
    app.state.status = "unhealthy"
    r = _script(app.url, "--version", "v1.4.0", "--timeout", "1")
    assert r.returncode == 4
    assert "NOT healthy" in r.stdout and "check database: fail: connection refused" in r.stdout


def test_not_ready_names_the_failing_check_from_health(app: StubApp) -> None:
    """/readyz fails (503 not_ready): the script still prints the server's failing check."""
    app.state.ready, app.state.status = False, "unhealthy"
    r = _script(app.url, "--version", "v1.4.0", "--timeout", "1")
    assert r.returncode == 4
    assert "check database: fail: connection refused" in r.stdout
    assert app.state.hits["/health"] == 1


def test_degraded_needs_allow_degraded(app: StubApp) -> None:
    app.state.status = "degraded"
    out = io.StringIO()
    assert main([app.url, "--version", "v1.4.0", "--timeout", "1", "--interval", "0.1"], out) == 4
    assert "job_queue: warn: river_job table missing" in out.getvalue()
    assert main([app.url, "--version", "v1.4.0", "--allow-degraded", "--consecutive", "1",
                 "--timeout", "20"], io.StringIO()) == 0


def test_wrong_version_and_json_output(app: StubApp) -> None:
    out = io.StringIO()
    assert main([app.url, "--version", "v2", "--timeout", "1", "--json"], out) == 4
    data = json.loads(out.getvalue())
    assert data["healthy"] is False and data["version_seen"] == "v1.4.0" and data["exit_code"] == 4


def test_not_listening_exits_4() -> None:
    r = _script(f"http://127.0.0.1:{free_port()}", "--version", "v1", "--timeout", "1")
    assert r.returncode == 4 and "HTTP -" in r.stdout


def test_usage_errors_exit_2() -> None:
    assert _script("http://127.0.0.1:1").returncode == 2  # --version missing
    assert _script("127.0.0.1:1", "--version", "v1").returncode == 2
    assert _script("http://x", "--version", "v1", "--timeout", "0").returncode == 2
    assert build_parser().prog == "togather-deploy health-check"
