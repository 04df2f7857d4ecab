"""Snapshot files on disk: naming, metadata, verification, listing and retention.

A snapshot is ``<db>_<UTC timestamp>_<app version>.sql.gz`` (a gzip-compressed
plain ``pg_dump``) plus ``<same>.meta.json``. Only complete, verified dumps ever
carry that name: they are written as hidden ``.<name>.partial-<pid>`` files and
renamed (see ``togather_deploy.db.snapshots.dump``). Files are 0600, the directory 0700.

The monitoring and ops tools read ``latest_snapshot(dir)`` (or the ``.meta.json``
files directly) for "last snapshot time/size". Retention never deletes the newest
``keep_min`` snapshots, whatever their age.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from togather_deploy.errors import SnapshotError

SUFFIX = ".sql.gz"
META_SUFFIX = ".meta.json"
TRAILER = b"PostgreSQL database dump complete"
TIME_FORMAT = "%Y%m%dT%H%M%SZ"
NAME_RE = re.compile(r"^(?P<db>.+?)_(?P<ts>[0-9]{8}T[0-9]{6}Z)_(?P<version>[A-Za-z0-9_.-]+)\.sql\.gz$")
PARTIAL_RE = re.compile(r"^\..+\.partial-[0-9]+$")
STALE_PARTIAL_S = 6 * 3600


@dataclass(frozen=True)
class SnapshotInfo:
    name: str
    path: str
    database: str
    created_at: datetime
    app_version: str
    size: int
    meta: dict[str, Any] | None = field(default=None, compare=False)
    """The ``.meta.json`` content, ``None`` when it is missing or unreadable."""

    @property
    def meta_path(self) -> str:
        return meta_path(self.path)


def snapshot_name(database: str, created_at: datetime, app_version: str) -> str:
    version = re.sub(r"[^A-Za-z0-9_.-]", "-", app_version or "manual")
    return f"{database}_{created_at.astimezone(UTC).strftime(TIME_FORMAT)}_{version}{SUFFIX}"


def meta_path(path: str) -> str:
    return path[: -len(SUFFIX)] + META_SUFFIX


def parse_name(name: str) -> tuple[str, datetime, str] | None:
    match = NAME_RE.match(name)
    if match is None:
        return None
    created = datetime.strptime(match.group("ts"), TIME_FORMAT).replace(tzinfo=UTC)
    return match.group("db"), created, match.group("version")


def list_snapshots(directory: str, database: str | None = None) -> list[SnapshotInfo]:
    """Complete snapshots in ``directory``, newest first (a missing directory has none)."""
    try:
        names = os.listdir(directory)
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise SnapshotError("snapshot directory cannot be read", file=directory, cause=exc) from None
    out = []
    for name in names:
        parsed = parse_name(name)
        if parsed is None or (database is not None and parsed[0] != database):
            continue
        path = os.path.join(directory, name)
        try:
            size = os.stat(path).st_size
        except FileNotFoundError:
            continue  # pruned meanwhile
        out.append(SnapshotInfo(name=name, path=path, database=parsed[0], created_at=parsed[1],
                                app_version=parsed[2], size=size, meta=_read_meta(meta_path(path))))
    return sorted(out, key=lambda s: (s.created_at, s.name), reverse=True)


def latest_snapshot(directory: str, database: str | None = None) -> SnapshotInfo | None:
    """The newest complete snapshot, for monitoring ("last snapshot time/size")."""
    found = list_snapshots(directory, database)
    return found[0] if found else None


def find_snapshot(directory: str, name: str) -> SnapshotInfo:
    """A snapshot by file name (or path) in ``directory``."""
    base = os.path.basename(name)
    for snap in list_snapshots(directory):
        if snap.name == base:
            return snap
    raise SnapshotError(f"no snapshot named {base}", file=os.path.join(directory, base),
                        fix="scripts/snapshot list  (to see the names)", exit_code=10)


def _read_meta(path: str) -> dict[str, Any] | None:
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
        return data if isinstance(data, dict) else None
    except (OSError, ValueError):
        return None


@dataclass(frozen=True)
class Verified:
    sha256: str
    size: int


def verify_file(path: str, expected_sha256: str | None = None) -> Verified:
    """Read the whole file: gzip intact (CRC), the dump's completion trailer present,
    and the sha256 equal to ``expected_sha256`` when given. Raises ``SnapshotError``."""
    digest = hashlib.sha256()
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    tail = b""
    size = 0
    try:
        with open(path, "rb") as fh:
            while chunk := fh.read(1 << 20):
                size += len(chunk)
                digest.update(chunk)
                tail = (tail + inflater.decompress(chunk))[-4096:]
        tail = (tail + inflater.flush())[-4096:]
    except zlib.error as exc:
        raise SnapshotError("snapshot is not a valid gzip file (corrupt)", file=path, cause=exc) from None
    except OSError as exc:
        raise SnapshotError("snapshot cannot be read", file=path, cause=exc) from None
    if not inflater.eof or inflater.unused_data:
        raise SnapshotError("snapshot is truncated (the gzip stream does not end cleanly)", file=path)
    if TRAILER not in tail:
        raise SnapshotError("snapshot is incomplete: pg_dump's completion trailer is missing", file=path)
    sha = digest.hexdigest()
    if expected_sha256 and sha != expected_sha256:
        raise SnapshotError("snapshot checksum does not match its .meta.json", file=path,
                            context={"expected": expected_sha256, "actual": sha})
    return Verified(sha256=sha, size=size)


def verify_snapshot(snap: SnapshotInfo) -> Verified:
    expected = snap.meta.get("sha256") if snap.meta else None
    return verify_file(snap.path, expected if isinstance(expected, str) else None)


def plan_prune(snapshots: list[SnapshotInfo], now: datetime, retention_days: int,
               keep_min: int) -> list[SnapshotInfo]:
    """Which snapshots retention removes: older than ``retention_days``, never the newest ``keep_min``."""
    newest_first = sorted(snapshots, key=lambda s: (s.created_at, s.name), reverse=True)
    cutoff = now - timedelta(days=retention_days)
    return [s for s in newest_first[keep_min:] if s.created_at < cutoff]


def prune(directory: str, *, retention_days: int, keep_min: int, database: str | None = None,
          now: datetime | None = None, dry_run: bool = False) -> list[SnapshotInfo]:
    """Delete what ``plan_prune`` selects (dump and meta) and stale partial files."""
    doomed = plan_prune(list_snapshots(directory, database), now or datetime.now(UTC),
                        retention_days, keep_min)
    if dry_run:
        return doomed
    for snap in doomed:
        for path in (snap.path, snap.meta_path):
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass
            except OSError as exc:
                raise SnapshotError("cannot delete an expired snapshot", file=path, cause=exc) from None
    _remove_stale_partials(directory)
    return doomed


def _remove_stale_partials(directory: str) -> None:
    try:
        names = os.listdir(directory)
    except OSError:
        return
    for name in names:
        path = os.path.join(directory, name)
        try:
            if PARTIAL_RE.match(name) and time.time() - os.stat(path).st_mtime > STALE_PARTIAL_S:
                os.unlink(path)
        except OSError:
            continue
