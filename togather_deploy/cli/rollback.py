"""``togather-deploy rollback STACK``: send traffic back to the other colour.

Only when that colour's slot exists (has a version) and passes the gate:

- its container is running: ``wait_healthy`` on its loopback host port (the same
  gate as the ``HealthGate``) must pass before anything changes;
- it was stopped after the last switch (``stopIdleSlot``): it cannot answer yet,
  so ``pulumi up`` starts it and the program's ``HealthGate`` gates the switch.

Then ``activeColor`` is set and ``pulumi up`` switches; if that fails the
previous colour is restored (``restore_active_on_failure``). The skeleton — lock,
audit log, metrics, notification and the check for someone else's config edits
(``togather_deploy.ops.stack_watch``, exit 3) — is ``cli.release``'s, shared with deploy.

``--to VERSION`` goes back to any version whose image is still on the host
(``togather_deploy.ops.images``; ``scripts/status`` lists them), checked before the lock
(exit 1 naming the kept ones). When the other colour already runs VERSION this is the plain
rollback; otherwise the other colour is first set to VERSION and brought up by ``pulumi up``
(snapshot, the same ``HealthGate``), and only then does traffic move.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from togather_deploy.cli import args
from togather_deploy.cli.outcome import OperationResult, Outcome
from togather_deploy.cli.release import Session, run_release, switch
from togather_deploy.cli.render import Stages
from togather_deploy.config.image_ref import RELEASE_ALLOWED, release_version_pinned
from togather_deploy.config.model import DeployConfig, other_color
from togather_deploy.config.source import from_stack_file
from togather_deploy.config.urls import loopback_url
from togather_deploy.errors import DeployError, ExitCode
from togather_deploy.ops import health, images
from togather_deploy.ops.context import OpsContext


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
                          exit_code=ExitCode.FAILURE, slot=target,
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

    def decide(s: Session) -> tuple[str, str]:
        target, version = _target(s.cfg, s.ctx.stack, to)
        return version, target

    def steps(s: Session, outcome: Outcome) -> None:
        target, version = outcome.to_color, outcome.version or ""
        if version != s.cfg.slot(target).version:  # --to a kept version the colour does not run
            with s.stages.stage("set-version", f"{target}.version = {version}"):
                s.watch.edit(s.ctx, f"{target}.version", version, path=True)
            with s.stages.stage("release-idle", f"pulumi up: {target} at {version}, gate"):
                s.watch.up(s.ctx, f"pulumi up ({version} on {target})")
        with s.stages.stage("gate", f"{target} at {version} ({slot_url(s.cfg, target)})"):
            gate(s.cfg, target, version, s.stages)
        switch(s, target)

    return run_release(ctx, kind="rollback", operation="rollback", lock_version=planned,
                       decide=decide, steps=steps, take_over_stale=take_over_stale, quiet=quiet)


def add_arguments(p: argparse.ArgumentParser) -> None:
    args.add_stack(p)
    p.add_argument("--to", metavar="VERSION", type=_version, default=None,
                   help="go back to this kept version (its image still on the host) instead")
    args.add_output(p)
    args.add_release_flags(p)


def _version(value: str) -> str:
    if not release_version_pinned(value):
        raise argparse.ArgumentTypeError(f"{value!r}: VERSION must be {RELEASE_ALLOWED}")
    return value


def run(ns: argparse.Namespace, ctx: OpsContext | None = None) -> int:
    return args.run_release_verb(ns, ctx, lambda c: rollback(
        c, take_over_stale=ns.take_over_stale, quiet=ns.json, to=ns.to))


def main(argv: Sequence[str] | None = None, ctx: OpsContext | None = None) -> int:
    """The test seam: ``togather-deploy rollback ARGV`` with this context."""
    return args.main_of("rollback", run, argv, ctx)
