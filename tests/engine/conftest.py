"""Engine tests: the real Pulumi CLI and engine (``scripts/build-engine``) run real programs.

When the engine is not built, or a resource plugin a test needs could not be built here, the
test is *skipped with the reason* (never passed); ``test_skips.py`` checks that the reason is
reported.
"""

from __future__ import annotations

import pytest

from testkit.engine import Engine, find_engine


@pytest.fixture(scope="session")
def engine() -> Engine:
    found = find_engine()
    if isinstance(found, str):
        pytest.skip(found)
    return found
