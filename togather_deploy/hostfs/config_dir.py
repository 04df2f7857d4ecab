"""A tool's config directory on the host: files written atomically, read back by digest.

The host half of ``components.providers.monitoring_files.ConfigFiles`` (Prometheus,
Alertmanager, Grafana, the exporter, the backup's secret files); ``on_host`` also reads
back ``HostSchedule``'s cron file. Guarantees:

- ``write_files`` writes each file atomically (``hostfs.atomic``) with exactly ``mode``;
  with a ``group`` (the container user's gid) files and directories are owned by it and
  directories are 0750, so a secret in them is readable by the tool, not by other users.
  It removes the files the previous version managed and this one does not.
- ``remove_files`` removes only the named files, never the directory's other contents.
- ``on_host`` only reads: the SHA-256 of a file as the tool would read it, or "" when it
  is gone, is not a regular file, is reached through a link out of the directory, or
  lost its mode.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
from collections.abc import Mapping
from typing import Any

from togather_deploy.errors import DeployError
from togather_deploy.hostfs.atomic import atomic_write
from togather_deploy.hostfs.paths import make_dirs


def digests(files: Mapping[str, str]) -> dict[str, str]:
    return {rel: hashlib.sha256(text.encode()).hexdigest() for rel, text in sorted(files.items())}


def on_host(directory: str, rel: str, mode: int | None = None) -> str:
    """The SHA-256 of ``directory/rel`` as the tool would read it; "" when there is none, or
    when its permissions are not ``mode`` (a secret file made world-readable is rewritten)."""
    path = os.path.join(directory, rel)
    try:
        st = os.lstat(path)
        if os.path.commonpath([os.path.realpath(path), os.path.realpath(directory)]) != \
                os.path.realpath(directory) or not stat.S_ISREG(st.st_mode):
            return ""  # a planted link, or a directory where the file was
        if mode is not None and stat.S_IMODE(st.st_mode) != mode:
            return ""
        with open(path, "rb") as fh:
            return hashlib.sha256(fh.read()).hexdigest()
    except (OSError, ValueError):
        return ""


def _owned(path: str, mode: int, group: int | None) -> None:
    """Give ``path`` to ``group`` (the container user's) so that others cannot read it."""
    if group is None:
        return
    try:
        os.chown(path, -1, group)
        os.chmod(path, mode)
    except PermissionError as exc:
        raise DeployError(f"cannot give {path} to group {group}", file=path, cause=exc,
                          fix="run `pulumi up` as root (the state directory belongs to root)") from None


def write_files(directory: str, files: Mapping[str, str], mode: int, group: int | None = None,
                previous: Mapping[str, str] = {}) -> None:  # noqa: B006 (read only)
    """Write ``files`` under ``directory``; with ``group``, directories are 0750 and owned by it."""
    dir_mode = 0o755 if group is None else 0o750
    make_dirs(directory, dir_mode)
    _owned(directory, dir_mode, group)
    for rel, text in sorted(files.items()):
        path = os.path.join(directory, rel)
        parent = os.path.dirname(path)
        make_dirs(parent, dir_mode)
        _owned(parent, dir_mode, group)
        atomic_write(path, text, mode=mode)
        _owned(path, mode, group)
    remove_files(directory, [rel for rel in previous if rel not in files])


def remove_files(directory: str, rels: Any) -> None:
    for rel in rels:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(os.path.join(directory, rel))
