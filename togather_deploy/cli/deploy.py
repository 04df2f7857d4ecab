"""``scripts/deploy STACK VERSION``: release VERSION on the idle colour, then switch to it.

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

Exit codes: 0 ok, 1 failure, 2 usage, 3 locked, 4 health, 5 migration, 10 config.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import os
import sys
from collections.abc import Sequence

from togather_deploy.cli import args, entry
from togather_deploy.cli.outcome import (
    OperationResult,
    Outcome,
    engine_config,
    finish,
    interrupted,
    migrations_and_snapshot,
    restore_active_on_failure,
    result_of,
)
from togather_deploy.cli.render import Stages, refuse, report
from togather_deploy.config.image_ref import RELEASE_ALLOWED, release_version_pinned
from togather_deploy.config.model import other_color
from togather_deploy.config.source import from_stack_file
from togather_deploy.db.migrations import release as migration_release
from togather_deploy.errors import DeployError
from togather_deploy.ops import audit, backup_status, lock, preflight, release_state
from togather_deploy.ops.context import OpsContext
from togather_deploy.ops.stack_watch import StackWatch


def deploy(ctx: OpsContext, version: str, *, take_over_stale: bool = False,
           quiet: bool = False) -> OperationResult:
    """Run the release. Raises ``DeployError`` only before anything changed (config, lock)."""
    cfg = from_stack_file(ctx.project_dir, ctx.stack)
    # The migrations must be the release's own, before the lock: refusing changes nothing.
    migration_release.check_release(cfg.migrations.dir, version, environment=cfg.environment)
    backup_status.release_gate(cfg, ctx.clock())  # only with backup.requiredBeforeRelease
    stages = Stages(ctx.out, ctx.monotonic, quiet=quiet, secrets=audit.secret_values(cfg))
    with contextlib.ExitStack() as held:
        with stages.stage("lock", f"{ctx.stack}"):
            held.enter_context(lock.stack_lock(cfg.state_dir, ctx.stack, version=version,
                                               take_over_stale=take_over_stale, clock=ctx.clock))
        watch = StackWatch.start(ctx)  # the manual flow takes no lock: notice its edits
        cfg = engine_config(ctx, stages)  # the colours as they are under the lock; secrets known
        ctx = dataclasses.replace(ctx, log_dir=os.path.join(cfg.state_dir, "logs"))
        if release_state.sync(ctx, cfg, stages.note) is not cfg:  # a CI checkout lags the backend
            watch = StackWatch.start(ctx)  # those edits were ours
            cfg = engine_config(ctx, stages)
        secrets = stages.secrets
        previous, idle = cfg.active_color, other_color(cfg.active_color)
        outcome = Outcome(ctx=ctx, cfg=cfg, stages=stages, secrets=secrets, kind="deployment",
                          version=version, from_color=previous, to_color=idle)
        outcome.record("started")
        try:
            with stages.stage("set-version", f"{idle}.version = {version}"):
                watch.edit(ctx, f"{idle}.version", version, path=True)
            with stages.stage("release-idle", f"pulumi up: snapshot, migrations, {idle} slot, gate"):
                watch.up(ctx, f"pulumi up (release {version} on {idle})")
            outcome.migrations, outcome.snapshot = migrations_and_snapshot(ctx, cfg, stages)
            with restore_active_on_failure(ctx, stages, previous, watch):
                with stages.stage("set-active", f"activeColor = {idle}"):
                    watch.edit(ctx, "activeColor", idle)
                with stages.stage("switch", f"pulumi up: traffic {previous} → {idle}"):
                    watch.up(ctx, f"pulumi up (switch to {idle})")
        except DeployError as exc:
            finish(outcome, exc)
        except KeyboardInterrupt:
            finish(outcome, interrupted(ctx))
        else:
            finish(outcome, None)
    return result_of(outcome)


def _version(value: str) -> str:
    """The policy pack's rule for the app's image tag (``togather_deploy.config.image_ref``), checked here
    so a moving tag is refused before anything changes."""
    if not release_version_pinned(value):
        raise argparse.ArgumentTypeError(f"{value!r}: VERSION must be {RELEASE_ALLOWED}")
    return value


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="scripts/deploy", description=(
        "Release VERSION on the idle colour of STACK, then switch traffic to it "
        "(restoring the old colour if the switch fails)."))
    args.add_stack(p)
    p.add_argument("version", metavar="VERSION", type=_version,
                   help="exact image tag to release, e.g. v1.5.0 (not latest, not 1.5)")
    args.add_output(p, "print the result as JSON (no progress lines)")
    args.add_release_flags(p)
    return p


def main(argv: Sequence[str] | None = None, ctx: OpsContext | None = None) -> int:
    ns = args.parse(build_parser(), argv)
    if isinstance(ns, int):
        return ns
    ctx = ctx or args.release_context(ns)
    try:
        preflight.check_stack(ctx.project_dir, ctx.stack)  # before the lock and any write
        result = deploy(ctx, ns.version, take_over_stale=ns.take_over_stale, quiet=ns.json)
    except DeployError as exc:
        return refuse(ctx.out, ctx.err, ns.stack, exc, as_json=ns.json)
    return report(ctx.out, ctx.err, result, as_json=ns.json)

if __name__ == "__main__":
    sys.exit(entry.run(main))
