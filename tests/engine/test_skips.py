"""Without a built engine, the engine tests are skipped with the reason, never passed."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.support.engine import ROOT, Engine, find_engine


def test_without_an_engine_the_engine_tests_are_skipped_with_the_reason() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider",
         os.path.join(ROOT, "tests", "engine", "test_dynamic_providers.py")],
        capture_output=True, text=True, timeout=300, cwd=ROOT, check=False,
        env={**os.environ, "TOGATHER_ENGINE_DIR": "/nonexistent/togather-engine"})
    assert proc.returncode == 0, proc.stdout[-2000:]
    assert "skipped" in proc.stdout and "passed" not in proc.stdout, proc.stdout[-2000:]
    assert "SKIPPED" in proc.stdout and "run scripts/build-engine" in proc.stdout, proc.stdout[-2000:]


def test_a_missing_plugin_names_the_plugin_and_why() -> None:
    engine = Engine(dir="/x", version="v3.274.1", plugins=("random",),
                    not_built={"docker": "403 Forbidden: This module version is not available."})
    assert engine.missing("random") is None
    reason = engine.missing("docker", "random")
    assert reason is not None and "docker" in reason and "403" in reason and "random" not in reason


def test_the_engine_found_here_is_the_one_build_engine_reports() -> None:
    found = find_engine()
    if isinstance(found, str):
        assert "build-engine" in found or "Go" in found
    else:
        assert found.version >= "v3.272.0" and os.access(os.path.join(found.bin_dir, "pulumi"), os.X_OK)
