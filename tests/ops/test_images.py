"""Kept app images and their pruning, on the real Docker engine (tiny images built from the
local minbase, one label each: real image ids with real creation times)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from testkit.kept_images import tagged_versions
from togather_deploy.config.model import DeployConfig, load_config
from togather_deploy.errors import DeployError
from togather_deploy.ops import images

pytestmark = pytest.mark.docker
VERSIONS = [f"v1.0.{n}" for n in range(1, 8)]


def _cfg(repo: str, blue: str) -> DeployConfig:
    return load_config({"image": repo, "blue": {"version": blue}, "environment": "test"},
                       project="togather-deploy", stack="dev", project_dir=os.path.dirname(__file__))


@pytest.fixture(scope="module")
def repo() -> Iterator[str]:
    with tagged_versions(VERSIONS) as name:
        yield name


def test_kept_versions_newest_first_and_pruning_keeps_the_newest_and_the_deployed(repo: str) -> None:
    cfg = _cfg(repo, blue="v1.0.1")  # the oldest is still a configured colour: never pruned
    assert [i.version for i in images.kept_versions(cfg)] == VERSIONS[::-1]
    images.require_kept(cfg, "v1.0.2")
    result = images.prune(cfg, keep=5)
    assert result.removed == ("v1.0.2",) and result.refused == ()
    assert [i.version for i in images.kept_versions(cfg)] == [*VERSIONS[:1:-1], "v1.0.1"]
    assert images.prune(cfg, keep=5).removed == ()  # idempotent
    with pytest.raises(DeployError, match=r"v1\.0\.2 is not on this host \(kept: v1\.0\.7") as exc:
        images.require_kept(cfg, "v1.0.2")
    assert "scripts/deploy dev v1.0.2" in (exc.value.fix or "")


def test_plan_is_pure() -> None:
    kept = [images.KeptImage(v, "id", f"2026-12-0{n}", "1MB") for n, v in enumerate(["c", "b", "a"], 1)]
    assert images.prune_plan(kept, 1, {"a"}) == ["b"]
    assert images.prune_plan(kept, 5, set()) == []
