"""``togather-deploy deploy STACK VERSION``: release VERSION on the idle colour, then switch to it.

Stages (one progress line each, with its duration):

    lock → set-version (idle colour) → release-idle (``pulumi up``: snapshot,
    migrations, slot, gate) → set-active → switch (``pulumi up``)

Before each step the stack file must be as this deploy left it
(``togather_deploy.ops.stack_watch``): a ``pulumi config set`` by someone else in between
stops the deploy with exit 3 and nothing is restored over it.

If the switch fails, ``restore_active_on_failure`` sets ``activeColor`` back and
runs ``pulumi up`` again, and the deploy ends ``rolled_back``. Every outcome is
written to the audit log, published as ``togather_deploy_*`` metrics and sent
as a notification (which never fails the deploy).

After a completed release the app images beyond the newest ``keepImages`` (5) are pruned
(``togather_deploy.ops.images``; never a configured colour's).

The skeleton (lock, sync, audit, restore-on-failure, notify) is ``cli.release``'s, shared
with rollback. Exit codes: ``errors.ExitCode``.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from togather_deploy.cli import args
from togather_deploy.cli.outcome import OperationResult, Outcome, migrations_and_snapshot
from togather_deploy.cli.release import Session, run_release, switch
from togather_deploy.cli.render import Stages
from togather_deploy.config.image_ref import RELEASE_ALLOWED, release_version_pinned
from togather_deploy.config.model import other_color
from togather_deploy.config.source import from_stack_file
from togather_deploy.db.migrations import release as migration_release
from togather_deploy.errors import DeployError
from togather_deploy.ops import backup_status, images
from togather_deploy.ops.context import OpsContext


def deploy(ctx: OpsContext, version: str, *, take_over_stale: bool = False,
           quiet: bool = False) -> OperationResult:
    """Run the release. Raises ``DeployError`` only before anything changed (config, lock)."""
    cfg = from_stack_file(ctx.project_dir, ctx.stack)
    # The migrations must be the release's own, before the lock: refusing changes nothing.
    migration_release.check_release(cfg.migrations.dir, version, environment=cfg.environment)
    backup_status.release_gate(cfg, ctx.clock())  # only with backup.requiredBeforeRelease

    def decide(s: Session) -> tuple[str, str]:
        return version, other_color(s.previous)

    def steps(s: Session, outcome: Outcome) -> None:
        idle = other_color(s.previous)
        with s.stages.stage("set-version", f"{idle}.version = {version}"):
            s.watch.edit(s.ctx, f"{idle}.version", version, path=True)
        with s.stages.stage("release-idle", f"pulumi up: snapshot, migrations, {idle} slot, gate"):
            s.watch.up(s.ctx, f"pulumi up (release {version} on {idle})")
        outcome.migrations, outcome.snapshot = migrations_and_snapshot(s.ctx, s.cfg, s.stages)
        switch(s, idle)
        prune_images(s.ctx, s.stages)  # never raises: a note at most

    return run_release(ctx, kind="deployment", operation="deploy", lock_version=version,
                       decide=decide, steps=steps, take_over_stale=take_over_stale, quiet=quiet)


def prune_images(ctx: OpsContext, stages: Stages) -> None:
    """After a completed release: keep the newest ``keepImages`` app images (and both colours',
    as the stack file names them now), remove the rest. Best effort: a failure is a note,
    never a failed deploy."""
    try:
        pruned = images.prune(from_stack_file(ctx.project_dir, ctx.stack))
    except DeployError as exc:
        stages.note(f"images not pruned: {exc.message}")
        return
    if pruned.removed or pruned.refused:
        stages.note(f"images pruned: {', '.join(pruned.removed) or 'none'}"
                    + (f"; in use, kept: {', '.join(pruned.refused)}" if pruned.refused else ""))


def _version(value: str) -> str:
    """The policy pack's rule for the app's image tag (``togather_deploy.config.image_ref``), checked here
    so a moving tag is refused before anything changes."""
    if not release_version_pinned(value):
        raise argparse.ArgumentTypeError(f"{value!r}: VERSION must be {RELEASE_ALLOWED}")
    return value


def add_arguments(p: argparse.ArgumentParser) -> None:
    args.add_stack(p)
    p.add_argument("version", metavar="VERSION", type=_version,
                   help="exact image tag to release, e.g. v1.5.0 (not latest, not 1.5)")
    args.add_output(p)
    args.add_release_flags(p)


def run(ns: argparse.Namespace, ctx: OpsContext | None = None) -> int:
    return args.run_release_verb(ns, ctx, lambda c: deploy(
        c, ns.version, take_over_stale=ns.take_over_stale, quiet=ns.json))


def main(argv: Sequence[str] | None = None, ctx: OpsContext | None = None) -> int:
    """The test seam: ``togather-deploy deploy ARGV`` with this context."""
    return args.main_of("deploy", run, argv, ctx)
