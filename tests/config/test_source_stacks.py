"""An unknown stack name: the error lists the stacks there are (``Pulumi.<stack>.yaml``),
never advises creating a new one — from the library and from a real script."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT
from togather_deploy.config.source import from_stack_file, known_stacks
from togather_deploy.errors import EXIT_CONFIG, ConfigError


@pytest.fixture
def project(tmp_path: Path) -> Path:
    for name in ("Pulumi.yaml", "Pulumi.dev.yaml", "Pulumi.production.yaml", "Pulumi.staging.yaml"):
        shutil.copy(os.path.join(ROOT, name), tmp_path / name)
    return tmp_path


def test_known_stacks_are_the_stack_files(project: Path) -> None:
    assert known_stacks(str(project)) == ["dev", "production", "staging"]
    assert known_stacks(str(project / "missing")) == []


def test_unknown_stack_lists_the_stacks_instead_of_stack_init(project: Path) -> None:
    with pytest.raises(ConfigError) as info:
        from_stack_file(str(project), "prodution")
    assert info.value.exit_code == EXIT_CONFIG
    assert info.value.fix == "use one of the stacks here: dev, production, staging"
    assert "stack init" not in str(info.value)


def test_the_scripts_say_so_too(project: Path) -> None:
    proc = subprocess.run([os.path.join(ROOT, "scripts", "status"), "nosuch", "--project-dir",
                           str(project)], capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == EXIT_CONFIG, proc.stderr
    assert "no stack file for stack 'nosuch'" in proc.stderr
    assert "dev, production, staging" in proc.stderr and "stack init" not in proc.stderr
