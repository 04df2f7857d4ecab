"""Atomic writes of the router's files, and the crash protocol of a switch.

Every write goes: temp file in the same directory → write → fsync → rename over
the target → fsync the directory. ``rename`` is atomic on one filesystem, so a
reader (nginx's ``router.js``, per request) sees the whole old file or the whole
new one. A process SIGKILLed at any instant leaves the target untouched or
replaced, plus at most one stray ``.*.tmp`` file that the next write sweeps up;
the ``active_color`` file therefore always holds exactly ``blue`` or ``green``.
"""

from __future__ import annotations

import contextlib
import glob
import os
import tempfile

from togather_deploy.config.model import COLORS
from togather_deploy.errors import DeployError
from togather_deploy.render.nginx import ACTIVE_FILE

FILE_MODE = 0o644
DIR_MODE = 0o755
_TMP_PREFIX = ".togather-"
_TMP_SUFFIX = ".tmp"


def ensure_dir(path: str) -> None:
    """Create the router directory (0755: nginx's workers must read it)."""
    os.makedirs(path, mode=DIR_MODE, exist_ok=True)
    os.chmod(path, DIR_MODE)


def _fsync_dir(path: str) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def sweep_temp_files(directory: str, name: str) -> None:
    """Remove temp files a killed writer of ``name`` left behind (never the live files)."""
    for stray in glob.glob(os.path.join(directory, f"{_TMP_PREFIX}{name}.*{_TMP_SUFFIX}")):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(stray)


def atomic_write(path: str, text: str, *, mode: int = FILE_MODE) -> None:
    """Replace ``path`` with ``text`` atomically and durably (see module docstring)."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=f"{_TMP_PREFIX}{os.path.basename(path)}.", suffix=_TMP_SUFFIX,
                               dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fchmod(fh.fileno(), mode)
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_dir(directory)


def read_text(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as fh:
            return fh.read()
    except FileNotFoundError:
        return None


def write_active_color(directory: str, color: str) -> None:
    """Point the router at ``color`` (the only write a traffic flip makes)."""
    if color not in COLORS:
        raise DeployError(f"active colour must be blue or green, got {color!r}")
    sweep_temp_files(directory, ACTIVE_FILE)
    atomic_write(os.path.join(directory, ACTIVE_FILE), color + "\n")


def read_active_color(directory: str) -> str | None:
    """The colour the router serves now; ``None`` when the file is absent.

    A file that exists but holds anything else is an error, not a guess.
    """
    path = os.path.join(directory, ACTIVE_FILE)
    text = read_text(path)
    if text is None:
        return None
    color = text.strip()
    if color not in COLORS:
        raise DeployError(f"{path} holds {color[:40]!r}, not blue or green", file=path,
                          fix="write the colour that should serve: echo blue > " + path)
    return color
