"""``scripts/status --check``, kept versions and maintenance in the status: real stub slots over
HTTP, the real script; ``docker`` is the fake pulumi's stand-in (no engine needed here)."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator

import pytest

from testkit.fake_pulumi import install_fake_pulumi, write_stack
from testkit.stub_app import StubApp
from togather_deploy import ROOT
from togather_deploy.errors import EXIT_HEALTH
from togather_deploy.ops import maintenance_flag, router_files

STACK = "test"


@pytest.fixture
def slots() -> Iterator[tuple[StubApp, StubApp]]:
    with StubApp(slot="blue", version="v1.0.0") as blue, StubApp(slot="green", version="v1.1.0") as green:
        yield blue, green


def project(tmp_path, blue: StubApp, green: StubApp, **extra: object) -> str:
    d = str(tmp_path / "project")
    write_stack(d, STACK, {"environment": "development", "image": "togather-demo-app",
                           "blue": {"version": "v1.0.0", "hostPort": blue.port},
                           "green": {"version": "v1.1.0", "hostPort": green.port},
                           "stateDir": "state", "stopIdleSlot": False, **extra})
    router_files.ensure_dir(os.path.join(d, "state", "router"))
    router_files.write_active_color(os.path.join(d, "state", "router"), "blue")
    return d


def status(d: str, *args: str) -> subprocess.CompletedProcess[str]:
    fake = install_fake_pulumi(os.path.join(d, "..", "fake"))
    return subprocess.run([os.path.join(ROOT, "scripts", "status"), STACK, "--project-dir", d, *args],
                          env=fake.env(), capture_output=True, text=True, timeout=60, check=False)


def test_check_passes_when_the_live_colour_is_healthy_at_its_version(tmp_path, slots) -> None:
    d = project(tmp_path, *slots)
    proc = status(d, "--check", "--json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    r = json.loads(proc.stdout)
    assert r["healthy"] is True and r["problems"] == []
    assert r["maintenance"] == {"router": None, "config": False, "agree": True}


@pytest.mark.parametrize(("change", "problem"), [
    ({"status": "unhealthy"}, "blue (live) is unhealthy"),
    ({"version": "v0.9.0"}, "WRONG VERSION"),
])
def test_check_fails_with_exit_4_naming_the_problem(tmp_path, slots, change, problem) -> None:
    d = project(tmp_path, *slots)
    for k, v in change.items():
        setattr(slots[0].state, k, v)
    proc = status(d, "--check")
    assert proc.returncode == EXIT_HEALTH, proc.stdout + proc.stderr
    assert "PROBLEM:" in proc.stdout and problem in proc.stdout
    assert status(d).returncode == 0  # without --check it only reports


def test_degraded_passes_only_when_allowed(tmp_path, slots) -> None:
    slots[0].state.status = "degraded"
    assert status(project(tmp_path, *slots), "--check").returncode == EXIT_HEALTH
    allowed = project(tmp_path, *slots, health={"allowDegraded": True})
    assert status(allowed, "--check").returncode == 0


def test_router_disagreeing_with_the_config_fails_the_check(tmp_path, slots) -> None:
    d = project(tmp_path, *slots)
    router_files.write_active_color(os.path.join(d, "state", "router"), "green")
    proc = status(d, "--check")
    assert proc.returncode == EXIT_HEALTH and "router serves green" in proc.stdout


def test_maintenance_disagreement_is_shown(tmp_path, slots) -> None:
    d = project(tmp_path, *slots)
    maintenance_flag.turn_on(os.path.join(d, "state", "router"), "by hand")
    proc = status(d)
    assert "maintenance: ON: 'by hand' (router), router.maintenance=false" in proc.stdout
    assert "DISAGREE" in proc.stdout


def test_help_names_exit_codes_and_an_example() -> None:
    proc = subprocess.run([os.path.join(ROOT, "scripts", "status"), "--help"], capture_output=True,
                          text=True, timeout=60, check=False)
    assert "--check" in proc.stdout and "exit codes:" in proc.stdout and "example:" in proc.stdout
