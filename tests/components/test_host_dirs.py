"""The host directories: the script the Command runs, run for real."""

from __future__ import annotations

import os
import stat
import subprocess
from dataclasses import replace
from pathlib import Path

from components.config_sections import SnapshotsConfig
from components.host_dirs import create_script, host_dirs
from components.stack_config import from_stack_file
from tests.support.program import ROOT


def _cfg(tmp_path: Path):
    cfg = from_stack_file(ROOT, "dev")
    state = str(tmp_path / "state dir")  # a space: the script must quote
    return replace(cfg, state_dir=state,
                   snapshots=SnapshotsConfig(os.path.join(state, "snapshots"), 7, 3, "host"))


def test_script_creates_every_directory_with_its_mode_and_is_idempotent(tmp_path: Path) -> None:
    cfg = _cfg(tmp_path)
    dirs = host_dirs(cfg)
    for _ in range(2):
        subprocess.run(["/bin/sh", "-c", create_script(dirs)], check=True)
    for path, mode in dirs.items():
        assert stat.S_IMODE(os.stat(path).st_mode) == int(mode, 8), path
    assert dirs[cfg.snapshots.dir] == "0700" and dirs[cfg.router_dir] == "0755"


def test_a_drifted_mode_is_put_back(tmp_path: Path) -> None:
    cfg = _cfg(tmp_path)
    dirs = host_dirs(cfg)
    subprocess.run(["/bin/sh", "-c", create_script(dirs)], check=True)
    os.chmod(cfg.snapshots.dir, 0o777)
    (Path(cfg.snapshots.dir) / "keep.sql.gz").write_text("data")
    subprocess.run(["/bin/sh", "-c", create_script(dirs)], check=True)
    assert stat.S_IMODE(os.stat(cfg.snapshots.dir).st_mode) == 0o700
    assert (Path(cfg.snapshots.dir) / "keep.sql.gz").read_text() == "data"  # nothing removed
