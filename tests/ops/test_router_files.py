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


def test_write_and_read_active_color_with_modes(workdir: str) -> None:
    d = os.path.join(workdir, "router")
    router_files.ensure_dir(d)
    assert router_files.read_active_color(d) is None
    router_files.write_active_color(d, "green")
    assert router_files.read_active_color(d) == "green"
    assert stat.S_IMODE(os.stat(os.path.join(d, "active_color")).st_mode) == 0o644
    assert stat.S_IMODE(os.stat(d).st_mode) == 0o755
    assert os.listdir(d) == ["active_color"]


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
        assert router_files.read_active_color(d) in ("blue", "green")
    # a stray temp file from a kill is swept by the next switch
    router_files.write_active_color(d, "green")
    assert sorted(os.listdir(d)) == ["active_color"]
