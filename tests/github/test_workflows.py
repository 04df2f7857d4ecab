"""The GitHub Actions workflows: actionlint (with shellcheck), the workflow JSON schema,
and the release rules the handbook promises (pinned actions, gated production, one deploy
per stack at a time, preview comments edited in place)."""

from __future__ import annotations

import glob
import http.server
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import threading
from typing import Any

import pytest
import yaml

from tests.conftest import ROOT

WORKFLOWS = sorted(glob.glob(os.path.join(ROOT, ".github", "workflows", "*.yml")))
BIN = os.path.dirname(sys.executable)
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@(v\d+\.\d+\.\d+|[0-9a-f]{40})$")


def _load(name: str) -> dict[str, Any]:
    doc: dict[Any, Any] = yaml.safe_load(_read(".github", "workflows", name))
    doc["on"] = doc.pop(True, doc.get("on"))  # YAML 1.1 reads the bare key `on` as True
    return doc


def _read(*parts: str) -> str:
    with open(os.path.join(ROOT, *parts), encoding="utf-8") as fh:
        return fh.read()


def _tool(name: str) -> str:
    path = os.path.join(BIN, name)
    if not os.path.exists(path):
        pytest.fail(f"{name} is not installed: venv/bin/pip install -r requirements.txt")
    return path


def _steps() -> list[dict[str, Any]]:
    return [step for wf in WORKFLOWS for job in _load(os.path.basename(wf))["jobs"].values()
            for step in job.get("steps", [])]


def test_the_three_workflows_exist() -> None:
    assert [os.path.basename(p) for p in WORKFLOWS] == ["deploy.yml", "preview.yml", "test.yml"]


def test_actionlint_passes() -> None:
    proc = subprocess.run([_tool("actionlint"), "-no-color", *WORKFLOWS], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_actionlint_catches_a_broken_workflow(tmp_path: Any) -> None:
    broken = tmp_path / ".github" / "workflows"
    broken.mkdir(parents=True)
    text = _read(".github", "workflows", "deploy.yml")
    (broken / "deploy.yml").write_text(text.replace("${{ inputs.version }}", "${{ inputs.verison }}"))
    shutil.copy(os.path.join(ROOT, ".github", "workflows", "test.yml"), broken)
    proc = subprocess.run([_tool("actionlint"), "-no-color", "-config-file",
                           os.path.join(ROOT, ".github", "actionlint.yaml"), str(broken / "deploy.yml")],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 1
    assert "verison" in proc.stdout


def test_github_workflow_schema_passes() -> None:
    proc = subprocess.run([_tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows",
                           *WORKFLOWS], capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_every_action_is_pinned_to_an_exact_version() -> None:
    uses = [step["uses"] for step in _steps() if "uses" in step]
    assert uses, "no actions found"
    unpinned = [u for u in uses if not u.startswith("./") and not PINNED.match(u)]
    assert unpinned == []


def test_the_pulumi_cli_matches_the_pinned_sdk() -> None:
    sdk = re.search(r"^pulumi==([\d.]+)$", _read("requirements.txt"), flags=re.MULTILINE)
    assert sdk is not None
    versions = {str(s["with"]["pulumi-version"]) for s in _steps()
                if s.get("uses", "").startswith("pulumi/actions@")}
    assert versions == {sdk.group(1)}


def test_test_workflow_runs_the_readme_command() -> None:
    wf = _load("test.yml")
    assert set(wf["on"]) == {"pull_request", "workflow_call"}
    runs = [s.get("run", "") for s in wf["jobs"]["test"]["steps"]]
    assert "scripts/test" in runs
    assert _read(".ci", "run").rstrip().endswith("exec scripts/test")


def test_preview_comments_once_per_stack_with_the_policy_pack() -> None:
    wf = _load("preview.yml")
    assert set(wf["on"]) == {"pull_request"}
    job = wf["jobs"]["preview"]
    stacks = sorted(job["strategy"]["matrix"]["stack"])
    assert stacks == ["production", "staging"]
    assert all(os.path.exists(os.path.join(ROOT, f"Pulumi.{s}.yaml")) for s in stacks)
    step = next(s for s in job["steps"] if s.get("uses", "").startswith("pulumi/actions@"))
    w = step["with"]
    assert (w["command"], w["diff"], w["comment-on-pr"], w["edit-pr-comment"]) == \
        ("preview", True, True, True)
    assert w["policyPacks"] == "policy"
    assert w["cloud-url"] == "${{ secrets.PULUMI_BACKEND_URL }}"
    assert job["env"]["PULUMI_CONFIG_PASSPHRASE"] == "${{ secrets.PULUMI_CONFIG_PASSPHRASE }}"
    assert wf["permissions"] == {"contents": "read", "pull-requests": "write"}
    assert "DOCKER_HOST" not in json.dumps(wf)  # a preview never touches the Docker host


def test_deploy_gates_production_and_serialises_each_stack() -> None:
    wf = _load("deploy.yml")
    jobs = wf["jobs"]
    assert jobs["test"]["uses"] == "./.github/workflows/test.yml"
    assert wf["on"]["push"]["branches"] == ["main"]
    assert wf["on"]["workflow_dispatch"]["inputs"]["version"]["required"] is True
    prod = jobs["production"]
    assert prod["if"] == "github.event_name == 'workflow_dispatch' && inputs.stack == 'production'"
    assert prod["environment"] == "production"
    groups = set()
    for name in ("staging", "production"):
        job = jobs[name]
        assert job["needs"] == "test"
        assert job["concurrency"] == {"group": f"deploy-{name}", "cancel-in-progress": False}
        groups.add(job["concurrency"]["group"])
        assert job["env"]["STACK"] == name
        runs = [s.get("run", "") for s in job["steps"]]
        assert 'scripts/deploy "$STACK" "$VERSION"' in runs
        notify = job["steps"][-1]
        assert (notify["if"], notify["run"]) == ("always()", ".github/notify.sh")
    assert len(groups) == 2


def test_deploy_reaches_the_state_backend_like_preview() -> None:
    """Every backend variable preview passes (URL, passphrase, bucket credentials), each deploy
    job passes too, from the same secrets: otherwise `pulumi login` to the bucket fails."""
    preview = _load("preview.yml")["jobs"]["preview"]["env"]
    backend = {k: v for k, v in preview.items() if k.startswith(("PULUMI_", "AWS_"))}
    assert {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "PULUMI_BACKEND_URL"} <= set(backend)
    for name in ("staging", "production"):
        env = _load("deploy.yml")["jobs"][name]["env"]
        assert {k: env.get(k) for k in backend} == backend, name


def test_release_state_is_read_from_the_backend_not_committed_back() -> None:
    """The decision for CI deploys: the release keys live in the backend. The workflow cannot
    and does not push a bot commit, and each deploy logs in to the backend before
    scripts/deploy (which reads the deployed state first: tests/cli/test_release_state_cli.py)."""
    wf = _load("deploy.yml")
    assert wf["permissions"] == {"contents": "read"}
    for name in ("staging", "production"):
        runs = [s.get("run", "") for s in wf["jobs"][name]["steps"]]
        assert not any(re.search(r"\bgit (commit|push)\b", r) for r in runs), name
        login = runs.index('pulumi login "$PULUMI_BACKEND_URL"')
        assert login < runs.index('scripts/deploy "$STACK" "$VERSION"'), name
    assert "release_state.sync(" in _read("togather_deploy", "cli", "release.py")  # read first


def test_deploy_command_parses_with_the_real_cli() -> None:
    from togather_deploy.cli.main import parser_for

    line = next(s["run"] for s in _load("deploy.yml")["jobs"]["production"]["steps"]
                if s.get("run", "").startswith("scripts/deploy"))
    argv = [a.replace("$STACK", "production").replace("$VERSION", "v1.4.0") for a in shlex.split(line)]
    ns = parser_for("deploy").parse_args(argv[1:])
    assert (ns.stack, ns.version) == ("production", "v1.4.0")


class _Hook(http.server.BaseHTTPRequestHandler):
    bodies: list[bytes] = []

    def do_POST(self) -> None:  # noqa: N802
        _Hook.bodies.append(self.rfile.read(int(self.headers["Content-Length"])))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def test_notify_posts_json_and_never_fails_the_job(tmp_path: Any) -> None:
    if shutil.which("curl") is None:
        pytest.fail("curl is not installed: run scripts/test, which installs it")
    server = http.server.HTTPServer(("127.0.0.1", 0), _Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    summary = tmp_path / "summary.md"
    env = {"PATH": os.environ["PATH"], "STACK": "staging", "VERSION": "v1.5.0", "RESULT": "success",
           "RUN_URL": "https://ci/run/1", "GITHUB_STEP_SUMMARY": str(summary),
           "NOTIFY_WEBHOOK_URL": f"http://127.0.0.1:{server.server_port}/hook"}
    script = os.path.join(ROOT, ".github", "notify.sh")
    try:
        assert subprocess.run([script], env=env, timeout=60, check=False,
                              capture_output=True).returncode == 0
    finally:
        server.shutdown()
        server.server_close()
    assert json.loads(_Hook.bodies[-1]) == {
        "text": "togather-deploy: staging v1.5.0 success (https://ci/run/1)"}
    assert "staging v1.5.0 success" in summary.read_text()
    env["NOTIFY_WEBHOOK_URL"] = f"http://127.0.0.1:{server.server_port}/gone"  # server stopped
    proc = subprocess.run([script], env=env, timeout=60, check=False, capture_output=True, text=True)
    assert proc.returncode == 0
    assert "notification failed" in proc.stderr
