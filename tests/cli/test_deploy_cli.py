"""``scripts/deploy``: the real shim and verb against a recording fake ``pulumi`` on PATH.

Everything below ``pulumi`` is real: the stack file is edited and re-read, the
lock is a real flock held by real processes, the audit log, the metrics file
and the webhook notification (a real local HTTP receiver) are written for real.
"""

from __future__ import annotations

import glob
import io
import json
import os
import re
import subprocess
import time

import pytest

from testkit.fake_pulumi import read_stack, write_stack
from testkit.ports import free_port
from tests.cli.conftest import STACK, events, metrics, run_deploy
from togather_deploy import ROOT
from togather_deploy.cli import deploy as deploy_cli
from togather_deploy.commands import runner
from togather_deploy.errors import EXIT_CONFIG, EXIT_HEALTH, EXIT_MIGRATION
from togather_deploy.ops import audit, lock
from togather_deploy.ops.context import OpsContext


def test_deploy_releases_on_idle_then_switches(project, fake, hook):
    fake.set_outputs({"migrationsApplied": [{"version": 50, "name": "add_series", "durationS": 0.2}],
                      "snapshotPath": "/snap/1.dump"})
    proc = run_deploy(fake, project, "v1.1.0")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert fake.verbs() == ["config", "stack output", "config set togather:green.version=v1.1.0", "up",
                            "stack output", "config set togather:activeColor=green", "up", "stack output"]
    first = fake.calls()[2]["argv"]
    assert "--path" in first and first[first.index("--stack") + 1] == STACK
    assert all(c["cwd"] == project for c in fake.calls())  # the API runs pulumi in the project
    up = fake.calls()[3]["argv"]
    assert [a for a in up if a != "--non-interactive"][:3] == ["up", "--yes", "--skip-preview"]
    assert any(a.startswith("tcp://127.0.0.1:") for a in up)  # the structured event stream
    # the safety policies run on the release path too, from the tool's own directory
    assert all(c["argv"][c["argv"].index("--policy-pack") + 1] == os.path.join(ROOT, "policy")
               for c in fake.calls() if c["verb"] == "up")
    stack = read_stack(project, STACK)
    assert stack["activeColor"] == "green" and stack["green"]["version"] == "v1.1.0"
    for stage in ("lock", "set-version", "release-idle", "set-active", "switch"):
        assert re.search(rf"^  ✓ {stage} +[0-9]+\.[0-9]s$", proc.stdout, re.M), stage
    assert "traffic blue → green" in proc.stdout
    assert events(project) == ["deployment.started", "deployment.completed"]
    done = audit.read_events(os.path.join(project, "state"))[-1]
    assert done["migrations_applied"] == ["000050_add_series"] and done["snapshot"] == "/snap/1.dump"
    assert set(done["stages"]) >= {"set-version", "release-idle", "set-active", "switch"}
    text = metrics(project)
    assert 'togather_deploy_active_color{color="green"} 1' in text
    assert "togather_deploy_last_success 1" in text
    assert 'togather_deploy_version_info{color="green",version="v1.1.0"} 1' in text
    (note,) = [r["body"] for r in hook.requests]
    assert note["event"] == "deployment.completed" and note["to_color"] == "green"  # apprise JSON
    assert not lock.inspect(os.path.join(project, "state"), STACK, now=time.time()).held


@pytest.mark.parametrize(("marker", "code"), [("[togather:health] green did not become healthy",
                                               EXIT_HEALTH),
                                              ("[togather:migration] 000050 failed", EXIT_MIGRATION),
                                              ("something else broke", 1)])
def test_release_failure_maps_to_exit_code_and_never_switches(project, fake, marker, code):
    fake.rule("up", nth=1, exit=255, stdout=f"error: Exception: {marker}\n")
    proc = run_deploy(fake, project, "v1.1.0")
    assert proc.returncode == code, proc.stdout + proc.stderr
    assert fake.verbs() == ["config", "stack output", "config set togather:green.version=v1.1.0", "up"]
    assert read_stack(project, STACK)["activeColor"] == "blue"
    assert events(project) == ["deployment.started", "deployment.failed"]
    assert marker in proc.stderr and "traffic stays on blue" in proc.stdout
    (log,) = os.listdir(os.path.join(project, "state", "logs"))  # the whole output, kept private
    with open(os.path.join(project, "state", "logs", log)) as fh:
        assert marker in fh.read()
    assert log in proc.stderr
    assert "togather_deploy_last_success 0" in metrics(project)


def test_failed_switch_restores_the_previous_colour(project, fake, hook):
    fake.rule("up", nth=2, exit=255, stdout="error: [togather:switch] /version answered blue\n")
    proc = run_deploy(fake, project, "v1.1.0")
    assert proc.returncode == EXIT_HEALTH, proc.stdout + proc.stderr
    assert fake.verbs()[-5:] == ["config set togather:activeColor=green", "up",
                                 "config set togather:activeColor=blue", "up", "stack output"]
    assert read_stack(project, STACK)["activeColor"] == "blue"
    assert events(project) == ["deployment.started", "deployment.rolled_back"]
    assert "✓ restore" in proc.stdout and "traffic restored to blue" in proc.stdout
    assert 'togather_deploy_active_color{color="blue"} 1' in metrics(project)
    assert hook.requests[0]["body"]["event"] == "deployment.rolled_back"


def test_failed_restore_says_state_is_unknown(project, fake):
    fake.rule("up", nth=2, exit=255, stdout="error: [togather:switch] no answer\n")
    fake.rule("up", nth=3, exit=255, stdout="error: docker daemon went away\n")
    proc = run_deploy(fake, project, "v1.1.0")
    assert proc.returncode == 1
    assert "unknown" in proc.stderr and "pulumi config set togather:activeColor blue" in proc.stderr
    assert events(project)[-1] == "deployment.failed"


def test_bad_config_and_usage(project, fake, tmp_path):
    assert run_deploy(fake, project, "not a tag!").returncode == 2
    for moving in ("latest", "1.5", "v1"):  # the policy pack's rule, applied before anything
        refused = run_deploy(fake, project, moving)
        assert refused.returncode == 2 and "exact release" in refused.stderr, moving
    missing = run_deploy(fake, str(tmp_path / "nowhere"), "v1.1.0")
    assert missing.returncode == EXIT_CONFIG and "Pulumi.test.yaml" in missing.stderr
    with open(os.path.join(project, f"Pulumi.{STACK}.yaml"), "a") as fh:
        fh.write("  togather:healht: {}\n")
    typo = run_deploy(fake, project, "v1.1.0")
    assert typo.returncode == EXIT_CONFIG and "healht" in typo.stderr
    assert fake.calls() == []


def test_json_output_and_no_secret_in_output(project, fake):
    fake.rule("up", nth=1, exit=255,
              stdout="error: [togather:migration] postgresql://togather:hunter2@db/x refused\n")
    proc = run_deploy(fake, project, "v1.1.0", "--json")
    assert proc.returncode == EXIT_MIGRATION
    result = json.loads(proc.stdout)
    assert result["outcome"] == "failed" and result["exit_code"] == EXIT_MIGRATION
    assert [s["name"] for s in result["stages"]] == ["lock", "set-version", "release-idle"]
    assert "hunter2" not in proc.stdout + proc.stderr
    for path in (audit.audit_path(os.path.join(project, "state")),
                 *glob.glob(os.path.join(project, "state", "logs", "*"))):
        with open(path) as fh:
            assert "hunter2" not in fh.read(), path


def test_failed_notification_never_fails_the_deploy(tmp_path, fake):
    project = str(tmp_path / "p")
    write_stack(project, STACK, {
        "environment": "development", "image": "togather-demo-app", "blue": {"version": "v1"},
        "stateDir": "state", "notify": {"ntfyUrl": f"http://127.0.0.1:{free_port()}/t", "retries": 1,
                                        "timeoutSeconds": 1}})
    proc = run_deploy(fake, project, "v2.0.0")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "ntfy notification failed after 2 attempts" in proc.stdout


def test_verb_is_a_function_of_its_context(project):
    """In process: our own pulumi runner and clocks; durations come from ctx.monotonic."""
    calls: list[tuple[str, ...]] = []
    ticks = iter(range(0, 10_000, 5))

    def pulumi(argv):
        calls.append(tuple(argv))
        return runner.Result(tuple(argv), 0, "{}" if "--json" in argv else "", "")

    out = io.StringIO()
    ctx = OpsContext(project_dir=project, stack=STACK, pulumi=pulumi, clock=lambda: 1_800_000_000.0,
                     monotonic=lambda: float(next(ticks)), out=out, err=io.StringIO(),
                     sleep=lambda s: None)
    result = deploy_cli.deploy(ctx, "v1.1.0")
    assert result.outcome == "completed" and result.exit_code == 0
    assert [s.name for s in result.stages] == ["lock", "set-version", "release-idle", "set-active",
                                               "switch"]
    assert all(s.seconds == 5.0 for s in result.stages)
    assert [c[1] for c in calls] == ["config", "stack", "config", "up", "stack", "config", "up"]
    started = audit.read_events(os.path.join(project, "state"))[0]
    assert started["ts"] == "2027-01-15T08:00:00Z"


def test_secrets_set_with_path_work_and_are_redacted_by_value(tmp_path, fake, hook):
    """`pulumi config set --secret --path` values: the scripts read them from the engine, use a
    secret webhook URL, and never show a secret value (stdout, stderr, --json, audit.log)."""
    smtp, jwt, hook_path = "smtp-S3cret-Qz81", "jwt-" + "Zx9" * 12, "/hook/T0SECRETPATH"
    project = str(tmp_path / "project")
    write_stack(project, STACK, {
        "environment": "development", "activeColor": "blue", "image": "togather-demo-app",
        "blue": {"version": "v1.0.0", "hostPort": free_port()}, "green": {"hostPort": free_port()},
        "stateDir": "state", "jwtSecret": {"secure": jwt},
        "appSecrets": {"SMTP_PASSWORD": {"secure": smtp}},
        "notify": {"webhookUrl": {"secure": hook.url + hook_path}, "retries": 0, "timeoutSeconds": 2}})
    # a provider that echoes secrets (plain text, no URL around them) in its failure
    fake.rule("up", nth=1, exit=255, stdout=f"error: [togather:health] login {smtp} / {jwt} refused\n")
    proc = run_deploy(fake, project, "v1.1.0", "--json")
    assert proc.returncode == EXIT_HEALTH, proc.stdout + proc.stderr
    assert json.loads(proc.stdout)["outcome"] == "failed"
    (note,) = hook.requests  # the secret webhook URL was learned from the engine, and used
    assert note["path"] == hook_path
    with open(os.path.join(project, "state", "audit.log")) as fh:
        audit_text = fh.read()
    for secret in (smtp, jwt, "T0SECRETPATH"):
        for where, text in (("stdout", proc.stdout), ("stderr", proc.stderr), ("audit", audit_text)):
            assert secret not in text, (secret, where)
    status = subprocess.run([os.path.join(ROOT, "scripts", "status"), STACK, "--project-dir", project,
                             "--json"], env=fake.env(), capture_output=True, text=True, timeout=60)
    assert status.returncode != EXIT_CONFIG and "must be a string" not in status.stderr
