"""``scripts/lock status|release STACK``: who holds a stack's deploy lock; break it.

``status`` is read-only. ``release`` frees the lock after the operator confirms
(or ``--yes``) by moving the lock's slot on (``togather_deploy.ops.lock.break_lock``;
nothing is unlinked): the holder, if it is still running, keeps a lock nobody
checks any more, so a second deploy can start. That is only safe when the holder
is hung or gone, which is why it asks, and says who and since when; if the lock
changed hands since it was shown, nothing is released (exit 3).
Exit codes: 0 done (or nothing to release), 1 not confirmed, 3 changed hands, 10 bad config.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass

from togather_deploy.cli import args, entry
from togather_deploy.cli.render import print_json, refuse
from togather_deploy.config.source import from_stack_file
from togather_deploy.errors import DeployError, ExitCode
from togather_deploy.ops import lock
from togather_deploy.ops.context import OpsContext


@dataclass(frozen=True)
class LockResult:
    stack: str
    action: str
    """``status`` | ``released`` | ``not-released`` | ``nothing-to-release``"""
    held: bool
    stale: bool
    holder: str | None
    path: str
    exit_code: int


def lock_status(ctx: OpsContext) -> LockResult:
    cfg = from_stack_file(ctx.project_dir, ctx.stack)
    now = ctx.clock()
    st = lock.inspect(cfg.state_dir, ctx.stack, now=now)
    return LockResult(ctx.stack, "status", st.held, st.stale,
                      st.holder.describe(now) if st.holder else None, st.path, ExitCode.OK)


def lock_release(ctx: OpsContext, *, yes: bool) -> LockResult:
    """Break the lock after confirmation (asked on ``ctx.out``, read from ``ctx.stdin``)."""
    cfg = from_stack_file(ctx.project_dir, ctx.stack)
    now = ctx.clock()
    st = lock.inspect(cfg.state_dir, ctx.stack, now=now)
    holder = st.holder.describe(now) if st.holder else None
    if not st.held:
        lock.break_lock(cfg.state_dir, ctx.stack)  # only a dead holder's record, if anything
        return LockResult(ctx.stack, "nothing-to-release", False, False, holder, st.path, ExitCode.OK)
    if not yes:
        ctx.out.write(f"stack {ctx.stack} is locked by {holder or 'an unknown process'}"
                      f"{' (STALE)' if st.stale else ''}.\n"
                      "Release it? Only do this if that deploy is hung or gone. [y/N] ")
        ctx.out.flush()
        answer = ctx.stdin.readline().strip().lower()
        if answer not in ("y", "yes"):
            return LockResult(ctx.stack, "not-released", True, st.stale, holder, st.path,
                              ExitCode.FAILURE)
    lock.break_lock(cfg.state_dir, ctx.stack, confirmed=st.holder)
    return LockResult(ctx.stack, "released", True, st.stale, holder, st.path, ExitCode.OK)


def render_human(out: object, r: LockResult) -> None:
    write = out.write  # type: ignore[attr-defined]
    if r.action == "status":
        if r.held:
            write(f"stack {r.stack}: locked by {r.holder}{' — STALE' if r.stale else ''}\n")
        else:
            last = f" (last holder: {r.holder}, exited without releasing)" if r.holder else ""
            write(f"stack {r.stack}: free{last}\n")
    elif r.action == "released":
        write(f"stack {r.stack}: lock released (was held by {r.holder})\n")
    elif r.action == "not-released":
        write(f"stack {r.stack}: not released\n")
    else:
        write(f"stack {r.stack}: not locked, nothing to release\n")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("action", choices=("status", "release"), help="status: who holds it; "
                   "release: break it (asks first)")
    args.add_stack(p)
    p.add_argument("--yes", "-y", action="store_true", help="release without asking")
    args.add_output(p)


def main(argv: Sequence[str] | None = None, ctx: OpsContext | None = None) -> int:
    """The test seam: ``togather-deploy lock ARGV`` with this context."""
    return args.main_of("lock", run, argv, ctx)


def run(ns: argparse.Namespace, ctx: OpsContext | None = None) -> int:
    ctx = ctx or args.context(ns)
    if ns.action == "release" and ns.json and not ns.yes:
        return refuse(ctx.out, ctx.err, ns.stack, DeployError(
            "--json cannot ask for confirmation", exit_code=ExitCode.USAGE, fix="add --yes"), as_json=True)
    try:
        result = lock_status(ctx) if ns.action == "status" else lock_release(ctx, yes=ns.yes)
    except DeployError as exc:
        return refuse(ctx.out, ctx.err, ns.stack, exc, as_json=ns.json)
    if ns.json:
        print_json(ctx.out, result)
    else:
        render_human(ctx.out, result)
    return result.exit_code


if __name__ == "__main__":
    sys.exit(entry.run(main))
