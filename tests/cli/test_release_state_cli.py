"""Release state lives in the backend: two CI deploys in a row, each from a fresh checkout
(the committed stack file), against the same backend (the fake's outputs, which, like the
program's exports, record ``activeColor`` and ``versions`` at each successful ``up``)."""

from __future__ import annotations

import json
import os

import pytest

from testkit.fake_pulumi import install_fake_pulumi, read_stack, run_script, write_stack
from testkit.ports import free_port
from togather_deploy.config.model import load_config
from togather_deploy.ops.release_state import Deployed, drift, from_outputs

STACK = "test"


@pytest.fixture
def project(tmp_path):
    project_dir = str(tmp_path / "project")
    write_stack(project_dir, STACK, {
        "environment": "development", "activeColor": "blue", "image": "togather-demo-app",
        "blue": {"version": "v1.0.0", "hostPort": free_port()}, "green": {"hostPort": free_port()},
        "stateDir": "state"})
    return project_dir


def _stack_file(project: str) -> str:
    return os.path.join(project, f"Pulumi.{STACK}.yaml")


def test_second_ci_deploy_in_a_row_starts_from_the_deployed_state(project, tmp_path):
    fake = install_fake_pulumi(str(tmp_path / "fake"))
    with open(_stack_file(project)) as fh:
        committed = fh.read()
    first = run_script(fake, "deploy", STACK, "v1.1.0", "--project-dir", project)
    assert first.returncode == 0, first.stdout + first.stderr
    with open(_stack_file(project), "w") as fh:  # the next CI run: a fresh checkout
        fh.write(committed)
    calls_before = len(fake.calls())
    second = run_script(fake, "deploy", STACK, "v1.2.0", "--project-dir", project)
    assert second.returncode == 0, second.stdout + second.stderr
    assert fake.verbs()[calls_before:] == [
        "config", "stack output",
        "config set togather:green.version=v1.1.0", "config set togather:activeColor=green",
        "config",  # the synced stack file, read again with its secrets
        "config set togather:blue.version=v1.2.0", "up", "stack output",  # the idle colour: blue
        "config set togather:activeColor=blue", "up", "stack output"]
    assert "stack file said activeColor = blue, the deployed stack green: using green" in second.stdout
    assert "deployed v1.2.0 on test: traffic green → blue" in second.stdout
    stack = read_stack(project, STACK)
    assert (stack["activeColor"], stack["blue"]["version"], stack["green"]["version"]) == \
        ("blue", "v1.2.0", "v1.1.0")
    outputs = json.loads(run_script(fake, "status", STACK, "--project-dir", project, "--json").stdout)
    assert outputs["active_color_config"] == "blue"


def test_rollback_from_a_fresh_checkout_goes_back_to_the_deployed_previous_colour(project, tmp_path):
    fake = install_fake_pulumi(str(tmp_path / "fake"))
    with open(_stack_file(project)) as fh:
        committed = fh.read()
    assert run_script(fake, "deploy", STACK, "v1.1.0", "--project-dir", project).returncode == 0
    with open(_stack_file(project), "w") as fh:
        fh.write(committed)
    proc = run_script(fake, "rollback", STACK, "--project-dir", project)
    # green serves v1.1.0; nothing listens on blue's port, so the gate refuses: what matters is
    # that the rollback targets blue (from the deployed state), not green (from the stale file)
    assert "blue at v1.0.0" in proc.stdout, proc.stdout + proc.stderr


def test_a_backend_that_cannot_be_read_is_refused_not_guessed(project, tmp_path):
    fake = install_fake_pulumi(str(tmp_path / "fake"))
    fake.rule("stack output", nth=1, exit=255, stderr="error: failed to load checkpoint: access denied\n")
    proc = run_script(fake, "deploy", STACK, "v1.1.0", "--project-dir", project)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "reading the deployed release state failed" in proc.stderr
    assert "pulumi login" in proc.stderr
    assert fake.verbs() == ["config", "stack output"]


def test_outputs_and_drift():
    cfg = load_config({"environment": "development", "image": "x", "activeColor": "blue",
                       "blue": json.dumps({"version": "v1"}), "green": json.dumps({"version": "v0"})},
                      project="togather-deploy", stack=STACK, project_dir="/p")
    assert from_outputs({}) is None  # never deployed: the stack file as it is
    assert from_outputs({"activeColor": "purple", "versions": {}}) is None
    deployed = from_outputs({"activeColor": "green", "versions": {"blue": "v1", "green": "v2"}})
    assert deployed == Deployed("green", {"blue": "v1", "green": "v2"})
    assert drift(cfg, deployed) == [("green.version", "v2", True), ("activeColor", "green", False)]
    assert drift(cfg, Deployed("blue", {"blue": "v1", "green": "v0"})) == []
