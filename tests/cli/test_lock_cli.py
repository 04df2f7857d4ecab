"""``scripts/lock status|release``: a real holder process, confirmation, --yes, --json."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from testkit.fake_pulumi import install_fake_pulumi, run_script, write_stack
from togather_deploy import ROOT
from togather_deploy.ops import lock

STACK = "test"
_HOLDER = r"""
import sys, time
from togather_deploy.ops import lock
with lock.stack_lock(sys.argv[1], "test", version="v7.7.7", clock=lambda: time.time() - 3600):
    print("held", flush=True)
    time.sleep(60)
"""


@pytest.fixture
def project(tmp_path):
    project = str(tmp_path / "project")
    write_stack(project, STACK, {"environment": "development", "image": "x",
                                 "blue": {"version": "v1"}, "stateDir": "state"})
    return project


@pytest.fixture
def holder(project):
    proc = subprocess.Popen([sys.executable, "-c", _HOLDER, os.path.join(project, "state")],
                            cwd=ROOT, stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": ROOT})
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    yield proc
    proc.kill()
    proc.wait(timeout=10)


def run_lock(project, *args, stdin=""):
    return subprocess.run([os.path.join(ROOT, "scripts", "lock"), *args, STACK, "--project-dir",
                           project], input=stdin, capture_output=True, text=True, timeout=60,
                          check=False)


def test_status_free_then_held_and_stale(project, holder):
    proc = run_lock(project, "status")
    assert proc.returncode == 0
    assert "locked by" in proc.stdout and f"pid {holder.pid}" in proc.stdout
    assert "v7.7.7" in proc.stdout and "STALE" in proc.stdout
    data = json.loads(run_lock(project, "status", "--json").stdout)
    assert data["held"] is True and data["stale"] is True and f"pid {holder.pid}" in data["holder"]


def test_status_of_a_free_stack(project):
    proc = run_lock(project, "status")
    assert proc.returncode == 0 and "free" in proc.stdout


def test_release_asks_and_no_keeps_the_lock(project, holder):
    proc = run_lock(project, "release", stdin="n\n")
    assert proc.returncode == 1 and "[y/N]" in proc.stdout and "not released" in proc.stdout
    assert lock.inspect(os.path.join(project, "state"), STACK, now=time.time()).held


def test_release_confirmed_lets_the_next_deploy_in(project, holder):
    path = lock.lock_path(os.path.join(project, "state"), STACK)
    inode = os.stat(path).st_ino
    proc = run_lock(project, "release", stdin="yes\n")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "released" in proc.stdout and f"pid {holder.pid}" in proc.stdout
    assert os.stat(path).st_ino == inode  # freed in place: nothing unlinked under the holder
    with lock.stack_lock(os.path.join(project, "state"), STACK, version="v8"):
        holder.kill()  # the released holder exiting late does not free or clear our lock
        holder.wait(timeout=10)
        assert lock.inspect(os.path.join(project, "state"), STACK, now=time.time()).held


def test_release_yes_does_not_ask(project, holder):
    proc = run_lock(project, "release", "--yes", "--json")
    assert proc.returncode == 0
    assert json.loads(proc.stdout)["action"] == "released"


def test_release_json_without_yes_is_refused(project, holder):
    proc = run_lock(project, "release", "--json")
    assert proc.returncode == 2
    assert lock.inspect(os.path.join(project, "state"), STACK, now=time.time()).held


def test_release_of_a_free_stack_is_a_no_op(project):
    proc = run_lock(project, "release")
    assert proc.returncode == 0 and "nothing to release" in proc.stdout


def test_usage_errors(project):
    assert run_lock(project, "steal").returncode == 2


def test_deploy_takes_over_a_stale_lock_only_when_asked(project, holder, tmp_path):
    fake = install_fake_pulumi(str(tmp_path / "fake"))
    refused = run_script(fake, "deploy", STACK, "v2.0.0", "--project-dir", project)
    assert refused.returncode == 3 and "STALE" in refused.stderr and "--take-over-stale" in refused.stderr
    assert fake.calls() == []
    taken = run_script(fake, "deploy", STACK, "v2.0.0", "--take-over-stale", "--project-dir", project)
    assert taken.returncode == 0, taken.stdout + taken.stderr
    assert holder.poll() is None  # the hung holder was not touched; it keeps a slot nobody checks
