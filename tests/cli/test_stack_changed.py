"""The manual flow slipping between a scripted deploy's steps: noticed, stopped, nothing restored.

``pulumi config set`` by someone else is played by the fake ``pulumi``'s ``run`` rule: it
appends a real line to the real stack file while our ``pulumi up`` runs.
"""

from __future__ import annotations

import json
import os

import pytest

from testkit.fake_pulumi import install_fake_pulumi, read_stack, run_script, write_stack
from testkit.ports import free_port
from togather_deploy.errors import EXIT_LOCKED
from togather_deploy.ops import audit

STACK = "test"
THEIR_EDIT = "  togather:domain: events.example.org\n"


@pytest.fixture
def fake(tmp_path):
    return install_fake_pulumi(str(tmp_path / "fake"))


@pytest.fixture
def project(tmp_path):
    project = str(tmp_path / "project")
    write_stack(project, STACK, {
        "environment": "development", "activeColor": "blue", "image": "togather-demo-app",
        "blue": {"version": "v1.0.0", "hostPort": free_port()},
        "green": {"version": "v0.9.0", "hostPort": free_port()},
        "stateDir": "state", "stopIdleSlot": True})
    return project


def someone_edits(project: str) -> list[str]:
    path = os.path.join(project, f"Pulumi.{STACK}.yaml")
    return ["/bin/sh", "-c", f"printf '%s' '{THEIR_EDIT}' >> '{path}'"]


def last_event(project: str) -> dict:
    return audit.read_events(os.path.join(project, "state"))[-1]


def test_an_edit_during_the_release_stops_the_deploy_before_the_switch(project, fake):
    fake.rule("up", nth=1, run=someone_edits(project))
    proc = run_script(fake, "deploy", STACK, "v1.1.0", "--project-dir", project)
    assert proc.returncode == EXIT_LOCKED, proc.stdout + proc.stderr
    assert fake.verbs() == ["config", "stack output", "config set togather:green.version=v1.1.0", "up",
                            "stack output"]
    assert "the stack config changed during this operation, not by it" in proc.stderr
    assert "noticed before setting activeColor" in proc.stderr
    assert "this operation's own edits: green.version = v1.1.0" in proc.stderr
    stack = read_stack(project, STACK)
    assert stack["domain"] == "events.example.org" and stack["activeColor"] == "blue"
    assert last_event(project)["event"] == "deployment.failed"
    assert last_event(project)["exit_code"] == EXIT_LOCKED


def test_an_edit_during_a_failing_switch_is_not_overwritten_by_the_restore(project, fake):
    fake.rule("up", nth=2, run=someone_edits(project), exit=255,
              stdout="error: [togather:switch] /version answered blue\n")
    proc = run_script(fake, "deploy", STACK, "v1.1.0", "--project-dir", project)
    assert proc.returncode == EXIT_LOCKED, proc.stdout + proc.stderr
    assert fake.verbs() == ["config", "stack output", "config set togather:green.version=v1.1.0", "up",
                            "stack output", "config set togather:activeColor=green", "up"]  # no restore
    assert "switch failed" in proc.stderr and "serves traffic is unknown" in proc.stderr
    assert "activeColor = green" in proc.stderr  # which of the file's values are ours
    with open(os.path.join(project, f"Pulumi.{STACK}.yaml")) as fh:
        assert fh.read().endswith(THEIR_EDIT)  # their edit, as they wrote it
    assert read_stack(project, STACK)["activeColor"] == "green"


def test_a_rollback_does_not_restore_over_an_edit_either(project, fake):
    fake.rule("up", nth=1, run=someone_edits(project), exit=255,
              stdout="error: [togather:health] green did not become healthy\n")
    proc = run_script(fake, "rollback", STACK, "--project-dir", project, "--json")
    assert proc.returncode == EXIT_LOCKED, proc.stdout + proc.stderr
    assert fake.verbs() == ["config", "stack output", "config set togather:activeColor=green", "up"]
    result = json.loads(proc.stdout)
    assert result["outcome"] == "failed" and result["exit_code"] == EXIT_LOCKED
    assert read_stack(project, STACK)["domain"] == "events.example.org"


def test_our_own_edits_never_count_as_someone_elses(project, fake):
    proc = run_script(fake, "deploy", STACK, "v1.1.0", "--project-dir", project)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    fake.rule("up", nth=3, exit=255, stdout="error: [togather:switch] no answer\n")
    proc = run_script(fake, "rollback", STACK, "--project-dir", project)
    assert proc.returncode == 4, proc.stdout + proc.stderr  # restored: nobody else edited
    assert fake.verbs()[-3:] == ["config set togather:activeColor=green", "up", "stack output"]
