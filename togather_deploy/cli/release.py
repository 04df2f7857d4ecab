"""The skeleton ``deploy`` and ``rollback`` share (issue 15 §2): one home for it.

``run_release`` guarantees, in order: the stack config is read and the lock taken (``lock``
stage; refusing changes nothing); the stack file is watched for edits by others
(``StackWatch``); the config is re-read with its secrets as the engine decrypts them and the
release keys synced from the deployed stack (``release_state``); ``decide`` names the version
and target colour (a ``DeployError`` here still changes nothing); the start is audited; then
``steps`` run, and every outcome — completed, failed, rolled back, interrupted — is audited,
published as metrics and notified (``outcome.finish``). ``switch`` is the last step of both:
set ``activeColor``, ``pulumi up``, and restore the previous colour if that fails.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
from collections.abc import Callable
from dataclasses import dataclass

from togather_deploy.cli.outcome import (
    OperationResult,
    Outcome,
    engine_config,
    finish,
    interrupted,
    restore_active_on_failure,
    result_of,
)
from togather_deploy.cli.progress import Printer
from togather_deploy.cli.render import Stages
from togather_deploy.config.model import DeployConfig
from togather_deploy.config.source import from_stack_file
from togather_deploy.errors import DeployError
from togather_deploy.ops import audit, lock, release_state
from togather_deploy.ops.context import OpsContext
from togather_deploy.ops.stack_watch import StackWatch


@dataclass
class Session:
    """One release under the lock: what ``decide`` and ``steps`` work with."""

    ctx: OpsContext
    cfg: DeployConfig
    stages: Stages
    watch: StackWatch
    previous: str
    """The colour serving when the release started (as deployed)."""


Decide = Callable[[Session], tuple[str | None, str]]
"""``(version, target colour)``; raise ``DeployError`` to refuse (nothing changed yet)."""


def run_release(ctx: OpsContext, *, kind: str, operation: str, lock_version: str, decide: Decide,
                steps: Callable[[Session, Outcome], None], take_over_stale: bool = False,
                quiet: bool = False) -> OperationResult:
    """Raises ``DeployError`` only before anything changed (config, lock, ``decide``)."""
    cfg = from_stack_file(ctx.project_dir, ctx.stack)
    stages = Stages(ctx.out, ctx.monotonic, quiet=quiet, secrets=audit.secret_values(cfg))
    with contextlib.ExitStack() as held:
        with stages.stage("lock", ctx.stack):
            held.enter_context(lock.stack_lock(cfg.state_dir, ctx.stack, version=lock_version,
                                               operation=operation, take_over_stale=take_over_stale,
                                               clock=ctx.clock))
        watch = StackWatch.start(ctx)  # the manual flow takes no lock: notice its edits
        cfg = engine_config(ctx, stages)  # the colours as they are under the lock; secrets known
        ctx = dataclasses.replace(ctx, log_dir=os.path.join(cfg.state_dir, "logs"))
        if release_state.sync(ctx, cfg, stages.note) is not cfg:  # a CI checkout lags the backend
            watch = StackWatch.start(ctx)  # those edits were ours
            cfg = engine_config(ctx, stages)
        if isinstance(ctx.on_progress, Printer):  # the live lines redact by value from here on
            ctx.on_progress.secrets = stages.secrets
        session = Session(ctx, cfg, stages, watch, cfg.active_color)
        version, target = decide(session)
        outcome = Outcome(ctx=ctx, cfg=cfg, stages=stages, secrets=stages.secrets, kind=kind,
                          version=version, from_color=session.previous, to_color=target)
        outcome.record("started")
        try:
            steps(session, outcome)
        except DeployError as exc:
            finish(outcome, exc)
        except KeyboardInterrupt:
            finish(outcome, interrupted(ctx))
        else:
            finish(outcome, None)
    return result_of(outcome)


def switch(s: Session, target: str) -> None:
    """``activeColor = target`` and ``pulumi up``; the previous colour restored on failure."""
    with restore_active_on_failure(s.ctx, s.stages, s.previous, s.watch):
        with s.stages.stage("set-active", f"activeColor = {target}"):
            s.watch.edit(s.ctx, "activeColor", target)
        with s.stages.stage("switch", f"pulumi up: traffic {s.previous} → {target}"):
            s.watch.up(s.ctx, f"pulumi up (switch to {target})")
