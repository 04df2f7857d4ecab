"""The host directories: the command HostDirs runs, run for real (as the tests' user)."""

from __future__ import annotations

import os
import stat
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from components.host_dirs import ROOT as DIRS_ROOT
from components.host_dirs import create_script, host_dirs
from testkit.program import ROOT
from togather_deploy.config.sections import SnapshotsConfig
from togather_deploy.config.source import from_stack_file
from togather_deploy.errors import EXIT_CONFIG

NOBODY = 65534


def _cfg(tmp_path: Path, snapshots: str | None = None):
    cfg = from_stack_file(ROOT, "dev")
    state = str(tmp_path / "state dir")  # a space: the script must quote
    return replace(cfg, state_dir=state,
                   snapshots=SnapshotsConfig(snapshots or os.path.join(state, "snapshots"), 7, 3, "host"))


def _run(dirs: dict[str, str]) -> subprocess.CompletedProcess[str]:
    # as the Command runs it: /bin/sh -c SCRIPT, from the project root
    return subprocess.run(["/bin/sh", "-c", create_script(dirs)], cwd=DIRS_ROOT, capture_output=True,
                          text=True, check=False)


def test_script_creates_every_directory_with_its_mode_and_is_idempotent(tmp_path: Path) -> None:
    cfg = _cfg(tmp_path)
    dirs = host_dirs(cfg)
    for _ in range(2):
        done = _run(dirs)
        assert done.returncode == 0, done.stderr
    for path, mode in dirs.items():
        assert stat.S_IMODE(os.stat(path).st_mode) == int(mode, 8), path
    assert dirs[cfg.snapshots.dir] == "0700" and dirs[cfg.router_dir] == "0755"


@pytest.mark.parametrize("mode", [0o1777, 0o777, 0o770])
def test_an_existing_writable_directory_is_refused_and_left_as_it_was(tmp_path: Path,
                                                                     mode: int) -> None:
    """``snapshots.dir: /tmp`` once turned drwxrwxrwt into drwx------."""
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, mode)
    (shared / "keep.sql.gz").write_text("data")
    done = _run(host_dirs(_cfg(tmp_path, snapshots=str(shared))))
    assert done.returncode == EXIT_CONFIG
    assert f"{shared}: is writable by group or others (mode {mode:04o})" in done.stderr
    assert "[togather:config]" in done.stderr and "chmod go-w" in done.stderr
    assert stat.S_IMODE(os.stat(shared).st_mode) == mode  # not "fixed" behind the owner's back
    assert (shared / "keep.sql.gz").read_text() == "data"


def test_a_directory_owned_by_someone_else_is_refused_and_left_as_it_was(tmp_path: Path) -> None:
    home = tmp_path / "home-of-someone"
    home.mkdir()
    os.chmod(home, 0o755)  # not mkdir's mode: the umask (077 on some CI machines) narrows it
    os.chown(home, NOBODY, NOBODY)
    done = _run(host_dirs(_cfg(tmp_path, snapshots=str(home))))
    assert done.returncode == EXIT_CONFIG
    assert f"is owned by uid {NOBODY}" in done.stderr and "chown" in done.stderr
    st = os.stat(home)
    assert (st.st_uid, stat.S_IMODE(st.st_mode)) == (NOBODY, 0o755)


def test_an_existing_private_directory_is_used_as_it_is(tmp_path: Path) -> None:
    cfg = _cfg(tmp_path)
    os.makedirs(cfg.state_dir, mode=0o750)
    os.chmod(cfg.state_dir, 0o750)  # the operator's choice: readable by their group
    assert _run(host_dirs(cfg)).returncode == 0
    assert stat.S_IMODE(os.stat(cfg.state_dir).st_mode) == 0o750


def test_a_symlink_planted_by_another_user_is_refused(tmp_path: Path) -> None:
    cfg = _cfg(tmp_path)
    victim = tmp_path / "victim"
    victim.mkdir(mode=0o700)
    os.makedirs(cfg.state_dir)
    locks = os.path.join(cfg.state_dir, "locks")
    os.symlink(victim, locks)
    os.chown(locks, NOBODY, NOBODY, follow_symlinks=False)
    done = _run(host_dirs(cfg))
    assert done.returncode == EXIT_CONFIG and "is a symlink owned by uid 65534" in done.stderr
    os.lchown(locks, 0, 0)  # the operator's own link (root-owned) is followed
    os.chown(victim, os.geteuid(), -1)
    again = _run(host_dirs(cfg))
    assert again.returncode == 0, again.stderr
