"""The world of the ``scripts/deploy`` tests: a stack file, a webhook receiver, a fake ``pulumi``."""

from __future__ import annotations

import os

import pytest

from testkit.fake_pulumi import install_fake_pulumi, run_script, write_stack
from testkit.ports import free_port
from testkit.receiver import Receiver
from togather_deploy.ops import audit

STACK = "test"


@pytest.fixture
def hook():
    with Receiver() as rec:
        yield rec


@pytest.fixture
def project(tmp_path, hook):
    project_dir = str(tmp_path / "project")
    write_stack(project_dir, STACK, {
        "environment": "development", "activeColor": "blue", "image": "togather-demo-app",
        "blue": {"version": "v1.0.0", "hostPort": free_port()}, "green": {"hostPort": free_port()},
        "stateDir": "state", "notify": {"webhookUrl": hook.url + "/hook", "retries": 0, "timeoutSeconds": 2}})
    return project_dir


@pytest.fixture
def fake(tmp_path):
    return install_fake_pulumi(str(tmp_path / "fake"))


def run_deploy(fake, project_dir, *args):
    return run_script(fake, "deploy", STACK, *args, "--project-dir", project_dir)


def events(project_dir):
    return [e["event"] for e in audit.read_events(os.path.join(project_dir, "state"))]


def metrics(project_dir):
    with open(os.path.join(project_dir, "state", "metrics", "togather_deploy.prom")) as fh:
        return fh.read()
