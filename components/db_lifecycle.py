"""The release's database steps, declared in order: Database → DbSnapshot → Migrations → slot.

``declare_db_lifecycle`` reads and validates the migrations directory at program
time (a bad file stops ``pulumi preview`` with its name), lints it, and declares
both resources with the right ``depends_on``; the caller makes the new colour's
``AppSlot`` depend on the returned ``Migrations``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi

from components.providers.db_snapshot import DbSnapshot, DbSnapshotArgs
from components.providers.migrations import Migrations, MigrationsArgs
from togather_deploy.config.model import DeployConfig
from togather_deploy.db.migrations.files import fingerprint, parse_migrations, read_directory
from togather_deploy.db.migrations.lint import lint_sql


@dataclass(frozen=True)
class MigrationInputs:
    """What the program computes from the migrations directory (pure, read-only)."""

    files: dict[str, str]
    """File name → sha256."""
    findings: dict[str, list[str]]
    """Up-file name → lint findings (only files that have some)."""


def migration_inputs(directory: str) -> MigrationInputs:
    texts = read_directory(directory)
    parse_migrations(texts, directory)  # raises ConfigError naming the bad file
    findings = {name: [str(f) for f in lint_sql(name, text)]
                for name, text in texts.items() if name.endswith(".up.sql")}
    return MigrationInputs(files=fingerprint(texts), findings={k: v for k, v in findings.items() if v})


def declare_db_lifecycle(
    name: str,
    cfg: DeployConfig,
    *,
    target_version: str,
    database_url: pulumi.Input[str],
    db_container_name: pulumi.Input[str],
    depends_on: Sequence[pulumi.Resource] = (),
    opts: pulumi.ResourceOptions | None = None,
) -> tuple[DbSnapshot, Migrations]:
    """Declare ``<name>-snapshot`` then ``<name>-migrations``; return both.

    ``depends_on`` is what must exist first (the ``Database``); ``database_url``
    is the host DSN (``Database.host_url``, a secret Output).
    """
    inputs = migration_inputs(cfg.migrations.dir)
    base = opts or pulumi.ResourceOptions()
    snapshot = DbSnapshot(
        f"{name}-snapshot",
        DbSnapshotArgs(database_url=database_url, snapshot_dir=cfg.snapshots.dir, app_version=target_version,
                       migration_files=inputs.files, mode=cfg.snapshots.mode,
                       db_container=db_container_name, retention_days=cfg.snapshots.retention_days,
                       keep_min=cfg.snapshots.keep_min),
        base.merge(pulumi.ResourceOptions(depends_on=list(depends_on))))
    migrations = Migrations(
        f"{name}-migrations",
        MigrationsArgs(database_url=database_url, migrations_dir=cfg.migrations.dir,
                       migration_files=inputs.files, lint_findings=inputs.findings,
                       app_version=target_version, snapshot=snapshot.file, lint=cfg.migrations.lint),
        base.merge(pulumi.ResourceOptions(depends_on=[*depends_on, snapshot])))
    return snapshot, migrations
