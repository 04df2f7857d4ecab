"""The stack lock, with real processes: contention, SIGKILL, stale takeover."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from dataclasses import replace

import pytest

from togather_deploy import ROOT
from togather_deploy.errors import EXIT_CONFIG, EXIT_LOCKED, ConfigError, LockError
from togather_deploy.ops import lock

# A holder process: takes the lock (optionally with a clock set in the past), says so, waits.
_HOLDER = r"""
import sys, time
from togather_deploy.ops import lock
age = float(sys.argv[2])
with lock.stack_lock(sys.argv[1], "prod", version="v9.9.9", clock=lambda: time.time() - age):
    print("held", flush=True)
    time.sleep(60)
"""


def _start_holder(state_dir: str, age_s: float = 0) -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, "-c", _HOLDER, state_dir, str(age_s)], cwd=ROOT,
                            stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": ROOT})
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "held"
    return proc


@pytest.fixture
def holder(tmp_path):
    procs: list[subprocess.Popen[str]] = []

    def start(age_s: float = 0) -> subprocess.Popen[str]:
        procs.append(_start_holder(str(tmp_path), age_s))
        return procs[-1]

    yield start
    for p in procs:
        if p.poll() is None:
            p.kill()
        p.wait(timeout=10)


def test_lock_records_holder_and_is_private(tmp_path):
    with lock.stack_lock(str(tmp_path), "prod", version="v1.2.3") as me:
        path = lock.lock_path(str(tmp_path), "prod")
        with open(path) as fh:
            record = json.load(fh)
        assert record["pid"] == os.getpid() and record["version"] == "v1.2.3"
        assert record["who"] == me.who and record["host"] == me.host
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        assert stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode) == 0o700
        state = lock.inspect(str(tmp_path), "prod", now=time.time())
        assert state.held and state.holder is not None and state.holder.pid == os.getpid()
    after = lock.inspect(str(tmp_path), "prod", now=time.time())
    assert not after.held and after.holder is None


def test_second_holder_fails_fast_naming_the_first(tmp_path, holder):
    proc = holder()
    started = time.monotonic()
    with pytest.raises(LockError) as info, lock.stack_lock(str(tmp_path), "prod", version="v2"):
        pass
    assert time.monotonic() - started < 10  # fails fast instead of waiting (loose bound)
    assert info.value.exit_code == EXIT_LOCKED
    text = str(info.value)
    assert f"pid {proc.pid}" in text and "v9.9.9" in text and "since" in text
    assert "STALE" not in text
    # another stack is independent
    with lock.stack_lock(str(tmp_path), "staging", version="v2"):
        pass


def test_sigkilled_holder_frees_the_lock(tmp_path, holder):
    proc = holder()
    assert lock.inspect(str(tmp_path), "prod", now=time.time()).held
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    state = lock.inspect(str(tmp_path), "prod", now=time.time())
    assert not state.held
    assert state.holder is not None and state.holder.pid == proc.pid  # the dead holder's record
    with lock.stack_lock(str(tmp_path), "prod", version="v3") as me:
        assert me.pid == os.getpid()


def test_stale_lock_is_reported_and_taken_over_only_when_asked(tmp_path, holder):
    proc = holder(age_s=lock.STALE_AFTER_S + 60)
    state = lock.inspect(str(tmp_path), "prod", now=time.time())
    assert state.held and state.stale
    with pytest.raises(LockError) as info, lock.stack_lock(str(tmp_path), "prod", version="v4"):
        pass
    assert "STALE" in str(info.value) and "--take-over-stale" in str(info.value)
    with lock.stack_lock(str(tmp_path), "prod", version="v4", take_over_stale=True) as me:
        assert proc.poll() is None  # the hung holder is still alive, yet we hold the lock
        now = lock.inspect(str(tmp_path), "prod", now=time.time())
        assert now.held and now.holder is not None and now.holder.pid == me.pid
        # and a third party is refused while we hold it
        with pytest.raises(LockError), lock.stack_lock(str(tmp_path), "prod", version="v5",
                                                       take_over_stale=True):
            pass


def test_fresh_lock_is_not_taken_over_even_when_asked(tmp_path, holder):
    holder(age_s=60)
    with pytest.raises(LockError), lock.stack_lock(str(tmp_path), "prod", version="v4",
                                                   take_over_stale=True):
        pass


def test_break_lock_frees_it_without_unlinking_and_only_for_the_confirmed_holder(tmp_path, holder):
    proc = holder()
    path = lock.lock_path(str(tmp_path), "prod")
    inode = os.stat(path).st_ino
    shown = lock.inspect(str(tmp_path), "prod", now=time.time()).holder
    assert shown is not None and shown.pid == proc.pid
    with pytest.raises(LockError, match="changed hands"):  # the operator confirmed someone else
        lock.break_lock(str(tmp_path), "prod", confirmed=replace(shown, pid=1))
    assert lock.inspect(str(tmp_path), "prod", now=time.time()).held
    assert lock.break_lock(str(tmp_path), "prod", confirmed=shown)
    assert not lock.inspect(str(tmp_path), "prod", now=time.time()).held
    with lock.stack_lock(str(tmp_path), "prod", version="v6") as me:
        assert os.stat(path).st_ino == inode  # nothing was unlinked: the same file, rewritten
        proc.kill()  # the broken holder dying now must not free (or clear) our lock
        proc.wait(timeout=10)
        now = lock.inspect(str(tmp_path), "prod", now=time.time())
        assert now.held and now.holder == me
    assert not lock.break_lock(str(tmp_path), "nothing")


def test_format_age():
    assert lock.format_age(5) == "5s"
    assert lock.format_age(600) == "10m"
    assert lock.format_age(3 * 3600 + 120) == "3h02m"


_PROBER = r"""
import sys, time
from togather_deploy.ops import lock
print("probing", flush=True)
end = time.monotonic() + 60
while time.monotonic() < end:
    lock.inspect(sys.argv[1], "prod", now=time.time())
"""


def test_status_probes_never_make_an_acquirer_fail(tmp_path):
    """``scripts/status`` probing in a tight loop (another process) while deploys start."""
    prober = subprocess.Popen([sys.executable, "-c", _PROBER, str(tmp_path)], cwd=ROOT,
                              stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": ROOT})
    try:
        assert prober.stdout is not None and prober.stdout.readline().strip() == "probing"
        for i in range(300):
            with lock.stack_lock(str(tmp_path), "prod", version=f"v{i}"):
                pass
    finally:
        prober.kill()
        prober.wait(timeout=10)


def test_a_planted_lock_symlink_is_refused_and_its_target_untouched(tmp_path):
    """root once wrote the lock JSON into the victim, and truncated it on release."""
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    os.makedirs(tmp_path / "locks", mode=0o700)
    os.symlink(victim, lock.lock_path(str(tmp_path), "prod"))
    with pytest.raises(ConfigError) as info, lock.stack_lock(str(tmp_path), "prod", version="v1"):
        pass
    assert "is a symlink" in str(info.value) and info.value.exit_code == EXIT_CONFIG
    with pytest.raises(ConfigError):
        lock.break_lock(str(tmp_path), "prod")
    assert victim.read_text() == "precious\n"


def test_a_state_dir_that_is_not_the_tools_own_is_refused(tmp_path):
    os.chmod(tmp_path, 0o777)
    with pytest.raises(ConfigError, match="writable by group or others"), \
            lock.stack_lock(str(tmp_path), "prod", version="v1"):
        pass
    assert not os.path.exists(tmp_path / "locks")  # refused before anything was created
