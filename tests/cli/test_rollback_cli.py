"""``scripts/rollback``: the gate runs for real against demo-app processes; ``pulumi`` is the fake."""

from __future__ import annotations

import os
import time

import pytest

from testkit.demo_app import prepare_database, start_demo_app
from testkit.fake_pulumi import install_fake_pulumi, read_stack, run_script, write_stack
from testkit.ports import free_port
from togather_deploy.errors import EXIT_HEALTH, EXIT_LOCKED
from togather_deploy.ops import audit, lock

pytestmark = pytest.mark.postgres
STACK = "test"


@pytest.fixture
def fake(tmp_path):
    return install_fake_pulumi(str(tmp_path / "fake"))


def make_project(tmp_path, *, green_port, stop_idle=False, green_version="v1.0.0"):
    project = str(tmp_path / "project")
    write_stack(project, STACK, {
        "environment": "development", "activeColor": "blue", "image": "togather-demo-app",
        "blue": {"version": "v1.1.0", "hostPort": free_port()},
        "green": {"version": green_version, "hostPort": green_port} if green_version
        else {"hostPort": green_port},
        "stateDir": "state", "stopIdleSlot": stop_idle,
        "health": {"timeoutSeconds": 6, "intervalSeconds": 1, "consecutive": 2}})
    return project


def run_rollback(fake, project, *args):
    return run_script(fake, "rollback", STACK, "--project-dir", project, *args)


def events(project):
    return [e["event"] for e in audit.read_events(os.path.join(project, "state"))]


@pytest.fixture
def green(database_url):
    prepare_database(database_url)
    app = start_demo_app(port=free_port(), version="v1.0.0", slot="green", database_url=database_url)
    yield app
    app.stop()


def test_rollback_to_a_healthy_previous_colour(tmp_path, fake, green):
    project = make_project(tmp_path, green_port=green.port)
    proc = run_rollback(fake, project)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert fake.verbs() == ["config", "stack output", "config set togather:activeColor=green", "up",
                            "stack output"]  # the API reads the outputs after each update
    assert read_stack(project, STACK)["activeColor"] == "green"
    assert "✓ gate" in proc.stdout and "healthy" in proc.stdout and "version v1.0.0" in proc.stdout
    assert events(project) == ["rollback.started", "rollback.completed"]


@pytest.mark.parametrize(("control", "why"), [({"health": "unhealthy"}, "unhealthy"),
                                              ({"version": "v0.0.1"}, "v0.0.1")])
def test_unhealthy_or_wrong_version_is_never_switched_to(tmp_path, fake, green, control, why):
    green.set_control(**control)
    project = make_project(tmp_path, green_port=green.port)
    proc = run_rollback(fake, project)
    assert proc.returncode == EXIT_HEALTH, proc.stdout + proc.stderr
    assert why in proc.stderr
    assert fake.verbs() == ["config", "stack output"]  # only read the deployed state
    assert read_stack(project, STACK)["activeColor"] == "blue"
    assert events(project) == ["rollback.started", "rollback.failed"]


def test_not_listening_without_stop_idle_fails_the_gate(tmp_path, fake):
    project = make_project(tmp_path, green_port=free_port())
    proc = run_rollback(fake, project)
    assert proc.returncode == EXIT_HEALTH
    assert fake.verbs() == ["config", "stack output"]  # only read the deployed state


def test_stopped_idle_slot_is_gated_by_pulumi_up_and_restored_on_failure(tmp_path, fake):
    project = make_project(tmp_path, green_port=free_port(), stop_idle=True)
    fake.rule("up", nth=1, exit=255, stdout="error: [togather:health] green never became healthy\n")
    proc = run_rollback(fake, project)
    assert proc.returncode == EXIT_HEALTH, proc.stdout + proc.stderr
    assert "stopIdleSlot" in proc.stdout
    assert fake.verbs() == ["config", "stack output", "config set togather:activeColor=green", "up",
                            "config set togather:activeColor=blue", "up", "stack output"]
    assert read_stack(project, STACK)["activeColor"] == "blue"
    assert events(project) == ["rollback.started", "rollback.rolled_back"]


def test_nothing_to_roll_back_to(tmp_path, fake):
    project = make_project(tmp_path, green_port=free_port(), green_version=None)
    proc = run_rollback(fake, project)
    assert proc.returncode == 1 and "green has no version" in proc.stderr
    # decided from the deployed state (read first), before anything changed
    assert fake.verbs() == ["config", "stack output"] and events(project) == []


def test_rollback_respects_the_lock(tmp_path, fake):
    project = make_project(tmp_path, green_port=free_port(), stop_idle=True)
    with lock.stack_lock(os.path.join(project, "state"), STACK, version="v9", clock=time.time):
        proc = run_rollback(fake, project)
    assert proc.returncode == EXIT_LOCKED and f"pid {os.getpid()}" in proc.stderr
    assert fake.calls() == []
