"""A real Docker engine for tests: start it, run ``ContainerSpec``s, clean up by label.

Everything goes through ``togather_deploy.commands.docker`` (argv as data) and
``togather_deploy.commands.runner.run`` (the one executor), so the rehearsal exercises the
very code path an operator script would. Every wait is bounded.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Collection, Mapping
from typing import Any

from togather_deploy import ROOT
from togather_deploy.commands import docker as docker_cli
from togather_deploy.commands import runner
from togather_deploy.errors import DeployError
from togather_deploy.render.containers import ContainerSpec

ENGINE_SCRIPT = os.path.join(ROOT, "scripts", "docker-engine")


def engine_unavailable() -> str | None:
    """``None`` when an engine answers (starting one if needed), else the reason."""
    if shutil.which("docker") is None:
        return "no docker CLI: apt-get install docker.io (scripts/test does)"
    try:
        proc = subprocess.run([ENGINE_SCRIPT, "ensure"], capture_output=True, text=True,
                              timeout=240, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"scripts/docker-engine ensure: {exc}"
    if proc.returncode != 0:
        return "no Docker engine: " + (proc.stderr.strip() or proc.stdout.strip())[-600:]
    return None


def exists(kind: str, name: str) -> bool:
    return runner.run(docker_cli.inspect_argv(kind, name, "{{.Name}}"), check=False, timeout=60).ok


def run_spec(spec: ContainerSpec, secret_names: Collection[str] = ()) -> str:
    """``docker run`` the spec (secrets through the environment); returns the container id."""
    result = runner.run(docker_cli.run_argv(spec, secret_names), env=docker_cli.run_env(spec, secret_names),
                        timeout=120, what=f"docker run {spec.name}")
    return result.stdout.strip()


def remove(name: str) -> None:
    runner.run(docker_cli.rm_argv(name), check=False, timeout=120)


def state(name: str) -> dict[str, Any]:
    """The container's ``State``; ``{}`` when it does not exist."""
    result = runner.run(docker_cli.state_argv(name), check=False, timeout=60)
    return json.loads(result.stdout) if result.ok and result.stdout.strip() else {}


def health_status(name: str) -> str:
    """``healthy`` / ``unhealthy`` / ``starting`` / ``none`` (no check) / ``missing``."""
    st = state(name)
    if not st:
        return "missing"
    return str((st.get("Health") or {}).get("Status") or ("none" if st.get("Running") else "exited"))


def wait_docker_healthy(name: str, timeout_s: float = 90) -> None:
    """Wait for Docker's own health check to say ``healthy`` (bounded)."""
    deadline = time.monotonic() + timeout_s
    status = "missing"
    while time.monotonic() < deadline:
        status = health_status(name)
        if status == "healthy":
            return
        if status in ("exited", "missing"):
            break
        time.sleep(0.5)
    raise DeployError(f"container {name} is not healthy ({status}) after {timeout_s:.0f}s",
                      context={"logs": logs(name)[-1500:]})


def logs(name: str) -> str:
    result = runner.run(("docker", "logs", "--tail", "200", name), check=False, timeout=60)
    return result.stdout + result.stderr


def cleanup(labels: Mapping[str, str], *, networks: Collection[str] = (),
            volumes: Collection[str] = ()) -> None:
    """Remove every container carrying ``labels``, then the given networks and volumes."""
    names = runner.run(docker_cli.ps_argv(labels), check=False, timeout=60).stdout.split()
    for name in names:
        remove(name)
    for net in networks:
        runner.run(docker_cli.network_rm_argv(net), check=False, timeout=60)
    for vol in volumes:
        runner.run(docker_cli.volume_rm_argv(vol), check=False, timeout=60)
