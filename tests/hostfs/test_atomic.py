"""``staged_write``: the data is durable before the rename, the rename alone flips the file."""

from __future__ import annotations

import os
import stat

import pytest

from togather_deploy.hostfs.atomic import atomic_write, staged_write


def test_the_target_changes_only_at_commit(tmp_path: os.PathLike[str]) -> None:
    target = os.path.join(tmp_path, "active_color")
    atomic_write(target, "blue\n")
    with staged_write(target, "green\n", mode=0o640) as staged:
        with open(target, encoding="utf-8") as fh:
            assert fh.read() == "blue\n"  # staged, not yet visible
        with open(staged.tmp, encoding="utf-8") as fh:
            assert fh.read() == "green\n"
        assert stat.S_IMODE(os.stat(staged.tmp).st_mode) == 0o640
        staged.commit()
        with open(target, encoding="utf-8") as fh:
            assert fh.read() == "green\n"
    assert os.listdir(tmp_path) == ["active_color"]


def test_no_commit_or_an_error_leaves_the_target_and_no_temp(tmp_path: os.PathLike[str]) -> None:
    target = os.path.join(tmp_path, "active_color")
    atomic_write(target, "blue\n")
    with staged_write(target, "green\n"):
        pass
    with pytest.raises(RuntimeError), staged_write(target, "green\n"):
        raise RuntimeError("verification failed before the flip")
    with open(target, encoding="utf-8") as fh:
        assert fh.read() == "blue\n"
    assert os.listdir(tmp_path) == ["active_color"]
