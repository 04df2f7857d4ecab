"""``scripts/deploy`` and its lock: a second deploy exits 3 naming the holder; a SIGKILLed one
frees the lock for the next. Real flock held by real processes, a fake ``pulumi`` on PATH."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time

from tests.cli.conftest import STACK, events, run_deploy
from togather_deploy import ROOT
from togather_deploy.errors import EXIT_LOCKED
from togather_deploy.ops import lock


def test_concurrent_deploy_exits_3_naming_the_holder(project, fake):
    fake.rule("up", nth=1, sleep=4)
    first = subprocess.Popen([os.path.join(ROOT, "scripts", "deploy"), STACK, "v1.1.0",
                              "--project-dir", project], env=fake.env(), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    try:
        state = os.path.join(project, "state")
        deadline = time.monotonic() + 30
        while not lock.inspect(state, STACK, now=time.time()).held and time.monotonic() < deadline:
            time.sleep(0.05)
        second = run_deploy(fake, project, "v1.2.0")
        assert second.returncode == EXIT_LOCKED, second.stdout + second.stderr
        assert f"pid {first.pid}" in second.stderr and "v1.1.0" in second.stderr
        assert "since" in second.stderr
    finally:
        out, err = first.communicate(timeout=60)
    assert first.returncode == 0, out + err
    assert "v1.2.0" not in json.dumps(fake.calls())  # the refused deploy touched nothing


def test_sigkilled_deploy_frees_the_lock_for_the_next(project, fake):
    fake.rule("up", nth=1, sleep=30)
    first = subprocess.Popen([os.path.join(ROOT, "scripts", "deploy"), STACK, "v1.1.0",
                              "--project-dir", project], env=fake.env(), stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, start_new_session=True)
    state = os.path.join(project, "state")
    deadline = time.monotonic() + 30
    while "up" not in fake.verbs() and time.monotonic() < deadline:  # mid-release
        time.sleep(0.05)
    assert lock.inspect(state, STACK, now=time.time()).held
    os.killpg(first.pid, signal.SIGKILL)  # the deploy and its pulumi child, mid-release
    first.wait(timeout=10)
    assert not lock.inspect(state, STACK, now=time.time()).held
    again = run_deploy(fake, project, "v1.1.0")
    assert again.returncode == 0, again.stdout + again.stderr
    assert events(project) == ["deployment.started", "deployment.started", "deployment.completed"]
