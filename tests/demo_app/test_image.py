"""The demo app's image: the Dockerfile's contract, and (with a Docker engine) the real
container: uid 1000, the health-check script, a clean drain on ``docker stop``."""

from __future__ import annotations

import os
import re
import subprocess
import time
from collections.abc import Iterator

import pytest

from testkit.demo_app import DEMO_APP_DIR, JWT_SECRET, get_json, prepare_database
from testkit.ports import free_port

DOCKERFILE = os.path.join(DEMO_APP_DIR, "Dockerfile")
TAG = "togather-test/demo-app:image-test"


def _instructions() -> list[str]:
    with open(DOCKERFILE, encoding="utf-8") as fh:
        text = fh.read().replace("\\\n", " ")
    return [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]


def test_dockerfile_contract() -> None:
    lines = _instructions()
    assert lines[0] == "ARG BASE_IMAGE=python:3.12.7-slim-bookworm"  # pinned by tag
    assert lines[1] == "FROM ${BASE_IMAGE}"
    assert "ARG VERSION=dev" in lines and any(ln.startswith("ENV VERSION=${VERSION}") for ln in lines)
    assert "USER 1000:1000" in lines and "WORKDIR /app" in lines and "EXPOSE 8080" in lines
    assert 'ENTRYPOINT ["python3", "/app/server.py"]' in lines and 'CMD ["serve"]' in lines
    assert any("HEALTHCHECK" in ln and "/app/healthcheck.py" in ln for ln in lines)


def test_every_local_import_is_copied() -> None:
    modules = {f[:-3] for f in os.listdir(DEMO_APP_DIR) if f.endswith(".py")}
    for name in modules:
        with open(os.path.join(DEMO_APP_DIR, f"{name}.py"), encoding="utf-8") as fh:
            imported = set(re.findall(r"^(?:from|import) (\w+)", fh.read(), flags=re.MULTILINE))
        local = {m for m in imported if m.startswith(("app_", "pg"))}
        assert local <= modules, (name, local - modules)
    assert any(ln.startswith("COPY") and "*.py" in ln for ln in _instructions())


@pytest.fixture(scope="module")
def image() -> Iterator[str]:
    from testkit import docker, images

    reason = docker.engine_unavailable()
    if reason is not None:
        pytest.skip(reason)
    try:
        base = images.ensure_base_images().tags["python"]
        images._run(images.build_argv(TAG, DEMO_APP_DIR, build_args={"BASE_IMAGE": base, "VERSION": "v7"}),
                    f"docker build {TAG}", timeout=600)
    except images.ImageBuildError as exc:
        pytest.skip(f"cannot build the demo image: {exc}")
    yield TAG
    _docker("rmi", TAG)


def _docker(*argv: str, timeout: float = 60, env: dict[str, str] | None = None
            ) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["docker", *argv], capture_output=True, text=True, timeout=timeout, check=False,
                          env={**os.environ, **(env or {})})


@pytest.mark.docker
@pytest.mark.postgres
@pytest.mark.slow
def test_container_runs_as_1000_answers_and_drains(image: str, database_url: str) -> None:
    prepare_database(database_url)
    port, name = free_port(), f"togather-demo-image-test-{os.getpid()}"
    secrets = {"DATABASE_URL": database_url, "JWT_SECRET": JWT_SECRET}  # via env, never argv
    run = _docker("run", "-d", "--name", name, "--network", "host", "-e", "DATABASE_URL", "-e", "JWT_SECRET",
                  "-e", "SERVER_HOST=127.0.0.1", "-e", f"SERVER_PORT={port}", "-e", "DEPLOYMENT_SLOT=green",
                  image, env=secrets)
    assert run.returncode == 0, run.stderr
    try:
        deadline = time.monotonic() + 30
        while _docker("exec", name, "python3", "/app/healthcheck.py").returncode != 0:
            assert time.monotonic() < deadline, _docker("logs", name).stderr
            time.sleep(0.2)
        status, body, headers = get_json(f"http://127.0.0.1:{port}/health")
        assert (status, body["status"], body["version"], headers["X-Togather-Slot"]) == \
            (200, "healthy", "v7", "green")
        assert _docker("exec", name, "id", "-u").stdout.strip() == "1000"
        assert _docker("stop", "-t", "15", name, timeout=60).returncode == 0
        assert _docker("inspect", "-f", "{{.State.ExitCode}}", name).stdout.strip() == "0"
        assert '"drained": true' in _docker("logs", name).stderr
    finally:
        _docker("rm", "-f", name)
