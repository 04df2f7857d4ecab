"""``scripts/deploy STACK VERSION``: release VERSION on the idle colour, then switch to it.

Stages (one progress line each, with its duration):

    lock → set-version (idle colour) → release-idle (``pulumi up``: snapshot,
    migrations, slot, gate) → set-active → switch (``pulumi up``)

If the switch fails, ``restore_active_on_failure`` sets ``activeColor`` back and
runs ``pulumi up`` again, and the deploy ends ``rolled_back``. Every outcome is
written to the audit log, published as ``togather_deploy_*`` metrics and sent
as a notification (which never fails the deploy).

Exit codes: 0 ok, 1 failure, 2 usage, 3 locked, 4 health, 5 migration, 10 config.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass

from cli.outcome import Outcome, finish, migrations_and_snapshot, restore_active_on_failure
from cli.render import StageResult, Stages, error_data, print_error, print_json
from components import audit, lock
from components.config import other_color
from components.config_sections import VERSION_PATTERN
from components.errors import DeployError
from components.ops_context import OpsContext, config_set_argv, pulumi_checked, up_argv
from components.stack_config import from_stack_file

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@dataclass(frozen=True)
class DeployResult:
    stack: str
    version: str
    from_color: str
    to_color: str
    outcome: str
    """``completed`` | ``failed`` | ``rolled_back``"""
    exit_code: int
    stages: tuple[StageResult, ...]
    error: dict[str, object] | None
    migrations_applied: tuple[str, ...]
    snapshot: str | None
    notifications: tuple[dict[str, object], ...]
    metrics_file: str | None


def deploy(ctx: OpsContext, version: str, *, take_over_stale: bool = False,
           quiet: bool = False) -> DeployResult:
    """Run the release. Raises ``DeployError`` only before anything changed (config, lock)."""
    cfg = from_stack_file(ctx.project_dir, ctx.stack)
    secrets = audit.secret_values(cfg)
    stages = Stages(ctx.out, ctx.monotonic, quiet=quiet, secrets=secrets)
    previous, idle = cfg.active_color, other_color(cfg.active_color)
    with contextlib.ExitStack() as held:
        with stages.stage("lock", f"{ctx.stack}"):
            held.enter_context(lock.stack_lock(cfg.state_dir, ctx.stack, version=version,
                                               take_over_stale=take_over_stale, clock=ctx.clock))
        outcome = Outcome(ctx=ctx, cfg=cfg, stages=stages, secrets=secrets, kind="deployment",
                          version=version, from_color=previous, to_color=idle)
        outcome.record("started")
        try:
            with stages.stage("set-version", f"{idle}.version = {version}"):
                pulumi_checked(ctx, config_set_argv(ctx, f"{idle}.version", version, path=True),
                               f"setting {idle}.version")
            with stages.stage("release-idle", f"pulumi up: snapshot, migrations, {idle} slot, gate"):
                pulumi_checked(ctx, up_argv(ctx), f"pulumi up (release {version} on {idle})")
            outcome.migrations, outcome.snapshot = migrations_and_snapshot(ctx, cfg, stages)
            with restore_active_on_failure(ctx, stages, previous):
                with stages.stage("set-active", f"activeColor = {idle}"):
                    pulumi_checked(ctx, config_set_argv(ctx, "activeColor", idle),
                                   "setting activeColor")
                with stages.stage("switch", f"pulumi up: traffic {previous} → {idle}"):
                    pulumi_checked(ctx, up_argv(ctx), f"pulumi up (switch to {idle})")
        except DeployError as exc:
            finish(outcome, exc)
        else:
            finish(outcome, None)
    return _result(outcome)


def _result(o: Outcome) -> DeployResult:
    return DeployResult(
        stack=o.ctx.stack, version=o.version or "", from_color=o.from_color, to_color=o.to_color,
        outcome=o.status, exit_code=o.exit_code, stages=tuple(o.stages.done),
        error=error_data(o.error) if o.error else None, migrations_applied=tuple(o.migrations),
        snapshot=o.snapshot, notifications=tuple(o.notifications), metrics_file=o.metrics_file)


def _version(value: str) -> str:
    if not re.fullmatch(VERSION_PATTERN, value):
        raise argparse.ArgumentTypeError(f"{value!r} is not an image tag like v1.4.0")
    return value


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="scripts/deploy", description=(
        "Release VERSION on the idle colour of STACK, then switch traffic to it "
        "(restoring the old colour if the switch fails)."))
    p.add_argument("stack", metavar="STACK", help="the Pulumi stack (dev, staging, production)")
    p.add_argument("version", metavar="VERSION", type=_version, help="image tag to release, e.g. v1.5.0")
    p.add_argument("--json", action="store_true", help="print the result as JSON (no progress lines)")
    p.add_argument("--take-over-stale", action="store_true",
                   help="take over a lock older than 30 minutes (check its holder first)")
    p.add_argument("--project-dir", default=ROOT, help="directory holding Pulumi.<stack>.yaml")
    return p


def render_human(out: object, r: DeployResult) -> None:
    write = out.write  # type: ignore[attr-defined]
    total = sum(s.seconds for s in r.stages)
    if r.outcome == "completed":
        write(f"deployed {r.version} to {r.stack}: traffic {r.from_color} → {r.to_color} "
              f"({total:.1f}s)\n")
    elif r.outcome == "rolled_back":
        write(f"switch to {r.to_color} failed; traffic restored to {r.from_color} (exit {r.exit_code})\n")
    else:
        write(f"deploy of {r.version} to {r.stack} FAILED (exit {r.exit_code}); "
              f"traffic stays on {r.from_color}\n")
    for n in r.notifications:
        if not n.get("ok"):
            write(f"  note: {n['target']} notification failed: {n.get('error')}\n")


def main(argv: Sequence[str] | None = None, ctx: OpsContext | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    ctx = ctx or OpsContext(project_dir=os.path.abspath(args.project_dir), stack=args.stack)
    try:
        result = deploy(ctx, args.version, take_over_stale=args.take_over_stale, quiet=args.json)
    except DeployError as exc:
        if args.json:
            print_json(ctx.out, {"stack": args.stack, "outcome": "refused", "error": error_data(exc)})
        else:
            print_error(ctx.err, exc)
        return exc.exit_code
    if args.json:
        print_json(ctx.out, result)
    else:
        if result.error:
            print_error(ctx.err, DeployError(str(result.error["message"]),
                                             context=dict(result.error["context"] or {}),  # type: ignore[call-overload]
                                             fix=result.error["fix"]))  # type: ignore[arg-type]
        render_human(ctx.out, result)
    return result.exit_code


if __name__ == "__main__":
    sys.exit(main())
