"""``scripts/status STACK [--json]``: what is serving, what each colour runs, is it healthy.

Read-only: it never takes the lock and never runs ``pulumi``. It reports the
active colour twice — what the router serves (its ``active_color`` file) and
what the stack config says — and flags a mismatch; the version and one health
probe of each colour's slot; the newest snapshot; the lock holder; and the
last deployment events of the audit log; the app versions whose images are kept on the
host (what ``rollback --to`` can go back to) and whether maintenance is on (the router's
file and ``router.maintenance``, flagged when they disagree). Exit 0 when it could report
(even bad news), 10 on bad config. With ``--check`` (for cron and external monitors): exit 4
unless the live colour answers healthy (or degraded with ``health.allowDegraded``) at its
configured version and the router serves the colour the stack config names.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TextIO

from togather_deploy.cli import args, entry
from togather_deploy.cli.render import print_json, refuse
from togather_deploy.config.model import COLORS, DeployConfig
from togather_deploy.config.source import from_stack_file
from togather_deploy.config.urls import loopback_url
from togather_deploy.errors import EXIT_HEALTH, DeployError
from togather_deploy.ops import audit, backup_status, health, images, lock, maintenance_flag, router_files
from togather_deploy.ops import metrics as deploy_metrics
from togather_deploy.ops.context import OpsContext

EVENTS_SHOWN = 5


@dataclass(frozen=True)
class SlotStatus:
    color: str
    version: str | None
    url: str
    health: str
    """healthy | degraded | unhealthy | shutting_down | down | stopped (stopIdleSlot) |
    not deployed | HTTP <code>, plus `` (WRONG VERSION)`` when it answers another version"""
    detail: str


@dataclass(frozen=True)
class StatusResult:
    stack: str
    active_color_config: str
    active_color_router: str | None
    """``None`` when the router's file does not exist yet (or is unreadable)."""
    router_error: str | None
    mismatch: bool
    slots: tuple[SlotStatus, ...]
    snapshot: dict[str, Any] | None
    lock: dict[str, Any]
    events: tuple[dict[str, Any], ...]
    kept_versions: tuple[str, ...] | None = None
    """App versions whose image is on the host, newest first; ``None`` when Docker did not answer."""
    maintenance: dict[str, Any] | None = None
    """``{"router": message | None, "config": bool, "agree": bool}``."""
    healthy: bool = True
    """The live colour is healthy at its version and the router agrees with the config."""
    problems: tuple[str, ...] = ()
    """Why ``healthy`` is false (what ``--check`` prints)."""
    scheduled_jobs: tuple[dict[str, Any], ...] = ()
    """Off-host backup jobs (``togather_deploy.ops.backup_status``); empty without togather:backup."""


def _slot(cfg: DeployConfig, color: str) -> SlotStatus:
    version, url = cfg.slot(color).version, loopback_url(cfg.slot(color).host_port)
    if not version:
        return SlotStatus(color, None, url, "not deployed", "no version configured")
    p = health.probe(url, path=cfg.health.path, timeout=3)
    # an idle colour is stopped after each switch by design (stopIdleSlot): not an outage
    stopped = "stopped (stopIdleSlot)" if cfg.stop_idle_slot and color != cfg.active_color else "down"
    state = p.status or (stopped if p.status_code is None else f"HTTP {p.status_code}")
    if p.status_code is not None and p.version and p.version != version:
        state += " (WRONG VERSION)"
    return SlotStatus(color, version, url, state, p.describe())


def _kept(cfg: DeployConfig) -> tuple[str, ...] | None:
    try:
        return tuple(i.version for i in images.kept_versions(cfg))
    except DeployError:
        return None


def colour_repair(stack: str) -> str:
    """Write the stack's colour file again (docs/operations.md: a refresh of the switch alone;
    a plain ``pulumi up`` sees no change, its state still records the colour)."""
    return (f"pulumi refresh --stack {stack} --target \"$(pulumi stack --stack {stack} --show-urns "
            f"| grep -o 'urn:[^ ]*::traffic-switch$')\" && pulumi up --stack {stack}")


def _problems(cfg: DeployConfig, router: str | None, router_error: str | None,
              slots: tuple[SlotStatus, ...]) -> tuple[str, ...]:
    live = router or cfg.active_color
    lost = (f"no active_color file (every request gets 503; after a first pulumi up, repair: "
            f"{colour_repair(cfg.stack)})")
    found = [] if router else [f"router: {router_error or lost}"]
    if router and router_error:  # the word and the mode bit nginx routes by disagree
        found.append(f"router: {router_error}")
    if router and router != cfg.active_color:
        found.append(f"router serves {router}, stack config says {cfg.active_color}")
    ok = {"healthy", "degraded"} if cfg.health.allow_degraded else {"healthy"}
    s = next(x for x in slots if x.color == live)
    if s.health not in ok:
        found.append(f"{live} (live) is {s.health}: {s.detail}")
    return tuple(found)


def status(ctx: OpsContext) -> StatusResult:
    cfg = from_stack_file(ctx.project_dir, ctx.stack)
    router, router_error = None, None
    try:
        router = router_files.read_active_color(cfg.router_dir)
    except DeployError as exc:  # a corrupt file is news to report, not a reason to stop
        router_error = exc.message
    if router is not None:
        router_error = router_files.disagreement(cfg.router_dir, router)
    slots = tuple(_slot(cfg, c) for c in COLORS)
    snap = deploy_metrics.latest_snapshot(cfg.snapshots.dir)
    now = ctx.clock()
    st = lock.inspect(cfg.state_dir, ctx.stack, now=now)
    lock_info: dict[str, Any] = {"held": st.held, "stale": st.stale, "path": st.path,
                                 "holder": st.holder.describe(now) if st.holder else None}
    events = tuple({k: e.get(k) for k in ("ts", "event", "version", "from_color", "to_color",
                                          "exit_code", "error")}
                   for e in audit.read_events(cfg.state_dir, limit=EVENTS_SHOWN))
    message = maintenance_flag.read(cfg.router_dir)
    problems = _problems(cfg, router, router_error, slots)
    return StatusResult(
        kept_versions=_kept(cfg), healthy=not problems, problems=problems,
        maintenance={"router": message, "config": cfg.router.maintenance,
                     "agree": (message is not None) == cfg.router.maintenance},
        stack=ctx.stack, active_color_config=cfg.active_color, active_color_router=router,
        router_error=router_error,
        mismatch=router is not None and router != cfg.active_color, slots=slots,
        snapshot={"path": snap.path, "timestamp": snap.timestamp, "size_bytes": snap.size_bytes}
        if snap else None,
        lock=lock_info, events=events, scheduled_jobs=backup_status.jobs(cfg, now))


def _when(ts: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime(ts))


def render_human(out: TextIO, r: StatusResult) -> None:
    w = out.write
    router = r.active_color_router or f"({r.router_error or 'no router file yet'})"
    w(f"stack {r.stack}\n")
    w(f"  active colour: {router} (router), {r.active_color_config} (stack config)\n")
    if r.mismatch:
        w(f"  MISMATCH: the router serves {r.active_color_router} but the stack says "
          f"{r.active_color_config}; to serve {r.active_color_config} again: {colour_repair(r.stack)}; "
          f"to keep {r.active_color_router}: scripts/rollback {r.stack}\n")
    for s in r.slots:
        mark = "*" if s.color == (r.active_color_router or r.active_color_config) else " "
        w(f"  {mark} {s.color:<5} {s.version or '-':<16} {s.health:<24} {s.detail}\n")
    if r.snapshot:
        w(f"  last snapshot: {r.snapshot['path']} ({_when(r.snapshot['timestamp'])}, "
          f"{r.snapshot['size_bytes']} bytes)\n")
    else:
        w("  last snapshot: none\n")
    if r.kept_versions is not None:
        w(f"  kept versions: {', '.join(r.kept_versions) or 'none'} (scripts/rollback STACK --to VERSION)\n")
    m = r.maintenance or {}
    if m.get("router") is not None or m.get("config"):
        w(f"  maintenance: {'ON: ' + repr(m['router']) if m.get('router') is not None else 'off'} "
          f"(router), router.maintenance={str(m.get('config')).lower()} (stack config)"
          f"{'' if m.get('agree') else ' — DISAGREE: run scripts/maintenance STACK on|off'}\n")
    for problem in r.problems:
        w(f"  PROBLEM: {problem}\n")
    if r.lock["held"]:
        w(f"  lock: HELD by {r.lock['holder']}{' — STALE' if r.lock['stale'] else ''}\n")
    else:
        w("  lock: free\n")
    for j in r.scheduled_jobs:
        last = _when(j["last_run"]) if j["last_run"] else "never"
        w(f"  job {j['job']:<9} last {last} {j['result'] or '-':<6} next {j['next_run']}  {j['detail']}\n")
    w("  recent events:\n" if r.events else "  recent events: none\n")
    for e in r.events:
        extra = f" exit {e['exit_code']}" if e.get("exit_code") else ""
        w(f"    {e['ts']} {e['event']:<24} {e.get('version') or '-'} "
          f"{e.get('from_color')} → {e.get('to_color')}{extra}\n")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="togather-deploy status", description=DESCRIPTION,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(p)
    return p


DESCRIPTION = """\
Show STACK's active colour (router and config), each colour's version and health, the last
snapshot, the kept versions, maintenance, the lock holder and recent deployment events.

exit codes: 0 reported (even bad news), 2 usage, 4 with --check: the live colour is not
healthy at its version (or the router disagrees with the config), 10 bad config

example:
  scripts/status production
  scripts/status production --check --json    # from cron or an external monitor"""


def add_arguments(p: argparse.ArgumentParser) -> None:
    args.add_stack(p)
    p.add_argument("--check", action="store_true",
                   help="exit 4 unless the live colour is healthy at its configured version")
    args.add_output(p, "print the status as JSON")


def run(ns: argparse.Namespace, ctx: OpsContext | None = None) -> StatusResult:
    return status(ctx or args.context(ns))


def main(argv: Sequence[str] | None = None, ctx: OpsContext | None = None) -> int:
    ns = args.parse(build_parser(), argv)
    if isinstance(ns, int):
        return ns
    ctx = ctx or args.context(ns)
    try:
        result = status(ctx)
    except DeployError as exc:
        return refuse(ctx.out, ctx.err, ns.stack, exc, as_json=ns.json)
    if ns.json:
        print_json(ctx.out, result)
    else:
        render_human(ctx.out, result)
    return EXIT_HEALTH if ns.check and not result.healthy else 0


if __name__ == "__main__":
    sys.exit(entry.run(main))
