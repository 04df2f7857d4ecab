"""scripts/docker-engine: answers when an engine runs, says why when none can."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from testkit.docker import ENGINE_SCRIPT, ROOT
from tests.rehearsal.app_images import RehearsalImages


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([ENGINE_SCRIPT, *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, **(env or {})}, check=False)


def test_usage_error() -> None:
    proc = _run()
    assert proc.returncode == 2 and "ensure|status|stop" in proc.stderr


def test_an_engine_that_does_not_answer_is_reported_with_the_reason() -> None:
    nowhere = {"DOCKER_HOST": "unix:///nonexistent/togather-docker.sock"}
    status = _run("status", env=nowhere)
    assert status.returncode == 1 and "no Docker engine answers" in status.stderr
    ensure = _run("ensure", env=nowhere)
    assert ensure.returncode == 1 and "does not answer" in ensure.stderr


@pytest.mark.docker
def test_status_and_ensure_when_the_engine_runs(rehearsal_images: RehearsalImages) -> None:
    status = _run("status")
    assert status.returncode == 0 and "Docker engine" in status.stdout
    assert _run("ensure").stdout.strip() == "Docker engine already answers"


def test_without_an_engine_the_rehearsal_is_skipped_with_the_reason_never_passed() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider",
         os.path.join(ROOT, "tests", "rehearsal", "test_release.py")],
        capture_output=True, text=True, timeout=300, cwd=ROOT, check=False,
        env={**os.environ, "DOCKER_HOST": "unix:///nonexistent/togather-docker.sock"})
    assert proc.returncode == 0, proc.stdout[-2000:]
    assert "3 skipped" in proc.stdout and "passed" not in proc.stdout, proc.stdout[-2000:]
    assert "SKIPPED" in proc.stdout and "does not answer" in proc.stdout
