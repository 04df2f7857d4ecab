"""What deploy and rollback share: the restore-on-failure switch and the ending
(audit event, ``togather_deploy_*`` metrics, notification).

``restore_active_on_failure`` guarantees: if anything in its block fails after
``activeColor`` may have changed, ``activeColor`` is set back to the previous
colour and ``pulumi up`` runs again; the failure is re-raised as
``SwitchRestored`` (same exit code). If the restore itself fails, a plain
``DeployError`` (exit 1) says traffic state is unknown and what to run. With a
``StackWatch``, nothing is restored once someone else has edited the stack
config: their edit stands and ``StackChangedError`` (exit 3) says so.

``finish`` never raises: a broken metrics directory or notification target is
reported, never allowed to turn a good deploy into a failed one.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

from togather_deploy.cli.render import StageResult, Stages, error_data
from togather_deploy.config.model import DeployConfig
from togather_deploy.config.source import from_stack_file, with_engine_secrets
from togather_deploy.errors import DeployError, StackChangedError
from togather_deploy.ops import audit, notify
from togather_deploy.ops.context import OpsContext
from togather_deploy.ops.engine import engine_of
from togather_deploy.ops.stack_watch import StackWatch


@dataclass(frozen=True)
class OperationResult:
    """What a deploy or rollback did (printed for humans or as ``--json``)."""

    operation: str
    stack: str
    version: str | None
    from_color: str
    to_color: str
    outcome: str
    """``completed`` | ``failed`` | ``rolled_back`` (switch failed, previous colour restored)"""
    exit_code: int
    stages: tuple[StageResult, ...]
    error: dict[str, Any] | None
    migrations_applied: tuple[str, ...]
    snapshot: str | None
    notifications: tuple[dict[str, Any], ...]
    metrics_file: str | None


@dataclass
class SwitchRestored(DeployError):
    """The switch failed and the previous colour was put back (exit code of the failure)."""


@dataclass
class Outcome:
    """The running record of one deploy or rollback (mutable while it runs)."""

    ctx: OpsContext
    cfg: DeployConfig
    stages: Stages
    secrets: tuple[str, ...]
    kind: str
    """``deployment`` | ``rollback`` (audit event prefix)."""
    version: str | None
    from_color: str
    to_color: str
    started_at: float = 0.0
    status: str = "running"
    exit_code: int = 0
    error: DeployError | None = None
    migrations: list[str] = field(default_factory=list)
    snapshot: str | None = None
    notifications: list[dict[str, Any]] = field(default_factory=list)
    metrics_file: str | None = None

    def __post_init__(self) -> None:
        self.started_at = self.ctx.clock()

    def record(self, what: str) -> None:
        event = audit.make_event(
            f"{self.kind}.{what}", stack=self.ctx.stack, version=self.version,
            from_color=self.from_color, to_color=self.to_color, stages=self.stages.durations(),
            migrations=self.migrations, snapshot=self.snapshot,
            error=str(self.error) if self.error else None,
            exit_code=self.exit_code if what != "started" else None, clock=self.ctx.clock)
        try:
            audit.append(self.cfg.state_dir, event, secrets=self.secrets)
        except DeployError as exc:  # not the tool's own state dir, a symlink at audit.log
            if what == "started":
                raise  # nothing has changed yet: refuse rather than run unaudited
            self.stages.note(f"audit log not written: {exc}")
        except OSError as exc:
            self.stages.note(f"audit log not written: {exc}")


@contextlib.contextmanager
def restore_active_on_failure(ctx: OpsContext, stages: Stages, previous: str,
                              watch: StackWatch | None = None) -> Iterator[None]:
    try:
        yield
    except StackChangedError:
        raise  # someone else edited the stack: writing activeColor back would go over their edit
    except DeployError as exc:
        if watch is not None:
            _no_restore_over_other_edits(ctx, watch, previous, exc)
        stages.note(f"switch failed: {exc.message}; restoring activeColor = {previous}")
        try:
            with stages.stage("restore", f"activeColor = {previous}; pulumi up"):
                if watch is None:
                    engine_of(ctx).set_config("activeColor", previous)
                    engine_of(ctx).up(f"pulumi up (restore {previous})", ctx.on_progress)
                else:
                    watch.edit(ctx, "activeColor", previous)
                    watch.up(ctx, f"pulumi up (restore {previous})")
        except DeployError as restore_exc:
            raise DeployError(
                f"switch failed ({exc.message}) AND restoring activeColor={previous} failed "
                f"({restore_exc.message}): which colour serves traffic is unknown",
                context={**exc.context, **{f"restore {k}": v for k, v in restore_exc.context.items()}},
                fix=f"scripts/status {ctx.stack}; then `pulumi config set togather:activeColor "
                    f"{previous} --stack {ctx.stack} && pulumi up --stack {ctx.stack}`",
                cause=restore_exc) from exc
        raise SwitchRestored(f"{exc.message}; traffic restored to {previous}",
                             context=exc.context, fix=exc.fix, cause=exc,
                             exit_code=exc.exit_code) from exc


def _no_restore_over_other_edits(ctx: OpsContext, watch: StackWatch, previous: str,
                                 exc: DeployError) -> None:
    try:
        watch.check(ctx, f"restoring activeColor = {previous}")
    except StackChangedError as changed:
        changed.message = (f"switch failed ({exc.message}) and {changed.message}: which colour "
                           "serves traffic is unknown")
        changed.context = {**exc.context, **changed.context}
        raise changed from exc


def interrupted(ctx: OpsContext) -> DeployError:
    """Ctrl-C: recorded as a failure; nothing is restored automatically (the operator stopped it)."""
    return DeployError("interrupted by the operator", fix=(
        f"scripts/status {ctx.stack} shows which colour serves; then deploy or roll back again "
        "(the next `pulumi up` reports any operation left pending and carries on). Do not run a "
        "plain `pulumi refresh`: it drops stopped database/router containers from the state "
        "(docs/operations.md, 'Interrupted releases')"))


def migrations_and_snapshot(ctx: OpsContext, cfg: DeployConfig,
                            stages: Stages) -> tuple[list[str], str | None]:
    """From the stack outputs ``migrationsApplied`` (the ``Migrations`` resource's ``applied``)
    and ``snapshotPath`` (the ``DbSnapshot``'s ``path``); best effort, never fails the deploy."""
    outputs: dict[str, Any] = {}
    try:
        outputs = engine_of(ctx).outputs()
    except DeployError as exc:
        stages.note(f"stack outputs unreadable: {exc}")
    raw = outputs.get("migrationsApplied") or []
    migrations = [_migration_name(m) for m in raw] if isinstance(raw, list) else []
    snapshot = outputs.get("snapshotPath")
    if not snapshot:
        from togather_deploy.ops import metrics as deploy_metrics  # see finish()

        facts = deploy_metrics.latest_snapshot(cfg.snapshots.dir)
        snapshot = facts.path if facts and facts.timestamp >= ctx.clock() - 3600 else None
    return migrations, str(snapshot) if snapshot else None


def _migration_name(item: Any) -> str:
    """``Migrations.applied`` items are ``{version, name, ...}``; plain strings pass through."""
    if isinstance(item, dict) and "version" in item:
        v = item["version"]
        # The engine hands numbers back as floats (4.0); golang-migrate numbers files 000004.
        if isinstance(v, float) and v.is_integer():
            v = int(v)
        version = f"{v:06d}" if isinstance(v, int) else str(v)
        return f"{version}_{item.get('name') or ''}".rstrip("_")
    return str(item)


def finish(o: Outcome, exc: DeployError | None) -> None:
    """Close the record: audit, metrics, notification. Never raises."""
    if exc is None:
        o.status, o.exit_code = "completed", 0
    else:
        o.status = "rolled_back" if isinstance(exc, SwitchRestored) else "failed"
        o.exit_code, o.error = exc.exit_code, exc
    o.record(o.status)
    try:
        # imported here: prometheus_client is not needed to refuse at pre-flight (a user who
        # cannot read the venv gets the pre-flight's fix, not an ImportError)
        from togather_deploy.ops import metrics as deploy_metrics

        o.metrics_file = deploy_metrics.publish(from_stack_file(o.ctx.project_dir, o.ctx.stack))
    except (DeployError, OSError) as exc:
        o.stages.note(f"metrics not written: {exc}")
    note = _notification(o)
    o.notifications = [asdict(d) for d in notify.send(o.cfg.notify, note, sleep=o.ctx.sleep)]


def _notification(o: Outcome) -> notify.Notification:
    what = {"completed": "succeeded", "failed": "FAILED", "rolled_back": "failed, traffic restored"}
    title = f"togather {o.ctx.stack}: {o.kind} {o.version or ''} {what.get(o.status, o.status)}"
    if o.status == "completed":
        message = f"traffic now on {o.to_color} ({o.version})"
    else:
        message = f"traffic on {o.from_color}; {o.error.message if o.error else ''}"
    event = audit.redact({"event": f"{o.kind}.{o.status}", "stack": o.ctx.stack,
                          "version": o.version, "from_color": o.from_color, "to_color": o.to_color,
                          "exit_code": o.exit_code, "stages": o.stages.durations(),
                          "error": o.error.message if o.error else None}, o.secrets)
    return notify.Notification(
        title=audit.redact_text(title, o.secrets), message=audit.redact_text(message, o.secrets),
        event=event, priority=3 if o.status == "completed" else 4,
        tags=("white_check_mark",) if o.status == "completed" else ("warning",))


def result_of(o: Outcome) -> OperationResult:
    """The result, every known secret value already redacted (it is printed, maybe as JSON)."""
    return OperationResult(
        operation=o.kind, stack=o.ctx.stack, version=o.version, from_color=o.from_color,
        to_color=o.to_color, outcome=o.status, exit_code=o.exit_code, stages=tuple(o.stages.done),
        error=audit.redact(error_data(o.error), o.secrets) if o.error else None,
        migrations_applied=tuple(o.migrations), snapshot=o.snapshot,
        notifications=tuple(audit.redact(list(o.notifications), o.secrets)),
        metrics_file=o.metrics_file)


def engine_config(ctx: OpsContext, stages: Stages) -> DeployConfig:
    """The stack's config with its secrets, as the engine decrypts them (a release verb runs
    ``pulumi up`` anyway, so it holds the passphrase). From here on every secret value is
    redacted by value (``stages``, audit, notifications), not only by pattern."""
    cfg, values = with_engine_secrets(ctx.project_dir, ctx.stack, engine_of(ctx).config_json())
    stages.secrets = tuple(dict.fromkeys((*audit.secret_values(cfg), *values)))
    return cfg
