"""The stack lock under races, with real processes: exactly one holder, every time.

The processes are forked once and then driven trial by trial over pipes (forking per
trial would measure fork, not the lock): a "hung" process holds every trial's lock
with a record older than ``STALE_AFTER_S`` and never lets go; per trial, all racers
are released together and try to take that stale lock.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterator

import pytest

from togather_deploy.errors import LockError
from togather_deploy.ops import lock

TRIALS = 200
RACERS = (True, True, True, False)
"""Per racer: ``take_over_stale`` (three deploys with --take-over-stale, one without)."""


def _fork(body: Callable[[], None]) -> int:
    pid = os.fork()
    if pid == 0:
        try:
            body()
        finally:
            os._exit(0)
    return pid


def _hung(state: str, cmd_r: int, rep_w: int) -> Callable[[], None]:
    def body() -> None:
        with contextlib.ExitStack() as held:
            while trial := os.read(cmd_r, 4):
                stack = f"s{int.from_bytes(trial, 'big')}"
                held.enter_context(lock.stack_lock(
                    state, stack, version="hung",
                    clock=lambda: time.time() - lock.STALE_AFTER_S - 60))
                os.write(rep_w, b"h")
    return body


def _racer(state: str, me: int, take_over: bool, cmd_r: int, rep_w: int) -> Callable[[], None]:
    def body() -> None:
        while trial := os.read(cmd_r, 4):
            stack = f"s{int.from_bytes(trial, 'big')}"
            try:
                with lock.stack_lock(state, stack, version=f"r{me}", take_over_stale=take_over):
                    os.write(rep_w, bytes([me]) + b"W")
                    os.read(cmd_r, 1)  # hold until the test has heard from every racer
                os.write(rep_w, bytes([me]) + b"R")
            except LockError:
                os.write(rep_w, bytes([me]) + b"L")
    return body


@contextlib.contextmanager
def _processes(state: str) -> Iterator[tuple[list[int], int, int]]:
    """(racers' command pipes, the hung holder's command pipe, the shared report pipe)."""
    rep_r, rep_w = os.pipe()
    pipes = [os.pipe() for _ in range(len(RACERS) + 1)]
    pids = []
    for i, (r, _w) in enumerate(pipes):
        body = (_racer(state, i, RACERS[i], r, rep_w) if i < len(RACERS)
                else _hung(state, r, rep_w))
        pids.append(_fork(body))
    os.close(rep_w)
    for r, _w in pipes:
        os.close(r)
    try:
        yield [w for _r, w in pipes[:-1]], pipes[-1][1], rep_r
    finally:
        for _r, w in pipes:
            os.close(w)
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, 9)
            os.waitpid(pid, 0)
        os.close(rep_r)


def _read_reports(rep_r: int, count: int) -> list[bytes]:
    data = b""
    while len(data) < 2 * count:
        chunk = os.read(rep_r, 2 * count - len(data))
        if not chunk:
            pytest.fail("a racer died")
        data += chunk
    return [data[i:i + 2] for i in range(0, len(data), 2)]


def test_racing_takeovers_of_a_stale_lock_leave_exactly_one_holder(tmp_path) -> None:
    started = time.monotonic()
    with _processes(str(tmp_path)) as (racers, hung, rep_r):
        for trial in range(TRIALS):
            os.write(hung, trial.to_bytes(4, "big"))
            assert os.read(rep_r, 1) == b"h"
            for w in racers:  # every racer is blocked in read(): they all start at once
                os.write(w, trial.to_bytes(4, "big"))
            reports = _read_reports(rep_r, len(RACERS))
            winners = [r[0] for r in reports if r[1:] == b"W"]
            assert len(winners) == 1, f"trial {trial}: {len(winners)} holders at once: {reports}"
            assert RACERS[winners[0]], "the racer without --take-over-stale cannot win"
            os.write(racers[winners[0]], b"x")
            assert _read_reports(rep_r, 1) == [bytes([winners[0]]) + b"R"]
            assert lock.inspect(str(tmp_path), f"s{trial}", now=time.time()).holder is None
    # bounded: a few seconds per hundred trials, with room for a loaded machine
    assert time.monotonic() - started < 10 * TRIALS / 100
