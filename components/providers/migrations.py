"""``Migrations``: apply the release's pending migrations, after its snapshot, before its slot.

Provider guarantees:
- ``check`` (preview, pure; reads no file and no database): validates the file
  names (bad names, duplicate versions, a down without an up → a failure naming
  the file); computes the inputs ``pending`` (up files not recorded by the
  previous run, by name) and ``lintWarnings`` (blue/green lint findings of those
  files, computed by the program with ``togather_deploy.db.migrations.lint``), so the
  preview lists exactly what will run and what is unsafe (on a first deployment
  no old colour exists, so nothing is linted). With ``lint: error`` any finding
  is a check failure. Warnings are also written with
  ``pulumi.log.warn`` (from the provider process that falls back to stderr).
- Inputs: ``MigrationsInputs`` (``components.providers.inputs``), parsed alike
  by every method.
- ``diff`` (pure): changes when a file has a version above the recorded
  ``schemaVersion``, or the files, app version or snapshot changed.
- ``create``/``update``: re-read the directory and refuse if it differs from the
  previewed hashes; then ``togather_deploy.db.migrations.apply.migrate_up`` (advisory lock,
  one transaction per file with its version bump, dirty refusal naming the
  snapshot). Idempotent: nothing pending, nothing runs.
- ``delete``: nothing; the schema stays with the data.

State recorded (outputs): the inputs (``databaseUrl`` secret), ``schemaVersion``,
``applied`` (version, name, durationS, transactional of the last run).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi.dynamic import CheckFailure, CheckResult, CreateResult, DiffResult, ResourceProvider, UpdateResult

from components.providers import inputs as provider_inputs
from components.providers.failures import operator_errors
from togather_deploy.db.migrations.files import pending_names

CHANGE_KEYS = ("migrationsDir", "migrationFiles", "appVersion", "snapshot", "lint", "databaseUrl")


@dataclass
class MigrationsArgs:
    database_url: pulumi.Input[str]
    """DSN reaching the database from the host (a secret Output in the program)."""
    migrations_dir: str
    """Absolute path of the golang-migrate directory on the machine running ``pulumi up``."""
    migration_files: Mapping[str, str]
    """File name → sha256 of every ``*.sql`` file (``migration_files.fingerprint``)."""
    lint_findings: Mapping[str, list[str]]
    """Up-file name → blue/green lint findings (``migration_lint``), computed by the program."""
    app_version: str
    """The version being released (recorded; a change re-checks the database)."""
    snapshot: pulumi.Input[str]
    """The ``DbSnapshot`` file taken just before: orders the two and names the way back."""
    lint: str = "warn"
    """``warn``: findings are shown in preview; ``error``: they fail it."""
    lock_timeout_seconds: int = 120
    """How long to wait for another migration run to release the lock."""


@dataclass(frozen=True)
class MigrationsInputs:
    """The provider's inputs as ``check`` validated them (``components.providers.inputs``).

    Field names are the recorded property names (camelCase, as in the state).
    """

    databaseUrl: str = field(metadata=provider_inputs.SECRET)  # noqa: N815
    migrationsDir: str = ""  # noqa: N815
    migrationFiles: dict[str, str] = field(default_factory=dict)  # noqa: N815
    lintFindings: dict[str, list[str]] = field(default_factory=dict)  # noqa: N815
    appVersion: str = ""  # noqa: N815
    snapshot: str = ""
    """The snapshot file taken just before (unknown in preview when a new one is due)."""
    lint: str = "warn"
    lockTimeoutSeconds: float = 120.0  # noqa: N815

    @classmethod
    def from_props(cls, props: Mapping[str, Any]) -> MigrationsInputs:
        return provider_inputs.parse(cls, props)


def _recorded_files(olds: Mapping[str, Any]) -> Mapping[str, str]:
    files = olds.get("migrationFiles")
    return files if isinstance(files, Mapping) else {}


def _lint(olds: Mapping[str, Any], i: MigrationsInputs) -> tuple[list[str], list[str], list[CheckFailure]]:
    """(pending up files, blue/green warnings about them, failures)."""
    from togather_deploy.db.migrations.files import parse_migrations
    from togather_deploy.errors import ConfigError

    failures = []
    try:
        parse_migrations({name: "" for name in i.migrationFiles})
    except ConfigError as exc:
        fix = f" ({exc.fix})" if exc.fix else ""
        failures.append(CheckFailure("migrationFiles", exc.message + fix))
    if i.lint not in ("warn", "error"):
        failures.append(CheckFailure("lint", f"must be warn or error, got {i.lint!r}"))
    before = _recorded_files(olds)
    pending = [n for n in pending_names(dict(i.migrationFiles), None) if f"{n}.up.sql" not in before]
    # A first deployment has no old colour running on the schema: nothing to warn about.
    findings = i.lintFindings if before else {}
    warnings = [w for n in pending for w in findings.get(f"{n}.up.sql", [])]
    if warnings and i.lint == "error":
        failures.append(CheckFailure("lintWarnings", "unsafe for blue/green (migrations.lint is error): "
                                     + "; ".join(warnings)))
    return pending, warnings, failures


@operator_errors
class MigrationsProvider(ResourceProvider):
    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        failures = provider_inputs.check_failures(MigrationsInputs, news)
        if failures:
            return CheckResult(news, failures)
        i = MigrationsInputs.from_props(news)
        pending, warnings, failures = _lint(olds, i)
        for warning in warnings:
            pulumi.log.warn(f"migration unsafe for blue/green: {warning}")
        return CheckResult({**provider_inputs.props(i), "pending": pending, "lintWarnings": warnings},
                           failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        i = MigrationsInputs.from_props(news)
        version = olds.get("schemaVersion")
        recorded = int(version) if isinstance(version, (int, float)) else None  # a float in the state
        above = pending_names(dict(i.migrationFiles), recorded)
        changed = [k for k in CHANGE_KEYS if olds.get(k) != getattr(i, k)]
        return DiffResult(changes=bool(above or changed), replaces=[], delete_before_replace=False)

    def create(self, props: dict[str, Any]) -> CreateResult:
        i = MigrationsInputs.from_props(props)
        return CreateResult(i.migrationsDir, _migrate(i))

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(_migrate(MigrationsInputs.from_props(news)))

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        """Migrations are never undone: the schema stays with the data."""


def _migrate(i: MigrationsInputs) -> dict[str, Any]:
    from togather_deploy.db.migrations.apply import migrate_up
    from togather_deploy.db.migrations.files import (
        describe_changes,
        fingerprint,
        parse_migrations,
        read_directory,
    )
    from togather_deploy.errors import ConfigError

    texts = read_directory(i.migrationsDir)
    now = fingerprint(texts)
    if now != i.migrationFiles:
        raise ConfigError("migration files changed between preview and update: "
                          + (describe_changes(i.migrationFiles, now) or "down files"),
                          file=i.migrationsDir,
                          fix="run `pulumi up` again so the preview shows what will run")
    result = migrate_up(i.databaseUrl, parse_migrations(texts, i.migrationsDir),
                        lock_timeout_s=i.lockTimeoutSeconds, snapshot=i.snapshot or None)
    applied = [{"version": a.version, "name": a.name, "durationS": a.duration_s,
                "transactional": a.transactional} for a in result.applied]
    return {**provider_inputs.props(i), "schemaVersion": result.version, "applied": applied, "pending": []}


class Migrations(pulumi.dynamic.Resource, module="togather", name="Migrations"):
    schemaVersion: pulumi.Output[int]  # noqa: N815 (the output's name in the state)
    """The database's migration version after this run."""
    applied: pulumi.Output[list[Any]]
    """Migrations this run applied: version, name, durationS, transactional."""

    def __init__(self, name: str, args: MigrationsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        props: dict[str, Any] = {
            "databaseUrl": pulumi.Output.secret(args.database_url), "migrationsDir": args.migrations_dir,
            "migrationFiles": dict(args.migration_files),
            "lintFindings": {k: list(v) for k, v in args.lint_findings.items()},
            "appVersion": args.app_version, "snapshot": args.snapshot, "lint": args.lint,
            "lockTimeoutSeconds": args.lock_timeout_seconds,
            "pending": None, "lintWarnings": None, "schemaVersion": None, "applied": None,
        }
        secret = pulumi.ResourceOptions(additional_secret_outputs=["databaseUrl"])
        super().__init__(MigrationsProvider(), name, props, pulumi.ResourceOptions.merge(opts, secret))
