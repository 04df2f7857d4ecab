"""``scripts/rollback STACK``: send traffic back to the other colour.

Only when that colour's slot exists (has a version) and passes the gate:

- its container is running: ``wait_healthy`` on its loopback host port (the same
  gate as the ``HealthGate``) must pass before anything changes;
- it was stopped after the last switch (``stopIdleSlot``): it cannot answer yet,
  so ``pulumi up`` starts it and the program's ``HealthGate`` gates the switch.

Then ``activeColor`` is set and ``pulumi up`` switches; if that fails the
previous colour is restored (``restore_active_on_failure``). Lock, audit log,
metrics, notification and the check for someone else's config edits
(``togather_deploy.ops.stack_watch``, exit 3) as for ``scripts/deploy``.

``--to VERSION`` goes back to any version whose image is still on the host
(``togather_deploy.ops.images``; ``scripts/status`` lists them), checked before the lock
(exit 1 naming the kept ones). When the other colour already runs VERSION this is the plain
rollback; otherwise the other colour is first set to VERSION and brought up by ``pulumi up``
(snapshot, the same ``HealthGate``), and only then does traffic move.
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
    restore_active_on_failure,
    result_of,
)
from togather_deploy.cli.render import Stages, refuse, report
from togather_deploy.config.image_ref import RELEASE_ALLOWED, release_version_pinned
from togather_deploy.config.model import DeployConfig, other_color
from togather_deploy.config.source import from_stack_file
from togather_deploy.config.urls import loopback_url
from togather_deploy.errors import EXIT_FAILURE, DeployError
from togather_deploy.ops import audit, health, images, lock, preflight, release_state
from togather_deploy.ops.context import OpsContext
from togather_deploy.ops.stack_watch import StackWatch


def slot_url(cfg: DeployConfig, color: str) -> str:
    return loopback_url(cfg.slot(color).host_port)


def gate(cfg: DeployConfig, color: str, version: str, stages: Stages) -> None:
    """Raise ``HealthError`` unless ``color`` is healthy at ``version`` (or stopped by design)."""
    url = slot_url(cfg, color)
    first = health.probe(url, path="/healthz", timeout=5)
    if first.status_code is None and cfg.stop_idle_slot:
        stages.note(f"{color} is not running (stopIdleSlot): pulumi up starts it and its "
                    f"HealthGate must pass before the switch")
        return
    h = cfg.health
    seen = health.wait_healthy(url, version=version, allow_degraded=h.allow_degraded,
                               consecutive=h.consecutive, timeout_s=h.timeout_seconds,
                               interval_s=h.interval_seconds, health_path=h.path)
    stages.note(f"{color}: {seen.describe()}")


def _target(cfg: DeployConfig, stack: str, to: str | None = None) -> tuple[str, str]:
    """The colour to go back to and its version; ``DeployError`` when there is none."""
    target = other_color(cfg.active_color)
    version = to or cfg.slot(target).version
    if not version:
        raise DeployError(f"nothing to roll back to: {target} has no version in stack {stack}",
                          exit_code=EXIT_FAILURE, slot=target,
                          fix=f"scripts/deploy {stack} VERSION releases a version on {target}")
    return target, version


def rollback(ctx: OpsContext, *, take_over_stale: bool = False, quiet: bool = False,
             to: str | None = None) -> OperationResult:
    """Raises ``DeployError`` only before anything changed (config, lock, nothing to roll back to)."""
    cfg = from_stack_file(ctx.project_dir, ctx.stack)
    if to and to != cfg.slot(other_color(cfg.active_color)).version:
        images.require_kept(cfg, to)  # before the lock: refusing changes nothing
    # For the lock record only: the target is decided under the lock, from the deployed state.
    planned = cfg.slot(other_color(cfg.active_color)).version or "unknown"
    stages = Stages(ctx.out, ctx.monotonic, quiet=quiet, secrets=audit.secret_values(cfg))
    with contextlib.ExitStack() as held:
        with stages.stage("lock", ctx.stack):
            held.enter_context(lock.stack_lock(cfg.state_dir, ctx.stack, version=planned,
                                               operation="rollback",
                                               take_over_stale=take_over_stale, clock=ctx.clock))
        watch = StackWatch.start(ctx)  # the manual flow takes no lock: notice its edits
        cfg = engine_config(ctx, stages)  # the colours as they are under the lock; secrets known
        ctx = dataclasses.replace(ctx, log_dir=os.path.join(cfg.state_dir, "logs"))
        if release_state.sync(ctx, cfg, stages.note) is not cfg:  # a CI checkout lags the backend
            watch = StackWatch.start(ctx)  # those edits were ours
            cfg = engine_config(ctx, stages)
        secrets = stages.secrets
        previous = cfg.active_color
        target, version = _target(cfg, ctx.stack, to)
        outcome = Outcome(ctx=ctx, cfg=cfg, stages=stages, secrets=secrets, kind="rollback",
                          version=version, from_color=previous, to_color=target)
        outcome.record("started")
        try:
            if version != cfg.slot(target).version:  # --to a kept version the colour does not run
                with stages.stage("set-version", f"{target}.version = {version}"):
                    watch.edit(ctx, f"{target}.version", version, path=True)
                with stages.stage("release-idle", f"pulumi up: {target} at {version}, gate"):
                    watch.up(ctx, f"pulumi up ({version} on {target})")
            with stages.stage("gate", f"{target} at {version} ({slot_url(cfg, target)})"):
                gate(cfg, target, version, stages)
            with restore_active_on_failure(ctx, stages, previous, watch):
                with stages.stage("set-active", f"activeColor = {target}"):
                    watch.edit(ctx, "activeColor", target)
                with stages.stage("switch", f"pulumi up: traffic {previous} → {target}"):
                    watch.up(ctx, f"pulumi up (switch to {target})")
        except DeployError as exc:
            finish(outcome, exc)
        except KeyboardInterrupt:
            finish(outcome, interrupted(ctx))
        else:
            finish(outcome, None)
    return result_of(outcome)


DESCRIPTION = """\
Send STACK's traffic back to the other colour, if it has a version and passes the health
gate; with --to, to any version whose image is still on this host (scripts/status lists them).

exit codes: 0 done, 1 failure (or --to a version not kept here), 2 usage, 3 locked,
4 the colour is not healthy (traffic stays), 10 config

example:
  scripts/rollback production
  scripts/rollback production --to v1.3.2"""


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="scripts/rollback", description=DESCRIPTION,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    args.add_stack(p)
    p.add_argument("--to", metavar="VERSION", type=_version, default=None,
                   help="go back to this kept version (its image still on the host; "
                        "scripts/status lists them) instead of the other colour's")
    args.add_output(p, "print the result as JSON (no progress lines)")
    args.add_release_flags(p)
    return p


def _version(value: str) -> str:
    if not release_version_pinned(value):
        raise argparse.ArgumentTypeError(f"{value!r}: VERSION must be {RELEASE_ALLOWED}")
    return value


def main(argv: Sequence[str] | None = None, ctx: OpsContext | None = None) -> int:
    ns = args.parse(build_parser(), argv)
    if isinstance(ns, int):
        return ns
    ctx = ctx or args.release_context(ns)
    try:
        preflight.check_stack(ctx.project_dir, ctx.stack)  # before the lock and any write
        result = rollback(ctx, take_over_stale=ns.take_over_stale, quiet=ns.json, to=ns.to)
    except DeployError as exc:
        return refuse(ctx.out, ctx.err, ns.stack, exc, as_json=ns.json)
    return report(ctx.out, ctx.err, result, as_json=ns.json)


if __name__ == "__main__":
    sys.exit(entry.run(main))
