"""Tiny app images on the real Docker engine, one per version, for the kept-images tests.

Each is the local minbase plus one label, so every version is a distinct image with its own
creation time (``docker image ls`` sorts them as a real release history would).
"""

from __future__ import annotations

import contextlib
import subprocess
import uuid
from collections.abc import Iterator, Sequence

import pytest

from testkit.docker import engine_unavailable
from testkit.images import minbase_tag


@contextlib.contextmanager
def tagged_versions(versions: Sequence[str]) -> Iterator[str]:
    """A fresh repository holding ``versions`` (built oldest first); removed afterwards."""
    reason = engine_unavailable()
    if reason:
        pytest.skip(reason)
    base = minbase_tag()
    if subprocess.run(["docker", "image", "inspect", base], capture_output=True, check=False).returncode:
        pytest.skip(f"{base} not built: scripts/build-base-images")
    name = f"togather-test-{uuid.uuid4().hex[:8]}/server"
    try:
        for v in versions:
            subprocess.run(["docker", "build", "-q", "-t", f"{name}:{v}", "-"], check=True,
                           capture_output=True, input=f"FROM {base}\nLABEL version={v}\n".encode(),
                           timeout=120)
        yield name
    finally:
        out = subprocess.run(["docker", "image", "ls", "--format", "{{.Repository}}:{{.Tag}}", name],
                             capture_output=True, text=True, check=False).stdout.split()
        if out:
            subprocess.run(["docker", "image", "rm", *out], capture_output=True, check=False)
