"""``scripts/rollback STACK --to VERSION``: the kept images are real (Docker), ``pulumi`` is the fake."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from testkit.fake_pulumi import FakePulumi, install_fake_pulumi, read_stack, run_script, write_stack
from testkit.kept_images import tagged_versions
from testkit.ports import free_port
from togather_deploy.ops import audit

pytestmark = pytest.mark.docker
STACK = "test"


@pytest.fixture(scope="module")
def repo() -> Iterator[str]:
    with tagged_versions(["v1.0.0", "v1.1.0", "v1.2.0"]) as name:
        yield name


@pytest.fixture
def fake(tmp_path) -> FakePulumi:
    return install_fake_pulumi(str(tmp_path / "fake"), docker=False)  # the real docker lists images


def make_project(tmp_path, repo: str) -> str:
    d = str(tmp_path / "project")
    write_stack(d, STACK, {"environment": "development", "activeColor": "blue", "image": repo,
                           "blue": {"version": "v1.2.0", "hostPort": free_port()},
                           "green": {"version": "v1.1.0", "hostPort": free_port()},
                           "stateDir": "state", "stopIdleSlot": True})
    return d


def test_to_a_kept_version_brings_it_up_on_the_other_colour_then_switches(tmp_path, repo, fake) -> None:
    d = make_project(tmp_path, repo)
    proc = run_script(fake, "rollback", STACK, "--to", "v1.0.0", "--project-dir", d)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert fake.verbs() == ["config", "stack output", "config set togather:green.version=v1.0.0", "up",
                            "stack output",  # the API reads the outputs after each update
                            "config set togather:activeColor=green", "up", "stack output"]
    stack = read_stack(d, STACK)
    assert stack["green"]["version"] == "v1.0.0" and stack["activeColor"] == "green"
    assert "rolled back to v1.0.0" in proc.stdout
    assert [e["event"] for e in audit.read_events(os.path.join(d, "state"))] == [
        "rollback.started", "rollback.completed"]


def test_to_the_other_colours_version_is_the_plain_rollback(tmp_path, repo, fake) -> None:
    d = make_project(tmp_path, repo)
    proc = run_script(fake, "rollback", STACK, "--to", "v1.1.0", "--project-dir", d)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "config set togather:green.version=v1.1.0" not in fake.verbs()


def test_a_version_not_on_the_host_is_refused_before_anything_changes(tmp_path, repo, fake) -> None:
    d = make_project(tmp_path, repo)
    before = read_stack(d, STACK)
    proc = run_script(fake, "rollback", STACK, "--to", "v0.9.0", "--project-dir", d)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "v0.9.0 is not on this host (kept: v1.2.0, v1.1.0, v1.0.0)" in proc.stderr
    assert fake.calls() == [] and read_stack(d, STACK) == before


def test_a_moving_tag_is_a_usage_error(tmp_path, repo, fake) -> None:
    d = make_project(tmp_path, repo)
    proc = run_script(fake, "rollback", STACK, "--to", "latest", "--project-dir", d)
    assert proc.returncode == 2 and "VERSION must be" in proc.stderr


def test_a_completed_release_prunes_beyond_keep_images(tmp_path) -> None:
    """What ``scripts/deploy`` runs after a completed release (``deploy.prune_images``)."""
    import io
    import time

    from togather_deploy.cli.deploy import prune_images
    from togather_deploy.cli.render import Stages
    from togather_deploy.ops import images
    from togather_deploy.ops.context import OpsContext

    with tagged_versions(["v2.0.0", "v2.1.0", "v2.2.0", "v2.3.0"]) as name:
        d = str(tmp_path / "project")
        write_stack(d, STACK, {"environment": "development", "image": name, "keepImages": 2,
                               "blue": {"version": "v2.0.0"}, "green": {"version": "v2.3.0"},
                               "stateDir": "state"})
        out = io.StringIO()
        prune_images(OpsContext(project_dir=d, stack=STACK), Stages(out, time.monotonic))
        from togather_deploy.config.source import from_stack_file
        kept = [i.version for i in images.kept_versions(from_stack_file(d, STACK))]
    assert kept == ["v2.3.0", "v2.2.0", "v2.0.0"]  # newest two + blue's, whatever its age
    assert "images pruned: v2.1.0" in out.getvalue()
