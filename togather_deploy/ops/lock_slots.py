"""The mechanics under ``togather_deploy.ops.lock``: the record mutex and the slot byte locks.

- ``mutex``: a short ``flock`` of the lock file, held while the record is read
  and rewritten (microseconds; a status probe takes it shared for an instant).
  Waiting for it is bounded, so a stuck process makes us fail, not hang.
- ``hold``/``release``/``held_elsewhere``: an open-file-description byte-range
  lock (``F_OFD_SETLK``) on the one byte ``slot``. It belongs to our open file
  (not to the process, unlike POSIX locks: opening and closing the file
  elsewhere in the process does not drop it) and dies with the descriptor.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import struct
import time
from collections.abc import Iterator

from togather_deploy.errors import LockError

MUTEX_WAIT_S = 5.0
"""The mutex is held for microseconds; waiting up to this long never makes a deploy fail as
"locked" because of a status probe, yet a process stuck holding it cannot hang us."""
_MUTEX_PAUSE_S = 0.001
MAX_SLOTS = 64
"""Slots tried past a hung holder's (several hung holders in a row)."""
_FLOCK = struct.Struct("@hhqqi4x")  # struct flock on Linux: l_type, l_whence, l_start, l_len, l_pid


def _range(fd: int, cmd: int, kind: int, slot: int) -> int:
    """``F_OFD_*`` on the one byte ``slot``; returns the lock type the kernel answered."""
    out = fcntl.fcntl(fd, cmd, _FLOCK.pack(kind, os.SEEK_SET, slot, 1, 0))
    return int(_FLOCK.unpack(out)[0])


def hold(fd: int, slot: int) -> bool:
    try:
        _range(fd, fcntl.F_OFD_SETLK, fcntl.F_WRLCK, slot)
        return True
    except OSError as exc:
        if exc.errno not in (errno.EAGAIN, errno.EACCES):
            raise
        return False


def release(fd: int, slot: int) -> None:
    _range(fd, fcntl.F_OFD_SETLK, fcntl.F_UNLCK, slot)


def held_elsewhere(fd: int, slot: int) -> bool:
    return _range(fd, fcntl.F_OFD_GETLK, fcntl.F_RDLCK, slot) != fcntl.F_UNLCK


def next_free(fd: int, path: str, after: int) -> int:
    """Hold the first free slot past ``after`` (hung holders keep theirs)."""
    for slot in range(after + 1, after + 1 + MAX_SLOTS):
        if hold(fd, slot):
            return slot
    raise LockError(f"{MAX_SLOTS} hung holders in a row on {path}", file=path,
                    fix="kill the hung deploys (fuser -v the lock file), then retry")


@contextlib.contextmanager
def mutex(fd: int, path: str, *, shared: bool = False) -> Iterator[None]:
    deadline = time.monotonic() + MUTEX_WAIT_S
    while True:
        try:
            fcntl.flock(fd, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
            break
        except OSError as exc:
            if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN):
                raise
        if time.monotonic() > deadline:
            raise LockError(f"{path} stays busy: a process is stuck while updating it", file=path,
                            fix=f"find it with `fuser -v {path}` and stop it, then retry")
        time.sleep(_MUTEX_PAUSE_S)
    try:
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)


def same_file(fd: int, path: str) -> bool:
    """The path still names what we opened (nobody removed it by hand in between)."""
    try:
        st, mine = os.lstat(path), os.fstat(fd)
    except FileNotFoundError:
        return False
    return (st.st_dev, st.st_ino) == (mine.st_dev, mine.st_ino)
