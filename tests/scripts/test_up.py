"""``scripts/up``: the one command that brings up a stack, run for real with fake CLIs on PATH."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from testkit.program import ROOT

FAKE = """#!/bin/sh
echo "$(basename "$0") $*" >> "{log}"
case "$(basename "$0") $1" in
  "pulumi whoami") exit {whoami_rc} ;;
  "docker info") exit {docker_rc} ;;
esac
exit 0
"""


def make_project(tmp_path: Path, *, with_pulumi: bool = True, docker_rc: int = 0,
                 whoami_rc: int = 1) -> tuple[Path, Path]:
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
        path.write_text(FAKE.format(log=log, docker_rc=docker_rc, whoami_rc=whoami_rc))
        path.chmod(path.stat().st_mode | stat.S_IEXEC)
    for f in (pip, project / "venv" / "bin" / "python"):
        f.chmod(0o755)
    return project, bindir


def run_up(project: Path, bindir: Path, *args: str,
           **extra_env: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PULUMI_")}
    env["PATH"] = f"{bindir}:/usr/bin:/bin"
    env.update(extra_env)
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


def test_production_without_a_backend_is_refused_not_logged_in_locally(tmp_path: Path) -> None:
    """A real stack's state must never be created silently in a directory inside the checkout."""
    project, bindir = make_project(tmp_path)
    result = run_up(project, bindir, "production", PULUMI_CONFIG_PASSPHRASE="p")
    assert result.returncode == 10, result.stderr
    assert "no Pulumi backend is configured for stack production" in result.stderr
    assert "pulumi login file:///var/lib/togather-deploy/pulumi-state" in result.stderr
    calls = (tmp_path / "calls.log").read_text()
    assert "pulumi login" not in calls and "pulumi up" not in calls
    assert not (project / ".pulumi").exists()


@pytest.mark.parametrize(("whoami_rc", "backend"), [(0, ""), (1, "file:///srv/state")])
def test_production_with_a_backend_goes_ahead(tmp_path: Path, whoami_rc: int, backend: str) -> None:
    project, bindir = make_project(tmp_path, whoami_rc=whoami_rc)
    extra = {"PULUMI_BACKEND_URL": backend} if backend else {}
    result = run_up(project, bindir, "production", PULUMI_CONFIG_PASSPHRASE="p", **extra)
    assert result.returncode == 0, result.stderr
    calls = (tmp_path / "calls.log").read_text().splitlines()
    assert not any(c.startswith("pulumi login") for c in calls)
    assert calls[-1] == f"pulumi up --stack production --policy-pack {project}/policy"
