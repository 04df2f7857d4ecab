"""``scripts/logs`` and ``scripts/exec`` on the real Docker engine: stand-in containers under the
stack's real names (built from the local minbase image; no app image is needed to find and read
a container, or to copy its image, network and environment)."""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from collections.abc import Iterator

import pytest

from testkit.docker import engine_unavailable
from testkit.fake_pulumi import write_stack
from testkit.images import minbase_tag
from togather_deploy import ROOT
from togather_deploy.ops import audit

pytestmark = pytest.mark.docker
SECRET = "s3cret-" + "x" * 32
ACCESS = [{"time": "t1", "request_id": "req-a", "status": 200, "color": "blue", "uri": "/"},
          {"time": "t2", "request_id": "req-b", "status": 502, "color": "blue", "uri": "/api"}]


def docker(*argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["docker", *argv], capture_output=True, text=True, timeout=120, check=False,
                          env={**os.environ, **(env or {})})


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Iterator[tuple[str, str]]:
    """(project dir, stack name) whose blue slot and router run as stand-in containers."""
    reason = engine_unavailable()
    if reason:
        pytest.skip(reason)
    base = minbase_tag()
    if docker("image", "inspect", base).returncode:
        pytest.skip(f"{base} not built: scripts/build-base-images")
    name = "t" + uuid.uuid4().hex[:8]
    prefix = f"togather-deploy-{name}"
    project = str(tmp_path_factory.mktemp("project"))
    write_stack(project, name, {"environment": "development", "image": "ghcr.io/x/server",
                                "blue": {"version": "v1.0.0"}, "stateDir": "state"})
    docker("network", "create", f"{prefix}-net")
    router_lines = "; ".join(f"echo '{json.dumps(a)}'" for a in ACCESS)
    started = [
        docker("run", "-d", "--name", f"{prefix}-app-blue", "--network", f"{prefix}-net", "--memory", "64m",
               "--env", "JWT_SECRET", "--env", "DEPLOYMENT_SLOT=blue", base, "sh", "-c",
               "echo started blue; echo warn on stderr >&2; exec sleep 600", env={"JWT_SECRET": SECRET}),
        docker("run", "-d", "--name", f"{prefix}-router", base, "sh", "-c",
               f"{router_lines}; echo 'nginx: [warn] on stderr' >&2; exec sleep 600"),
    ]
    assert all(p.returncode == 0 for p in started), [p.stderr for p in started]
    try:
        yield project, name
    finally:
        docker("rm", "-f", f"{prefix}-app-blue", f"{prefix}-router")
        docker("network", "rm", f"{prefix}-net")


def script(verb: str, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([os.path.join(ROOT, "scripts", verb), *argv], capture_output=True, text=True,
                          timeout=120, check=False, stdin=subprocess.DEVNULL)


def test_logs_finds_the_live_colour_and_filters_the_router(stack) -> None:
    project, name = stack
    proc = script("logs", name, "--project-dir", project)
    assert proc.returncode == 0, proc.stderr
    assert "started blue" in proc.stdout and "warn on stderr" in proc.stderr
    proc = script("logs", name, "router", "--status", "5xx", "--project-dir", project)
    assert proc.returncode == 0, proc.stderr
    assert [json.loads(ln)["request_id"] for ln in proc.stdout.splitlines()] == ["req-b"]
    assert "on stderr" not in proc.stderr  # a filter shows access records only
    proc = script("logs", name, "router", "--request-id", "req-a", "--json", "--project-dir", project)
    lines = [json.loads(ln) for ln in proc.stdout.splitlines()]
    assert [(r["status"], r["container"]) for r in lines] == [(200, f"togather-deploy-{name}-router")]


def test_logs_of_a_missing_container_names_it(stack) -> None:
    project, name = stack
    proc = script("logs", name, "green", "--project-dir", project)
    assert proc.returncode == 1 and f"togather-deploy-{name}-app-green" in proc.stderr
    assert "fix:" in proc.stderr or "scripts/status" in proc.stderr


def test_exec_runs_in_a_twin_with_the_env_network_and_exit_code(stack) -> None:
    project, name = stack
    proc = script("exec", name, "--project-dir", project, "--", "sh", "-c",
                  f'echo "$JWT_SECRET|$DEPLOYMENT_SLOT"; '
                  f'getent hosts togather-deploy-{name}-app-blue >/dev/null && echo on-the-network; exit 7')
    assert proc.returncode == 7, proc.stderr
    assert f"{SECRET}|blue" in proc.stdout and "on-the-network" in proc.stdout
    leftovers = docker("ps", "-a", "--filter", "label=togather.role=exec", "--filter",
                       f"label=togather.stack={name}", "-q").stdout.strip()
    assert leftovers == ""  # --rm
    events = audit.read_events(os.path.join(project, "state"))
    assert events[-1]["event"] == "exec.run" and events[-1]["to_color"] == "blue"
    with open(audit.audit_path(os.path.join(project, "state")), encoding="utf-8") as fh:
        assert SECRET not in fh.read()


def test_exec_never_puts_a_value_on_the_command_line(stack) -> None:
    from togather_deploy.cli import exec_cmd

    info = exec_cmd.inspect(f"togather-deploy-{stack[1]}-app-blue")
    names, literals = exec_cmd.split_env(exec_cmd.twin_env(info))
    assert "JWT_SECRET" in names and literals == {}
    assert "PATH" not in names  # the image's own variables stay the image's


def test_exec_of_a_colour_without_container_is_refused(stack) -> None:
    project, name = stack
    proc = script("exec", name, "--colour", "idle", "--project-dir", project, "--", "true")
    assert proc.returncode == 1 and "no container" in proc.stderr
