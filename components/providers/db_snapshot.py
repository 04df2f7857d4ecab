"""``DbSnapshot``: a verified database snapshot taken before a release's migrations.

Provider guarantees:
- ``check`` (preview, pure): validates mode/dir/retention; computes the input
  ``reason`` from the previous inputs, so the preview shows *why* a snapshot will
  be taken ("app version v1.4.0 → v1.5.0; migration files changed: +000050_add_x").
- ``diff`` (pure): a new snapshot is due when the target app version or the
  set/content of migration files changed; other setting changes update in place.
- Inputs: ``SnapshotInputs`` (``components.providers.inputs``), parsed alike by
  every method (retention counts arrive as floats and become ints).
- ``create``/``update``: first wait (bounded, ``waitSeconds``; ``togather_deploy.db.wait``,
  the same wait as ``ExporterRole``) for a database container that may still be
  booting; then take the snapshot with ``togather_deploy.db.snapshots.dump`` (atomic,
  verified; on failure nothing carries a snapshot name and the step fails, so the
  ``Migrations`` that depend on it never run), then apply retention.
- ``delete``: nothing. ``pulumi destroy`` never deletes a snapshot.

State recorded (outputs): the inputs (``databaseUrl`` secret) plus ``file``,
``sha256``, ``size``, ``createdAt``, ``schemaVersion`` and ``pruned``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi.dynamic import CheckFailure, CheckResult, CreateResult, DiffResult, ResourceProvider, UpdateResult

from components.providers import inputs as provider_inputs
from components.providers.failures import operator_errors
from togather_deploy.db.migrations.files import describe_changes
from togather_deploy.db.wait import DEFAULT_WAIT_SECONDS, wait_until_ready
from togather_deploy.errors import SnapshotError

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


@dataclass(frozen=True)
class SnapshotInputs:
    """The provider's inputs as ``check`` validated them (``components.providers.inputs``).

    Field names are the recorded property names (camelCase, as in the state).
    """

    databaseUrl: str = field(metadata=provider_inputs.SECRET)  # noqa: N815
    snapshotDir: str = ""  # noqa: N815
    appVersion: str = ""  # noqa: N815
    migrationFiles: dict[str, str] = field(default_factory=dict)  # noqa: N815
    mode: str = "container"
    dbContainer: str | None = None  # noqa: N815
    retentionDays: int = 7  # noqa: N815
    keepMin: int = 3  # noqa: N815
    waitSeconds: float = DEFAULT_WAIT_SECONDS  # noqa: N815
    """How long create/update wait for a database that is still starting."""
    reason: str = ""
    """Computed by ``check``: why a snapshot is taken."""

    @classmethod
    def from_props(cls, props: Mapping[str, Any]) -> SnapshotInputs:
        return provider_inputs.parse(cls, props)


def _failures(i: SnapshotInputs) -> list[CheckFailure]:
    failures = []
    if i.mode not in ("container", "host") and not provider_inputs.is_unknown(i.mode):
        failures.append(CheckFailure("mode", f"must be container or host, got {i.mode!r}"))
    if i.mode == "container" and not i.dbContainer:
        failures.append(CheckFailure("dbContainer", "is required in container mode"))
    if not provider_inputs.is_unknown(i.snapshotDir) and not os.path.isabs(i.snapshotDir):
        failures.append(CheckFailure("snapshotDir", f"must be an absolute path, got {i.snapshotDir!r}"))
    for key in ("retentionDays", "keepMin"):
        value = getattr(i, key)
        if not provider_inputs.is_unknown(value) and value < 1:
            failures.append(CheckFailure(key, f"must be an integer ≥ 1, got {value}"))
    return failures


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


@operator_errors
class DbSnapshotProvider(ResourceProvider):
    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        failures = provider_inputs.check_failures(SnapshotInputs, news)
        if failures:
            return CheckResult(news, failures)
        i = SnapshotInputs.from_props(news)
        reason = snapshot_reason(olds, news) if _needs_snapshot(olds, news) else olds.get("reason", "")
        return CheckResult({**provider_inputs.props(i), "reason": reason}, _failures(i))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        new = SnapshotInputs.from_props(news)
        inputs = ("databaseUrl", "snapshotDir", "mode", "dbContainer", "retentionDays", "keepMin",
                  *RETAKE_KEYS)
        changed = [k for k in inputs if olds.get(k) != getattr(new, k)]
        return DiffResult(changes=bool(changed), replaces=[], delete_before_replace=False)

    def create(self, props: dict[str, Any]) -> CreateResult:
        i = SnapshotInputs.from_props(props)
        return CreateResult(i.snapshotDir, _take(i))

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        i = SnapshotInputs.from_props(news)
        if _needs_snapshot(olds, news):
            return UpdateResult(_take(i))
        kept = {k: olds.get(k) for k in (*SNAPSHOT_OUTPUTS, "pruned")}
        return UpdateResult({**provider_inputs.props(i), **kept, "reason": olds.get("reason", "")})

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        """Snapshots outlive the stack: nothing is deleted."""


def _take(i: SnapshotInputs) -> dict[str, Any]:
    from togather_deploy.db.migrations.database import parse_url
    from togather_deploy.db.snapshots.dump import Target, create_snapshot
    from togather_deploy.db.snapshots.store import prune

    _wait_for_database(i)
    target = Target(mode=i.mode, container=i.dbContainer or None)
    snap = create_snapshot(i.databaseUrl, i.snapshotDir, target=target, app_version=i.appVersion,
                           reason=i.reason)
    pruned = prune(i.snapshotDir, retention_days=i.retentionDays, keep_min=i.keepMin,
                   database=parse_url(i.databaseUrl).dbname)
    meta = snap.meta or {}
    return {**provider_inputs.props(i), "file": snap.name, "path": snap.path, "sha256": meta.get("sha256"),
            "size": snap.size, "createdAt": meta.get("created_at"),
            "schemaVersion": meta.get("schema_version"), "pruned": [p.name for p in pruned]}


def _wait_for_database(i: SnapshotInputs) -> None:
    """The first snapshot may run while the database container is still booting: wait (bounded)."""
    import psycopg

    from togather_deploy.db.migrations.database import redact

    try:
        wait_until_ready(i.databaseUrl, i.waitSeconds)
    except psycopg.OperationalError as exc:
        why = redact(str(exc), i.databaseUrl).strip()
        raise SnapshotError(f"the database did not accept connections within {i.waitSeconds:g}s; "
                            "no snapshot was taken", context={"error": why},
                            fix="check that the database container is running and reachable on its "
                                "127.0.0.1 host port, then run `pulumi up` again") from None


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
