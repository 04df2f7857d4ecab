"""Atomic router files, and the crash protocol: SIGKILL in the middle of a switch."""

from __future__ import annotations

import os
import random
import signal
import stat
import subprocess
import sys
import time

import pytest

from togather_deploy import ROOT
from togather_deploy.errors import DeployError
from togather_deploy.ops import router_files

# A "deploy" that flips the colour as fast as it can until it is killed.
_FLIPPER = """
import sys
from togather_deploy.ops.router_files import write_active_color
d = sys.argv[1]
print("ready", flush=True)
i = 0
while True:
    write_active_color(d, ("blue", "green")[i % 2])
    i += 1
"""


def _mode(path: str) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_write_and_read_active_color_with_modes(workdir: str) -> None:
    """The word for people and tools, the owner-exec bit for nginx: blue 0755, green 0644."""
    d = os.path.join(workdir, "router")
    router_files.ensure_dir(d)
    assert router_files.read_active_color(d) is None and router_files.routed_color(d) is None
    router_files.write_active_color(d, "green")
    assert router_files.read_active_color(d) == router_files.routed_color(d) == "green"
    assert _mode(os.path.join(d, "active_color")) == 0o644
    router_files.write_active_color(d, "blue")
    assert router_files.read_active_color(d) == router_files.routed_color(d) == "blue"
    assert _mode(os.path.join(d, "active_color")) == 0o755
    assert _mode(d) == 0o755
    assert os.listdir(d) == ["active_color"]


def test_a_file_from_before_the_mode_bit_is_given_the_mode_its_word_calls_for(workdir: str) -> None:
    """Until 2026-12-03 the file was 0644 whatever its word: a blue one would route green."""
    path = os.path.join(workdir, "active_color")
    for word, routed in (("blue", "blue"), ("green", "green")):
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(word + "\n")
        os.chmod(path, 0o644)
        inode = os.stat(path).st_ino
        assert router_files.agree_mode_with_word(workdir) is (word == "blue")
        assert router_files.routed_color(workdir) == router_files.read_active_color(workdir) == routed
        assert (os.stat(path).st_ino != inode) is (word == "blue")  # rewritten by rename, not chmod
        assert router_files.agree_mode_with_word(workdir) is False  # idempotent
    os.unlink(path)
    assert router_files.agree_mode_with_word(workdir) is False and not os.listdir(workdir)


def test_refuses_a_bad_colour_and_a_garbled_file(workdir: str) -> None:
    d = workdir
    with pytest.raises(DeployError, match="blue or green"):
        router_files.write_active_color(d, "purple")
    with open(os.path.join(d, "active_color"), "w") as fh:
        fh.write("gre")
    with pytest.raises(DeployError, match="not blue or green"):
        router_files.read_active_color(d)


def test_a_failed_write_leaves_the_old_file_and_no_temp(workdir: str) -> None:
    d = workdir
    target = os.path.join(d, "nginx.conf")
    router_files.atomic_write(target, "old")
    with pytest.raises(TypeError):
        router_files.atomic_write(target, 42)  # type: ignore[arg-type]
    assert router_files.read_text(target) == "old"
    assert os.listdir(d) == ["nginx.conf"]


@pytest.mark.slow
def test_sigkill_mid_switch_always_leaves_exactly_one_colour(workdir: str) -> None:
    d = workdir
    router_files.write_active_color(d, "blue")
    rng = random.Random(4)
    env = {**os.environ, "PYTHONPATH": ROOT}
    for _ in range(40):
        child = subprocess.Popen([sys.executable, "-c", _FLIPPER, d], stdout=subprocess.PIPE, env=env,
                                 cwd=ROOT)
        assert child.stdout is not None
        assert child.stdout.readline().strip() == b"ready"
        time.sleep(rng.uniform(0.0, 0.05))  # somewhere inside the write loop
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
        child.stdout.close()
        with open(os.path.join(d, "active_color"), encoding="utf-8") as fh:
            assert fh.read() in ("blue\n", "green\n")
        # the word and the mode bit nginx tests never disagree: one inode, one rename
        assert router_files.read_active_color(d) == router_files.routed_color(d)
    # a stray temp file from a kill is swept by the next switch
    router_files.write_active_color(d, "green")
    assert sorted(os.listdir(d)) == ["active_color"]
