"""The per-stack operator lock: one deploy or rollback at a time.

``<state_dir>/locks/<stack>.lock`` is held with ``flock(LOCK_EX)`` for the whole
operation and contains who holds it (user, host, pid, version, started_at) as
JSON. Guarantees:

- A second holder fails fast (never waits) with ``LockError`` (exit 3) naming
  the holder and since when.
- A holder that dies (even by SIGKILL) frees the lock: the kernel drops the
  ``flock`` with the process. Its JSON stays behind and is only a record.
- A lock held for longer than ``STALE_AFTER_S`` is reported stale. It can be
  taken over explicitly (``take_over_stale``): the old file is unlinked and a new
  one locked, so the hung holder keeps a lock on an inode nobody else opens.
  Every acquirer checks, after locking, that the path still names the inode it
  locked, which makes breaking a lock race-free.
- Release truncates the record and unlocks; ``break_lock`` unlinks the file
  (the operator's ``scripts/lock release``).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import getpass
import json
import os
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass

from components.errors import LockError

STALE_AFTER_S = 30 * 60
_ATTEMPTS = 5  # inode races (someone broke the lock while we opened it) are retried this often
# ``inspect`` (scripts/status, scripts/lock status) holds LOCK_SH for an instant; an acquirer
# retries briefly so a status probe never makes a deploy fail as "locked".
_PROBE_RETRIES = 4
_PROBE_PAUSE_S = 0.025


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
    return os.path.join(state_dir, "locks", f"{stack}.lock")


def current_user() -> str:
    try:
        return os.environ.get("SUDO_USER") or getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (some containers)
        return f"uid {os.getuid()}"


def _parse(text: str) -> LockHolder | None:
    try:
        raw = json.loads(text)
        return LockHolder(who=str(raw["who"]), host=str(raw["host"]), pid=int(raw["pid"]),
                          version=str(raw["version"]), started_at=float(raw["started_at"]),
                          operation=str(raw.get("operation", "deploy")))
    except (ValueError, KeyError, TypeError):
        return None


def read_holder(path: str) -> LockHolder | None:
    try:
        with open(path, encoding="utf-8") as fh:
            return _parse(fh.read())
    except FileNotFoundError:
        return None


def inspect(state_dir: str, stack: str, *, now: float) -> LockState:
    """Who holds the lock, without taking it (a shared probe, released at once)."""
    path = lock_path(state_dir, stack)
    holder = read_holder(path)
    held = False
    with contextlib.suppress(FileNotFoundError):
        fd = os.open(path, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            fcntl.flock(fd, fcntl.LOCK_UN)
        except OSError as exc:
            if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN):
                raise
            held = True
        finally:
            os.close(fd)
    return LockState(path=path, held=held, holder=holder if held or holder else None,
                     stale=bool(held and holder and holder.stale(now)))


def _flock_soon(fd: int) -> bool:
    """``LOCK_EX`` without waiting for a holder, but past a ``status`` probe's instant ``LOCK_SH``."""
    for attempt in range(_PROBE_RETRIES + 1):
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except OSError as exc:
            if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN):
                raise
        if attempt < _PROBE_RETRIES:
            time.sleep(_PROBE_PAUSE_S)
    return False


def _open_locked(path: str) -> int | None:
    """Open ``path`` and take the flock; ``None`` when someone else holds it."""
    for _ in range(_ATTEMPTS):
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        if not _flock_soon(fd):
            os.close(fd)
            return None
        try:
            same = os.stat(path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            return fd
        os.close(fd)  # the lock was broken between open and flock: try the new file
    raise LockError(f"could not take {path}: it keeps being replaced", file=path)


def _write_holder(fd: int, holder: LockHolder) -> None:
    data = json.dumps(asdict(holder), sort_keys=True).encode()
    os.ftruncate(fd, 0)
    os.pwrite(fd, data + b"\n", 0)
    os.fsync(fd)


@contextlib.contextmanager
def stack_lock(state_dir: str, stack: str, *, version: str, operation: str = "deploy",
               take_over_stale: bool = False,
               clock: Callable[[], float] = time.time) -> Iterator[LockHolder]:
    """Hold the stack's lock for the ``with`` block; raise ``LockError`` if it is taken."""
    path = lock_path(state_dir, stack)
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    fd = _open_locked(path)
    if fd is None:
        holder = read_holder(path)
        now = clock()
        stale = holder is not None and holder.stale(now)
        if not (stale and take_over_stale):
            raise _locked_error(stack, path, holder, now, stale)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)  # the hung holder keeps its flock on an inode nobody opens again
        fd = _open_locked(path)
        if fd is None:
            raise _locked_error(stack, path, read_holder(path), clock(), False)
    me = LockHolder(who=current_user(), host=socket.gethostname(), pid=os.getpid(),
                    version=version, started_at=clock(), operation=operation)
    try:
        _write_holder(fd, me)
        yield me
    finally:
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
        os.close(fd)  # closing the descriptor drops the flock


def break_lock(state_dir: str, stack: str) -> bool:
    """Remove the lock file (operator-confirmed). Returns whether there was one."""
    try:
        os.unlink(lock_path(state_dir, stack))
        return True
    except FileNotFoundError:
        return False


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
