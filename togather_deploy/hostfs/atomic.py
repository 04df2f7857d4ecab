"""Atomic, durable file replacement: the one implementation every writer uses.

A write goes: temp file in the same directory (``mkstemp``: O_EXCL, never follows a
planted symlink) → write → chmod → fsync → rename over the target → fsync the
directory. ``rename`` is atomic on one filesystem, so a reader (nginx's ``router.js``
per request, node-exporter's textfile collector) sees the whole old file or the whole
new one. A process SIGKILLed at any instant leaves the target untouched or replaced,
plus at most one stray ``.togather-<name>.*.tmp`` that ``sweep_temp_files`` removes.
"""

from __future__ import annotations

import contextlib
import glob
import os
import tempfile

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


def atomic_write(path: str, data: str | bytes, *, mode: int = 0o644) -> None:
    """Replace ``path`` with ``data`` atomically and durably (see the module docstring)."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=f"{TMP_PREFIX}{os.path.basename(path)}.", suffix=TMP_SUFFIX,
                               dir=directory)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data.encode("utf-8") if isinstance(data, str) else data)
            fh.flush()
            os.fchmod(fh.fileno(), mode)
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    fsync_dir(directory)
