"""The locally built base images: tags follow their content; the images hold what the specs run."""

from __future__ import annotations

import shutil

import pytest

from testkit import images
from tests.rehearsal.app_images import NGINX_JS_MODULE, RehearsalImages
from togather_deploy.commands import runner


def test_tags_are_stable_and_follow_the_dockerfiles(tmp_path, monkeypatch) -> None:
    assert images.planned_tags() == images.planned_tags()
    copy = tmp_path / "images"
    shutil.copytree(images.IMAGES_DIR, copy)
    monkeypatch.setattr(images, "IMAGES_DIR", str(copy))
    before = images.planned_tags()
    with open(copy / "nginx" / "Dockerfile", "a") as fh:
        fh.write("# a change\n")
    after = images.planned_tags()
    assert after["nginx"] != before["nginx"]  # a changed Dockerfile is rebuilt...
    assert {k: v for k, v in after.items() if k != "nginx"} == {k: v for k, v in before.items()
                                                                if k != "nginx"}  # ...alone
    for tag in after.values():
        name, _, version = tag.rpartition(":")
        assert name.startswith("togather-base/") and version.startswith("bookworm-")


def test_build_commands_need_no_registry() -> None:
    argv = images.debootstrap_argv("/tmp/rootfs")  # noqa: S108 (an argv, nothing is written)
    assert argv[:2] == ("debootstrap", "--variant=minbase") and argv[-1] == images.MIRROR
    build = images.build_argv("t:1", "ctx", build_args={"B": "2", "A": "1"})
    assert build[:5] == ("docker", "build", "--network", "host", "-q")
    assert build[-5:] == ("--build-arg", "A=1", "--build-arg", "B=2", "ctx")
    assert "pull" not in " ".join(build)


@pytest.mark.docker
@pytest.mark.slow
def test_images_carry_what_the_specs_run(rehearsal_images: RehearsalImages) -> None:
    def sh(image: str, script: str) -> str:
        return runner.run(("docker", "run", "--rm", "--entrypoint", "sh", image, "-c", script),
                          timeout=120).stdout

    tools = sh(rehearsal_images.postgres, "for t in pg_isready pg_dump psql postgres; do command -v $t; done")
    assert len(tools.split()) == 4
    assert "nginx version" in runner.run(("docker", "run", "--rm", rehearsal_images.nginx, "nginx", "-V"),
                                         timeout=120).stderr
    assert sh(rehearsal_images.nginx, f"test -f {NGINX_JS_MODULE} && echo ok").strip() == "ok"
    python = sh(rehearsal_images.python, "python3 --version && command -v wget")
    assert "Python 3" in python and python.rstrip().endswith("/wget")  # the default app health check
