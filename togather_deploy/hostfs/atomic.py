"""Atomic, durable file replacement: the one implementation every writer uses.

A write goes: temp file in the same directory (``mkstemp``: O_EXCL, never follows a
planted symlink) → write → chmod → fsync → rename over the target → fsync the
directory. ``rename`` is atomic on one filesystem, so a reader (nginx's ``router.js``
per request, node-exporter's textfile collector) sees the whole old file or the whole
new one. A process SIGKILLed at any instant leaves the target untouched or replaced,
plus at most one stray ``.togather-<name>.*.tmp`` that ``sweep_temp_files`` removes.

``staged_write`` splits the same steps in two for a writer whose rename is latency
critical (the traffic flip): the temp file is written and fsynced when the block opens,
``commit()`` is the rename alone, and the directory is fsynced when the block closes.
The data fsync is the slow step: on ext4 (``data=ordered``) it waits for the journal
commit, which flushes other files' dirty data too — behind a router writing its access
log under load it measured 1.7 ms median and up to 380 ms, against 0.3 ms for the rename.
"""

from __future__ import annotations

import contextlib
import glob
import os
import tempfile
from collections.abc import Iterator

TMP_PREFIX = ".togather-"
TMP_SUFFIX = ".tmp"


def fsync_dir(path: str) -> None:
    """Make a rename in ``path`` durable (the directory entry is data too)."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def sweep_temp_files(directory: str, name: str) -> None:
    """Remove temp files a killed writer of ``name`` left behind (never the live files)."""
    for stray in glob.glob(os.path.join(directory, f"{TMP_PREFIX}{name}.*{TMP_SUFFIX}")):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(stray)


class Staged:
    """A fsynced temp file waiting to replace ``path``: ``commit()`` renames it over."""

    def __init__(self, tmp: str, path: str) -> None:
        self.tmp, self.path, self.committed = tmp, path, False

    def commit(self) -> None:
        os.replace(self.tmp, self.path)
        self.committed = True


@contextlib.contextmanager
def staged_write(path: str, data: str | bytes, *, mode: int = 0o644) -> Iterator[Staged]:
    """Stage ``data`` for ``path`` durably; the rename happens at ``commit()`` (module docstring).

    Leaving the block without ``commit()`` (or through an exception before it) removes the
    temp file and leaves ``path`` untouched; after a commit, the directory is fsynced.
    """
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=f"{TMP_PREFIX}{os.path.basename(path)}.", suffix=TMP_SUFFIX,
                               dir=directory)
    staged = Staged(tmp, path)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data.encode("utf-8") if isinstance(data, str) else data)
            fh.flush()
            os.fchmod(fh.fileno(), mode)
            os.fsync(fh.fileno())
        yield staged
    finally:
        if staged.committed:
            fsync_dir(directory)
        else:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)


def atomic_write(path: str, data: str | bytes, *, mode: int = 0o644) -> None:
    """Replace ``path`` with ``data`` atomically and durably (see the module docstring)."""
    with staged_write(path, data, mode=mode) as staged:
        staged.commit()
