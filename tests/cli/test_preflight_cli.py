"""The releasing scripts' pre-flight, and no traceback ever: the real ``scripts/…`` run as an
unprivileged user (``runuser -u nobody``), without ``pulumi`` on PATH, without a passphrase,
without a Docker engine, and with migrations of another release. Each is refused with exit 10
and the fix before the lock is taken or anything is written."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator

import pytest

from testkit.fake_pulumi import FakePulumi, install_fake_pulumi, run_script, write_stack
from testkit.ports import free_port
from togather_deploy import ROOT

STACK = "test"


@pytest.fixture
def world() -> Iterator[tuple[str, FakePulumi]]:
    # world-readable (0755), unlike pytest's tmp_path: `nobody` must be able to read the project
    base = tempfile.mkdtemp(prefix="togather-preflight-")
    os.chmod(base, 0o755)
    project = os.path.join(base, "project")
    write_stack(project, STACK, {
        "environment": "development", "activeColor": "blue", "image": "togather-demo-app",
        "blue": {"version": "v1.0.0", "hostPort": free_port()}, "green": {"hostPort": free_port()},
        "stateDir": "state"})
    fake = install_fake_pulumi(os.path.join(base, "fake"))
    for top, dirs, files in os.walk(base):  # readable by nobody whatever the umask (077 on some hosts)
        for path in [os.path.join(top, n) for n in dirs + files]:
            os.chmod(path, 0o755 if os.stat(path).st_mode & 0o100 else 0o644)
    try:
        yield project, fake
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _nothing_happened(project: str, fake: FakePulumi) -> None:
    assert fake.calls() == []
    assert not os.path.exists(os.path.join(project, "state", "audit.log"))
    assert not os.path.exists(os.path.join(project, "state", "locks"))


def _run(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120, check=False)


def test_unprivileged_operator_gets_the_fix_not_a_traceback(world) -> None:
    project, fake = world
    if os.geteuid() != 0 or shutil.which("runuser") is None:
        pytest.fail("needs root and runuser to run the scripts as nobody (run scripts/test as root)")
    os.makedirs(os.path.join(project, "state"), mode=0o755)  # root's, as /var/lib/togather-deploy
    env = fake.env()
    as_nobody = ["runuser", "-u", "nobody", "--", "env", *(f"{k}={v}" for k, v in env.items()
                                                           if k in ("PATH", "FAKE_PULUMI_LOG",
                                                                    "FAKE_PULUMI_PLAN",
                                                                    "PULUMI_CONFIG_PASSPHRASE"))]
    script = os.path.join(ROOT, "scripts", "deploy")
    proc = _run([*as_nobody, script, STACK, "v1.1.0", "--project-dir", project], env)
    assert proc.returncode == 10, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    assert f"the state directory {project}/state is not writable by nobody" in proc.stderr
    assert "fix: run as the user that owns it" in proc.stderr
    _nothing_happened(project, fake)
    # a verb without a pre-flight (status only reads) still renders a refusal, never crashes
    os.chmod(os.path.join(project, "state"), 0o700)
    proc = _run([*as_nobody, os.path.join(ROOT, "scripts", "status"), STACK,
                 "--project-dir", project], env)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert f"error: permission denied: {project}/state/" in proc.stderr
    assert "fix: run as the user that owns the stack's state" in proc.stderr


def test_without_pulumi_on_path(world) -> None:
    project, fake = world
    os.remove(os.path.join(fake.bin_dir, "pulumi"))
    env = fake.env()
    env["PATH"] = f"{fake.bin_dir}:/usr/bin:/bin"
    proc = run_script(None, "deploy", STACK, "v1.1.0", "--project-dir", project, env=env)
    assert proc.returncode == 10, proc.stdout + proc.stderr
    assert "the Pulumi CLI (`pulumi`) is not on PATH" in proc.stderr
    assert "get.pulumi.com" in proc.stderr and "Traceback" not in proc.stderr
    _nothing_happened(project, fake)


@pytest.mark.parametrize("verb", ["deploy", "rollback"])
def test_without_a_passphrase(world, verb: str) -> None:
    project, fake = world
    env = fake.env()
    env.pop("PULUMI_CONFIG_PASSPHRASE")
    args = [STACK, "v1.1.0"] if verb == "deploy" else [STACK]
    proc = run_script(None, verb, *args, "--project-dir", project, env=env)
    assert proc.returncode == 10, proc.stdout + proc.stderr
    assert "no passphrase for stack test's secrets" in proc.stderr
    _nothing_happened(project, fake)
    env["PULUMI_CONFIG_PASSPHRASE_FILE"] = os.path.join(project, "no-such-file")
    proc = run_script(None, verb, *args, "--project-dir", project, env=env)
    assert proc.returncode == 10 and "names no readable file" in proc.stderr, proc.stderr
    _nothing_happened(project, fake)


def test_without_a_docker_engine(world) -> None:
    project, fake = world
    os.remove(os.path.join(fake.bin_dir, "docker"))
    env = fake.env()
    env["DOCKER_HOST"] = "unix:///nonexistent/docker.sock"  # the real CLI, or none: no engine
    proc = run_script(None, "deploy", STACK, "v1.1.0", "--project-dir", project, env=env)
    assert proc.returncode == 10, proc.stdout + proc.stderr
    assert "no Docker engine answers" in proc.stderr and "systemctl start docker" in proc.stderr
    _nothing_happened(project, fake)


def test_migrations_of_another_release_are_refused_and_the_right_ones_deploy(world) -> None:
    project, fake = world
    migrations = os.path.join(project, "migrations")
    os.makedirs(migrations)
    for name in ("000001_init.up.sql", "000001_init.down.sql"):
        with open(os.path.join(migrations, name), "w") as fh:
            fh.write("SELECT 1;\n")
    with open(os.path.join(migrations, "VERSION"), "w") as fh:
        fh.write("v1.0.0\n")
    proc = run_script(fake, "deploy", STACK, "v1.1.0", "--project-dir", project)
    assert proc.returncode == 10, proc.stdout + proc.stderr
    assert "belong to v1.0.0, not to v1.1.0" in proc.stderr
    assert f"echo v1.1.0 > {migrations}/VERSION" in proc.stderr
    _nothing_happened(project, fake)
    with open(os.path.join(migrations, "VERSION"), "w") as fh:
        fh.write("v1.1.0\n")
    proc = run_script(fake, "deploy", STACK, "v1.1.0", "--project-dir", project)
    assert proc.returncode == 0, proc.stdout + proc.stderr
