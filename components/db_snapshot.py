"""``DbSnapshot``: a verified database snapshot taken before a release's migrations.

Provider guarantees:
- ``check`` (preview, pure): validates mode/dir/retention; computes the input
  ``reason`` from the previous inputs, so the preview shows *why* a snapshot will
  be taken ("app version v1.4.0 → v1.5.0; migration files changed: +000050_add_x").
- ``diff`` (pure): a new snapshot is due when the target app version or the
  set/content of migration files changed; other setting changes update in place.
- ``create``/``update``: take the snapshot with ``components.snapshots_pg`` (atomic,
  verified; on failure nothing carries a snapshot name and the step fails, so the
  ``Migrations`` that depend on it never run), then apply retention.
- ``delete``: nothing. ``pulumi destroy`` never deletes a snapshot.

State recorded (outputs): the inputs (``databaseUrl`` secret) plus ``file``,
``sha256``, ``size``, ``createdAt``, ``schemaVersion`` and ``pruned``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi.dynamic import CheckFailure, CheckResult, CreateResult, DiffResult, ResourceProvider, UpdateResult

from components.migration_files import describe_changes

UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
"""How a value not yet known at preview reaches a dynamic provider."""
RETAKE_KEYS = ("appVersion", "migrationFiles")
SNAPSHOT_OUTPUTS = ("file", "path", "sha256", "size", "createdAt", "schemaVersion")


@dataclass
class DbSnapshotArgs:
    database_url: pulumi.Input[str]
    """DSN reaching the database from the host (a secret Output in the program)."""
    snapshot_dir: str
    """Host directory of the snapshots (created 0700)."""
    app_version: str
    """The version being released: part of the file name; a change takes a new snapshot."""
    migration_files: Mapping[str, str]
    """Migration file name → sha256 (``migration_files.fingerprint``); a change takes a new snapshot."""
    mode: str = "container"
    """``container``: pg_dump inside the database container; ``host``: the host's pg_dump."""
    db_container: pulumi.Input[str] | None = None
    """Name of the database container (required in ``container`` mode)."""
    retention_days: int = 7
    """Snapshots older than this are pruned after a new one is taken…"""
    keep_min: int = 3
    """…but the newest ``keep_min`` are always kept."""


def snapshot_reason(olds: Mapping[str, Any], news: Mapping[str, Any]) -> str:
    """Why a snapshot is (re)taken, in words, from the previous and new inputs."""
    if not olds.get("appVersion") and not olds.get("migrationFiles"):
        return f"first deployment of {news.get('appVersion')}"
    parts = []
    if olds.get("appVersion") != news.get("appVersion"):
        parts.append(f"app version {olds.get('appVersion')} → {news.get('appVersion')}")
    changed = describe_changes(olds.get("migrationFiles") or {}, news.get("migrationFiles") or {})
    if changed or olds.get("migrationFiles") != news.get("migrationFiles"):
        parts.append(f"migration files changed: {changed or 'down files only'}")
    return "; ".join(parts) or str(olds.get("reason") or "unchanged")


def _needs_snapshot(olds: Mapping[str, Any], news: Mapping[str, Any]) -> bool:
    return not olds.get("file") or any(olds.get(k) != news.get(k) for k in RETAKE_KEYS)


class DbSnapshotProvider(ResourceProvider):
    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        failures = []
        if news.get("mode") not in ("container", "host"):
            failures.append(CheckFailure("mode", "must be container or host"))
        if news.get("mode") == "container" and not news.get("dbContainer"):
            failures.append(CheckFailure("dbContainer", "is required in container mode"))
        if not os.path.isabs(str(news.get("snapshotDir", ""))):
            failures.append(CheckFailure("snapshotDir", "must be an absolute path"))
        for key in ("retentionDays", "keepMin"):
            value = news.get(key)
            if not isinstance(value, (int, float)) or value < 1:
                failures.append(CheckFailure(key, "must be an integer ≥ 1"))
        reason = snapshot_reason(olds, news) if _needs_snapshot(olds, news) else olds.get("reason", "")
        return CheckResult({**news, "reason": reason}, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        inputs = ("databaseUrl", "snapshotDir", "mode", "dbContainer", "retentionDays", "keepMin",
                  *RETAKE_KEYS)
        changed = [k for k in inputs if olds.get(k) != news.get(k)]
        return DiffResult(changes=bool(changed), replaces=[], delete_before_replace=False)

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(str(props["snapshotDir"]), _take(props))

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        if _needs_snapshot(olds, news):
            return UpdateResult(_take(news))
        kept = {k: olds.get(k) for k in (*SNAPSHOT_OUTPUTS, "pruned")}
        return UpdateResult({**news, **kept, "reason": olds.get("reason", "")})

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        """Snapshots outlive the stack: nothing is deleted."""


def _take(props: dict[str, Any]) -> dict[str, Any]:
    from components.migrate_db import parse_url
    from components.snapshots import prune
    from components.snapshots_pg import Target, create_snapshot

    target = Target(mode=str(props["mode"]), container=props.get("dbContainer") or None)
    snap = create_snapshot(props["databaseUrl"], props["snapshotDir"], target=target,
                           app_version=str(props["appVersion"]), reason=str(props.get("reason") or ""))
    pruned = prune(props["snapshotDir"], retention_days=int(props["retentionDays"]),
                   keep_min=int(props["keepMin"]), database=parse_url(props["databaseUrl"]).dbname)
    meta = snap.meta or {}
    return {**props, "file": snap.name, "path": snap.path, "sha256": meta.get("sha256"),
            "size": snap.size, "createdAt": meta.get("created_at"),
            "schemaVersion": meta.get("schema_version"), "pruned": [p.name for p in pruned]}


class DbSnapshot(pulumi.dynamic.Resource, module="togather", name="DbSnapshot"):
    file: pulumi.Output[str]
    """File name of the snapshot taken for this release (``scripts/snapshot restore FILE``)."""
    path: pulumi.Output[str]
    """Absolute path of that file (the program exports it as ``snapshotPath``)."""
    sha256: pulumi.Output[str]
    size: pulumi.Output[int]

    def __init__(self, name: str, args: DbSnapshotArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        props: dict[str, Any] = {
            "databaseUrl": pulumi.Output.secret(args.database_url), "snapshotDir": args.snapshot_dir,
            "mode": args.mode, "dbContainer": args.db_container, "appVersion": args.app_version,
            "migrationFiles": dict(args.migration_files), "retentionDays": args.retention_days,
            "keepMin": args.keep_min, "reason": None, "pruned": None,
            **{k: None for k in SNAPSHOT_OUTPUTS},
        }
        secret = pulumi.ResourceOptions(additional_secret_outputs=["databaseUrl"])
        super().__init__(DbSnapshotProvider(), name, props, pulumi.ResourceOptions.merge(opts, secret))
