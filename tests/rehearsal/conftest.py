"""The release rehearsal's fixtures: a real Docker engine, local images, throwaway stacks.

When the engine cannot start or the images cannot be built, every rehearsal
test is *skipped with the reason* (never passed); the rest of the suite runs.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from testkit import docker
from testkit.images import ImageBuildError
from tests.rehearsal.app_images import RehearsalImages, ensure_images
from tests.rehearsal.stack import Rehearsal
from togather_deploy.errors import DeployError

APP_VERSIONS = {"v1": "v1", "v2": "v2", "v3": "v2"}
"""Image tag → version it answers: ``v3`` is a mislabelled build (the wrong-version drill)."""


@pytest.fixture(scope="session")
def rehearsal_images() -> RehearsalImages:
    reason = docker.engine_unavailable()
    if reason is not None:
        pytest.skip(reason)
    try:
        return ensure_images(APP_VERSIONS)
    except (ImageBuildError, DeployError) as exc:
        pytest.skip(f"cannot build the rehearsal images: {exc}")


@pytest.fixture(scope="module")
def stack(rehearsal_images: RehearsalImages) -> Iterator[Rehearsal]:
    """A fresh stack for the module (its own network, volume, ports, state dir)."""
    r = Rehearsal(rehearsal_images)
    try:
        yield r
    finally:
        r.teardown()
