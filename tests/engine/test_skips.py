"""Without a built engine, the engine tests are skipped with the reason, never passed."""

from __future__ import annotations

import os
import subprocess
import sys

from testkit.engine import ROOT, Engine


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


def test_the_engine_found_is_the_one_build_engine_reports(engine: Engine) -> None:
    """The CLI on the engine's PATH answers with the version the manifest records (>= the SDK's)."""
    out = subprocess.run([os.path.join(engine.bin_dir, "pulumi"), "version"], capture_output=True,
                         text=True, timeout=60, check=True).stdout.strip()
    assert out == engine.version
    major_minor_patch = tuple(int(x) for x in out.lstrip("v").split("."))
    assert major_minor_patch >= (3, 272, 0)
    assert set(engine.plugins) == {"docker", "random", "command"}, engine.plugins
