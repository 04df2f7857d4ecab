"""What deploy and rollback share: restore-on-failure and the ending, with a Python ``pulumi`` runner."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import time

import pytest

from testkit.fake_pulumi import install_fake_pulumi, write_stack
from togather_deploy import ROOT
from togather_deploy.cli import deploy as deploy_cli
from togather_deploy.cli.outcome import SwitchRestored, restore_active_on_failure
from togather_deploy.cli.render import Stages
from togather_deploy.commands import runner
from togather_deploy.errors import EXIT_CONFIG, EXIT_HEALTH, DeployError, HealthError
from togather_deploy.ops import audit, lock
from togather_deploy.ops.context import OpsContext

STACK = "test"


class Pulumi:
    """Records argv; ``fail`` maps the n-th call (1-based) to an exit code or an exception."""

    def __init__(self, fail: dict[int, int | BaseException] | None = None) -> None:
        self.calls: list[tuple[str, ...]] = []
        self.fail = fail or {}

    def __call__(self, argv):
        self.calls.append(tuple(argv))
        what = self.fail.get(len(self.calls))
        if isinstance(what, BaseException):
            raise what
        stdout = "{}" if "--show-secrets" in argv else ""  # the engine's config: no secrets here
        return runner.Result(tuple(argv), what or 0, stdout, "error: boom\n" if what else "")


def _ctx(project: str, pulumi: Pulumi) -> OpsContext:
    return OpsContext(project_dir=project, stack=STACK, pulumi=pulumi, out=io.StringIO(),
                      err=io.StringIO(), sleep=lambda s: None)


@pytest.fixture
def project(tmp_path):
    project = str(tmp_path / "project")
    write_stack(project, STACK, {"environment": "development", "image": "x",
                                 "blue": {"version": "v1.0.0"}, "stateDir": "state"})
    return project


def test_restore_runs_on_failure_and_keeps_the_exit_code(project):
    pulumi = Pulumi()
    ctx = _ctx(project, pulumi)
    stages = Stages(ctx.out, time.monotonic)
    with pytest.raises(SwitchRestored) as info, restore_active_on_failure(ctx, stages, "blue"):
        raise HealthError("green not verified")
    assert info.value.exit_code == EXIT_HEALTH and "traffic restored to blue" in info.value.message
    assert [c[1:6] for c in pulumi.calls] == [("config", "set", "togather:activeColor", "blue",
                                               "--stack"), ("up", "--yes", "--skip-preview",
                                                            "--stack", STACK)]


def test_nothing_restored_when_the_block_succeeds(project):
    pulumi = Pulumi()
    ctx = _ctx(project, pulumi)
    with restore_active_on_failure(ctx, Stages(ctx.out, time.monotonic), "blue"):
        pass
    assert pulumi.calls == []


def test_failed_restore_is_a_plain_failure_naming_the_manual_fix(project):
    pulumi = Pulumi(fail={2: 255})  # the restore's pulumi up fails
    ctx = _ctx(project, pulumi)
    with pytest.raises(DeployError) as info, \
            restore_active_on_failure(ctx, Stages(ctx.out, time.monotonic), "blue"):
        raise HealthError("green not verified")
    assert not isinstance(info.value, SwitchRestored) and info.value.exit_code == 1
    assert "unknown" in info.value.message and "activeColor blue" in (info.value.fix or "")


def test_interrupt_is_recorded_as_failed_without_restoring(project):
    pulumi = Pulumi(fail={7: KeyboardInterrupt()})  # during the switch's pulumi up
    result = deploy_cli.deploy(_ctx(project, pulumi), "v1.1.0")
    assert result.outcome == "failed" and result.exit_code == 1
    assert result.error is not None and "interrupted" in result.error["message"]
    # no restore
    assert [c[1] for c in pulumi.calls] == ["config", "stack", "config", "up", "stack", "config", "up"]
    state = os.path.join(project, "state")
    assert [e["event"] for e in audit.read_events(state)] == ["deployment.started",
                                                               "deployment.failed"]
    assert not lock.inspect(state, STACK, now=time.time()).held


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_ctrl_c_or_sigterm_during_deploy_cancels_pulumi_cleanly_and_is_audited(project, tmp_path, sig):
    """A terminal Ctrl-C (or a CI cancel's SIGTERM) hits the deploy's process group; pulumi,
    in its own group, gets exactly one SIGINT: a clean cancel."""
    fake = install_fake_pulumi(str(tmp_path / "fake"))
    fake.rule("up", nth=1, sleep=30)
    proc = subprocess.Popen([os.path.join(ROOT, "scripts", "deploy"), STACK, "v1.1.0", "--project-dir",
                             project], env=fake.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)
    deadline = time.monotonic() + 20
    while "up" not in fake.verbs() and time.monotonic() < deadline:
        time.sleep(0.05)
    os.killpg(proc.pid, sig)
    out, err = proc.communicate(timeout=90)
    assert proc.returncode == 1, out + err
    assert "interrupted" in err and f"scripts/status {STACK}" in err
    assert fake.verbs() == ["config", "stack output", "config set togather:green.version=v1.1.0", "up",
                            "<SIGINT>"]
    state = os.path.join(project, "state")
    assert [e["event"] for e in audit.read_events(state)][-1] == "deployment.failed"
    assert not lock.inspect(state, STACK, now=time.time()).held


@pytest.mark.parametrize(("item", "name"), [
    ({"version": 4.0, "name": "add_venue"}, "000004_add_venue"),  # what the real engine returns
    ({"version": 4, "name": "add_venue"}, "000004_add_venue"),
    ("000007_x", "000007_x"),
])
def test_applied_migrations_are_named_like_their_files(item, name) -> None:
    from togather_deploy.cli.outcome import _migration_name

    assert _migration_name(item) == name


def test_a_deploy_that_cannot_audit_safely_changes_nothing(project, tmp_path):
    """A symlink planted at audit.log: refused (exit 10) before any pulumi command runs."""
    state = os.path.join(project, "state")
    os.makedirs(state, mode=0o700)
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    os.symlink(victim, os.path.join(state, "audit.log"))
    pulumi = Pulumi()
    with pytest.raises(DeployError) as info:
        deploy_cli.deploy(_ctx(project, pulumi), "v1.1.0")
    assert info.value.exit_code == EXIT_CONFIG and "is a symlink" in str(info.value)
    # only reads ran (the engine's config, the deployed state): nothing changed
    assert [c[1] for c in pulumi.calls] == ["config", "stack"] and victim.read_text() == "precious\n"
    assert not lock.inspect(state, STACK, now=time.time()).held


def test_an_audit_log_symlinked_mid_deploy_is_reported_not_raised(project, tmp_path):
    """``finish`` never raises: the deploy's outcome stands, the refusal is a note."""
    state = os.path.join(project, "state")
    victim = tmp_path / "victim"
    victim.write_text("precious\n")

    class Planting(Pulumi):
        def __call__(self, argv):
            if argv[1] == "up" and all(c[1] != "up" for c in self.calls):  # after "started"
                os.replace(os.path.join(state, "audit.log"), str(tmp_path / "moved.log"))
                os.symlink(victim, os.path.join(state, "audit.log"))
            return super().__call__(argv)

    out = io.StringIO()
    ctx = OpsContext(project_dir=project, stack=STACK, pulumi=Planting(), out=out,
                     err=io.StringIO(), sleep=lambda s: None)
    result = deploy_cli.deploy(ctx, "v1.1.0")
    assert result.outcome == "completed" and result.exit_code == 0
    assert "audit log not written" in out.getvalue() and "is a symlink" in out.getvalue()
    assert victim.read_text() == "precious\n"
