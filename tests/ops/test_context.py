"""The pulumi commands the operator verbs run, as data, and the one failure → exit-code mapping."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
import traceback

from testkit.fake_pulumi import install_fake_pulumi
from togather_deploy import ROOT
from togather_deploy.commands.runner import Result
from togather_deploy.errors import (
    EXIT_CONFIG,
    EXIT_HEALTH,
    EXIT_LOCKED,
    EXIT_MIGRATION,
    ConfigError,
    DeployError,
    HealthError,
    MigrationError,
    SnapshotError,
    SwitchError,
)
from togather_deploy.ops.context import (
    OpsContext,
    classify_failure,
    config_set_argv,
    failure_reason,
    pulumi_checked,
    save_output,
    stack_output_argv,
    streaming_pulumi,
    up_argv,
)

CTX = OpsContext(project_dir="/srv/deploy", stack="production")


def test_argv_builders():
    assert config_set_argv(CTX, "green.version", "v1.5.0", path=True) == (
        "pulumi", "config", "set", "--path", "togather:green.version", "v1.5.0",
        "--stack", "production", "--cwd", "/srv/deploy", "--non-interactive")
    assert config_set_argv(CTX, "activeColor", "green")[3:5] == ("togather:activeColor", "green")
    assert up_argv(CTX)[:4] == ("pulumi", "up", "--yes", "--skip-preview")
    assert stack_output_argv(CTX)[:4] == ("pulumi", "stack", "output", "--json")


def test_classify_failure_is_the_one_mapping():
    assert classify_failure("error: [togather:health] x") == EXIT_HEALTH
    assert classify_failure("error: [togather:switch] x") == EXIT_HEALTH
    assert classify_failure("HealthError: slot never healthy") == EXIT_HEALTH
    assert classify_failure("error: [togather:migration] x\n[togather:health] later") == EXIT_MIGRATION
    assert classify_failure("raise MigrationError(...)") == EXIT_MIGRATION
    assert classify_failure("[togather:config] blue.version") == EXIT_CONFIG
    assert classify_failure("[togather:lock] held") == EXIT_LOCKED
    assert classify_failure("error: health of the dog") == 1



def _engine_output(exc: BaseException) -> str:
    """What ``pulumi up`` prints for a dynamic provider that raised ``exc``: the provider host
    sends ``traceback.format_exc()`` (pulumi/dynamic/__main__.py) and the CLI indents it."""
    try:
        raise exc
    except BaseException:
        text = traceback.format_exc()
    body = "\n".join("      " + line for line in text.splitlines())
    return f"  togather:deploy:Slot (green-gate):\n    error: Exception calling application:\n{body}\n"


def test_classify_real_provider_tracebacks():
    assert classify_failure(_engine_output(HealthError("green never healthy"))) == EXIT_HEALTH
    assert classify_failure(_engine_output(SwitchError("not verified"))) == EXIT_HEALTH
    assert classify_failure(_engine_output(MigrationError("000050 failed"))) == EXIT_MIGRATION
    assert classify_failure(_engine_output(ConfigError("files changed"))) == EXIT_CONFIG
    assert classify_failure(_engine_output(SnapshotError("disk full"))) == 1


def test_pulumi_checked_raises_with_the_mapped_code_and_the_error_lines():
    def failing(argv):
        return Result(tuple(argv), 255, "Updating\n  ok line\n", "error: [togather:migration] boom\n")

    ctx = OpsContext(project_dir="/p", stack="s", pulumi=failing)
    try:
        pulumi_checked(ctx, up_argv(ctx), "pulumi up")
    except DeployError as exc:
        assert exc.exit_code == EXIT_MIGRATION
        assert exc.context["output"] == "error: [togather:migration] boom"
    else:
        raise AssertionError("pulumi_checked did not raise")
    assert failure_reason("a\nb\nc", limit=2) == "b\nc"  # no error line: the tail


def test_streaming_runner_echoes_and_captures(tmp_path, monkeypatch):
    fake = install_fake_pulumi(str(tmp_path))
    fake.rule("up", exit=255, stdout="Updating (s):\n  + app-green created\n",
              stderr="error: [togather:health] green\n")
    for name in ("PATH", "FAKE_PULUMI_LOG", "FAKE_PULUMI_PLAN"):
        monkeypatch.setenv(name, fake.env()[name])
    echo = io.StringIO()
    result = streaming_pulumi(echo)(up_argv(CTX))
    assert result.returncode == 255 and "app-green created" in result.stdout
    assert "[togather:health]" in result.stderr
    assert echo.getvalue() == "    │ Updating (s):\n    │   + app-green created\n"


_INTERRUPTED = r"""
import sys
from togather_deploy.ops.context import OpsContext, streaming_pulumi, up_argv
print("running", flush=True)
try:
    streaming_pulumi(None)(up_argv(OpsContext(project_dir=sys.argv[1], stack="s")))
except KeyboardInterrupt:
    print("interrupted", flush=True)
"""


def test_ctrl_c_is_forwarded_to_pulumi_as_one_sigint(tmp_path):
    """pulumi runs in its own process group: our Ctrl-C must reach it as a clean cancel."""
    fake = install_fake_pulumi(str(tmp_path))
    fake.rule("up", sleep=30)
    proc = subprocess.Popen([sys.executable, "-c", _INTERRUPTED, str(tmp_path)], cwd=ROOT,
                            env={**fake.env(), "PYTHONPATH": ROOT}, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "running"
    deadline = time.monotonic() + 20
    while not fake.calls() and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=60)
    assert "interrupted" in out
    assert [c["verb"] for c in fake.calls()] == ["up", "<SIGINT>"]


def test_a_failed_commands_log_never_follows_a_planted_symlink(tmp_path):
    logs = tmp_path / "logs"
    logs.mkdir(mode=0o700)
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    ctx = OpsContext(project_dir="/p", stack="s", clock=lambda: 1_800_000_000.0, log_dir=str(logs))
    (logs / "pulumi-s-20270115T080000Z.log").symlink_to(victim)
    assert save_output(ctx, ("pulumi", "up"), "boom") is None  # not kept, and not followed
    assert victim.read_text() == "precious\n"
    os.chmod(logs, 0o777)
    (logs / "pulumi-s-20270115T080000Z.log").unlink()
    assert save_output(ctx, ("pulumi", "up"), "boom") is None  # a directory others can write
    assert os.listdir(logs) == []
