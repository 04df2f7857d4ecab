"""``scripts/up``: the one command that brings up a stack, run for real with fake CLIs on PATH."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from tests.support.program import ROOT

FAKE = """#!/bin/sh
echo "$(basename "$0") $*" >> "{log}"
case "$(basename "$0") $1" in
  "pulumi whoami") exit 1 ;;
  "docker info") exit {docker_rc} ;;
esac
exit 0
"""


def make_project(tmp_path: Path, *, with_pulumi: bool = True, docker_rc: int = 0) -> tuple[Path, Path]:
    project = tmp_path / "project"
    (project / "scripts").mkdir(parents=True)
    shutil.copy(os.path.join(ROOT, "scripts", "up"), project / "scripts" / "up")
    for name in ("Pulumi.dev.yaml", "Pulumi.production.yaml"):
        shutil.copy(os.path.join(ROOT, name), project / name)
    (project / "requirements.txt").write_text("")  # nothing to install: keep the test offline
    # A venv that exists already (creating one is Python's business, not ours).
    (project / "venv" / "bin").mkdir(parents=True)
    pip = project / "venv" / "bin" / "pip"
    pip.write_text("#!/bin/sh\nexit 0\n")
    (project / "venv" / "bin" / "python").write_text("#!/bin/sh\nexit 0\n")
    bindir = tmp_path / "bin"
    bindir.mkdir()
    log = tmp_path / "calls.log"
    tools = ["pulumi", "docker"] if with_pulumi else ["docker"]
    for tool in tools:
        path = bindir / tool
        path.write_text(FAKE.format(log=log, docker_rc=docker_rc))
        path.chmod(path.stat().st_mode | stat.S_IEXEC)
    for f in (pip, project / "venv" / "bin" / "python"):
        f.chmod(0o755)
    return project, bindir


def run_up(project: Path, bindir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PULUMI_")}
    env["PATH"] = f"{bindir}:/usr/bin:/bin"
    return subprocess.run([str(project / "scripts" / "up"), *args], cwd=project, env=env,
                          capture_output=True, text=True, timeout=60)


def test_dev_stack_logs_in_locally_selects_and_runs_up(tmp_path: Path) -> None:
    project, bindir = make_project(tmp_path)
    result = run_up(project, bindir)
    assert result.returncode == 0, result.stderr
    calls = (tmp_path / "calls.log").read_text().splitlines()
    assert f"pulumi login file://{project}/.pulumi" in calls
    assert "pulumi stack select --create dev" in calls
    assert calls[-1] == f"pulumi up --stack dev --policy-pack {project}/policy"
    passphrase = project / ".pulumi" / "dev-passphrase"
    assert stat.S_IMODE(passphrase.stat().st_mode) == 0o600


def test_missing_pulumi_stops_at_once_saying_how_to_install(tmp_path: Path) -> None:
    project, bindir = make_project(tmp_path, with_pulumi=False)
    result = run_up(project, bindir)
    assert result.returncode == 1
    assert "Pulumi CLI is not installed" in result.stderr and "get.pulumi.com" in result.stderr


def test_missing_docker_engine_stops_at_once(tmp_path: Path) -> None:
    project, bindir = make_project(tmp_path, docker_rc=1)
    result = run_up(project, bindir)
    assert result.returncode == 1 and "no Docker engine answers" in result.stderr
    assert "pulumi up" not in (tmp_path / "calls.log").read_text()


def test_production_needs_a_passphrase(tmp_path: Path) -> None:
    project, bindir = make_project(tmp_path)
    result = run_up(project, bindir, "production")
    assert result.returncode == 10 and "PULUMI_CONFIG_PASSPHRASE" in result.stderr


@pytest.mark.parametrize("stack", ["nosuch"])
def test_unknown_stack_is_a_config_error(tmp_path: Path, stack: str) -> None:
    project, bindir = make_project(tmp_path)
    result = run_up(project, bindir, stack)
    assert result.returncode == 10 and "no stack file Pulumi.nosuch.yaml" in result.stderr
