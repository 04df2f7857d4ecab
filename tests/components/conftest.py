"""Fixtures shared by the router/traffic tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.nginx import private_dir


@pytest.fixture
def workdir() -> Iterator[str]:
    """Our own temp dir, never pruned by a concurrent pytest run (see ``private_dir``)."""
    with private_dir() as d:
        yield d
