"""The per-stack operator lock: one deploy or rollback at a time.

``<state_dir>/locks/<stack>.lock`` holds one JSON record: the current ``slot``
and who holds it (user, host, pid, version, started_at). Holding the lock means
holding an open-file-description byte-range lock (``F_OFD_SETLK``) on byte
``slot`` of that file for the whole operation. Every read-modify-write of the
record happens under a short ``flock`` of the same file (the mutex; held for
microseconds, never during an operation). Guarantees:

- A second holder fails fast (never waits) with ``LockError`` (exit 3) naming
  the holder and since when.
- A holder that dies (even by SIGKILL) frees the lock: the kernel drops its
  byte lock with the process. Its record stays behind and is only a record.
- A lock held for longer than ``STALE_AFTER_S`` is reported stale. It can be
  taken over explicitly (``take_over_stale``): under the mutex the taker checks
  the record is still that stale one, locks the next free slot and rewrites
  the record in place. The hung holder keeps a byte nobody checks any more;
  should it wake up, its release sees the slot moved on and leaves the record
  alone. Racing takers are serialised by the mutex: exactly one wins.
- Nothing is ever unlinked. ``break_lock`` (``scripts/lock release``) moves the
  slot on under the mutex, and only if the record still names the holder the
  operator confirmed.
- The file is opened ``O_NOFOLLOW | O_CLOEXEC`` in a directory that must be the
  tool's own (``togather_deploy.hostfs.paths``): a planted symlink is refused, and no
  child process (``pulumi``) inherits the lock.
"""

from __future__ import annotations

import contextlib
import getpass
import json
import os
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from typing import Any

from togather_deploy.config.layout import StateLayout
from togather_deploy.errors import LockError
from togather_deploy.hostfs import paths as host_paths
from togather_deploy.ops import lock_slots as slots

STALE_AFTER_S = 30 * 60
_ATTEMPTS = 5  # the file replaced by hand while we opened it: retried this often


@dataclass(frozen=True)
class LockHolder:
    who: str
    host: str
    pid: int
    version: str
    started_at: float
    """Unix time the holder took the lock."""
    operation: str = "deploy"

    def age_s(self, now: float) -> float:
        return max(0.0, now - self.started_at)

    def stale(self, now: float) -> bool:
        return self.age_s(now) > STALE_AFTER_S

    def describe(self, now: float) -> str:
        since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.started_at))
        return (f"{self.who}@{self.host} (pid {self.pid}, {self.operation} {self.version}) "
                f"since {since} ({format_age(self.age_s(now))} ago)")


@dataclass(frozen=True)
class LockState:
    """What ``scripts/lock status`` reports."""

    path: str
    held: bool
    """Some live process holds the flock right now."""
    holder: LockHolder | None
    """The last record written (a dead holder's record remains until the next acquire)."""
    stale: bool


def format_age(seconds: float) -> str:
    s = int(seconds)
    if s < 120:
        return f"{s}s"
    if s < 7200:
        return f"{s // 60}m"
    return f"{s // 3600}h{(s % 3600) // 60:02d}m"


def lock_path(state_dir: str, stack: str) -> str:
    return StateLayout(state_dir).lock_file(stack)


def current_user() -> str:
    try:
        return os.environ.get("SUDO_USER") or getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (some containers)
        return f"uid {os.getuid()}"


def _parse(raw: Any) -> LockHolder | None:
    try:
        return LockHolder(who=str(raw["who"]), host=str(raw["host"]), pid=int(raw["pid"]),
                          version=str(raw["version"]), started_at=float(raw["started_at"]),
                          operation=str(raw.get("operation", "deploy")))
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


def _read(fd: int) -> tuple[int, LockHolder | None]:
    """The record: (slot, holder or ``None``). A torn or foreign file reads as slot 0, free."""
    try:
        raw = json.loads(os.pread(fd, 1 << 16, 0) or b"{}")
        slot = int(raw.get("slot", 0)) if isinstance(raw, dict) else 0
    except (ValueError, TypeError):
        return 0, None
    return max(slot, 0), _parse(raw)


def _write(fd: int, slot: int, holder: LockHolder | None) -> None:
    data = json.dumps({"slot": slot, **(asdict(holder) if holder else {})}, sort_keys=True).encode()
    os.pwrite(fd, data + b"\n", 0)
    os.ftruncate(fd, len(data) + 1)  # no fsync: the record matters only while processes live


def inspect(state_dir: str, stack: str, *, now: float) -> LockState:
    """Who holds the lock, without taking it (the mutex shared for an instant)."""
    path = lock_path(state_dir, stack)
    try:
        fd = host_paths.open_file(path, os.O_RDONLY)
    except FileNotFoundError:
        return LockState(path=path, held=False, holder=None, stale=False)
    try:
        with slots.mutex(fd, path, shared=True):
            slot, holder = _read(fd)
            held = slots.held_elsewhere(fd, slot)
    finally:
        os.close(fd)
    return LockState(path=path, held=held, holder=holder,
                     stale=bool(held and holder and holder.stale(now)))


def _open(path: str, flags: int = 0) -> int:
    return host_paths.open_file(path, os.O_RDWR | flags, 0o600)


def _acquire(path: str, stack: str, take_over_stale: bool, clock: Callable[[], float],
             make: Callable[[], LockHolder]) -> tuple[int, int, LockHolder]:
    """Under the mutex: hold the record's slot, or (stale, asked) the next one; write our record."""
    for _ in range(_ATTEMPTS):
        fd = _open(path, os.O_CREAT)
        try:
            with slots.mutex(fd, path):
                if slots.same_file(fd, path):
                    slot, holder = _read(fd)
                    if not slots.hold(fd, slot):
                        now = clock()
                        stale = holder is not None and holder.stale(now)
                        if not (stale and take_over_stale):
                            raise _locked_error(stack, path, holder, now, stale)
                        slot = slots.next_free(fd, path, slot)  # the hung holder keeps its own
                    me = make()
                    _write(fd, slot, me)
                    return fd, slot, me
        except BaseException:
            os.close(fd)  # drops any slot we held
            raise
        os.close(fd)  # removed by hand while we opened it: open the new file
    raise LockError(f"could not take {path}: it keeps being replaced", file=path)


@contextlib.contextmanager
def stack_lock(state_dir: str, stack: str, *, version: str, operation: str = "deploy",
               take_over_stale: bool = False,
               clock: Callable[[], float] = time.time) -> Iterator[LockHolder]:
    """Hold the stack's lock for the ``with`` block; raise ``LockError`` if it is taken."""
    path = lock_path(state_dir, stack)
    for directory in (state_dir, os.path.dirname(path)):
        host_paths.ensure_dir(directory, 0o700)  # the tool's own, or a clear error
    fd, slot, me = _acquire(path, stack, take_over_stale, clock, lambda: LockHolder(
        who=current_user(), host=socket.gethostname(), pid=os.getpid(), version=version,
        started_at=clock(), operation=operation))
    try:
        yield me
    finally:
        try:
            with slots.mutex(fd, path):
                if _read(fd)[0] == slot:  # still ours: not taken over or broken meanwhile
                    _write(fd, slot, None)
                slots.release(fd, slot)  # inside the mutex: nobody sees the slot held without a record
        except (OSError, LockError):
            pass  # closing the descriptor drops the byte lock anyway
        finally:
            os.close(fd)


def break_lock(state_dir: str, stack: str, *, confirmed: LockHolder | None = None) -> bool:
    """Free the lock for the next acquirer without unlinking anything; ``True`` if there was a
    holder. A live holder's slot is moved on, only if the record still names ``confirmed``."""
    path = lock_path(state_dir, stack)
    try:
        fd = _open(path)
    except FileNotFoundError:
        return False
    try:
        with slots.mutex(fd, path):
            slot, holder = _read(fd)
            if slots.hold(fd, slot):  # nobody holds it: clear a dead holder's record
                _write(fd, slot, None)
                slots.release(fd, slot)
                return holder is not None
            if holder != confirmed:
                raise LockError(f"the lock on stack {stack} changed hands since it was shown",
                                file=path, fix=f"scripts/lock status {stack}, then decide again")
            new = slots.next_free(fd, path, slot)
            _write(fd, new, None)
            slots.release(fd, new)
            return True
    finally:
        os.close(fd)


def _locked_error(stack: str, path: str, holder: LockHolder | None, now: float,
                  stale: bool) -> LockError:
    who = holder.describe(now) if holder else "another process (no holder record yet)"
    if stale:
        return LockError(
            f"stack {stack} is locked by {who}; the lock is STALE (older than "
            f"{STALE_AFTER_S // 60} minutes)", file=path,
            fix=f"check that process, then retry with --take-over-stale or run "
                f"`scripts/lock release {stack}`")
    return LockError(f"stack {stack} is locked by {who}", file=path,
                     fix=f"wait for it to finish; `scripts/lock status {stack}` shows the holder")
