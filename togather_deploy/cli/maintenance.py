"""``scripts/maintenance STACK on|off [--message TEXT]``: the maintenance page, without ``pulumi up``.

The router reads ``<stateDir>/router/maintenance`` per request (``togather_deploy.ops.maintenance_flag``):
``on`` writes it, ``off`` removes it, so the public listener changes at the next request — no
``pulumi up``, no nginx reload, no request cut. ``/health``, ``/healthz`` and ``/readyz`` stay
proxied to the live colour, and the preview port (the idle colour) is untouched.

In order, nothing changed until step 3:

1. the stack config is read and the message checked (exit 10 on either);
2. the stack lock is taken for the instant of the change (exit 3 while a deploy or rollback
   runs: its check for foreign config edits would otherwise stop it);
3. ``router.maintenance`` is set in the stack config with ``pulumi config set`` (the declarative
   form: the next ``pulumi up`` agrees with the file instead of undoing it) unless
   ``--no-config``; when that fails, the router is left as it was (exit 1);
4. the file is written or removed;
5. the audit log gets ``maintenance.on``/``maintenance.off`` and the notify targets are told
   (best effort: a failed notification is reported, never fatal).

Idempotent: ``on`` twice rewrites the message, ``off`` twice is a no-op (``changed`` false).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, TextIO

from togather_deploy.cli import args, entry
from togather_deploy.cli.outcome import engine_config
from togather_deploy.cli.render import Stages, print_json, refuse
from togather_deploy.config.model import DeployConfig
from togather_deploy.config.source import from_stack_file
from togather_deploy.errors import DeployError
from togather_deploy.ops import audit, lock, maintenance_flag, notify
from togather_deploy.ops.context import OpsContext, config_set_argv, pulumi_checked

CONFIG_KEY = "router.maintenance"


@dataclass(frozen=True)
class MaintenanceResult:
    stack: str
    maintenance: str
    """``on`` | ``off``: what the public listener serves now."""
    changed: bool
    """False when it already was in that state (``on`` with the same message, or ``off``)."""
    message: str | None
    """The text on the maintenance page (``None`` when off)."""
    config_updated: bool
    """``router.maintenance`` was set in the stack config (False with ``--no-config`` or when
    it already agreed)."""
    router_file: str
    audit_log: str | None
    notifications: tuple[dict[str, Any], ...]
    exit_code: int = 0


def _notify(cfg: DeployConfig, ctx: OpsContext, event: dict[str, Any], on: bool, message: str | None,
            secrets: Sequence[str]) -> tuple[dict[str, Any], ...]:
    title = f"togather {ctx.stack}: maintenance {'ON' if on else 'off'}"
    body = f"public site shows the maintenance page: {message}" if on else "public site serving again"
    note = notify.Notification(title=title, message=audit.redact_text(body, secrets),
                               event=audit.redact(event, secrets), priority=4 if on else 3,
                               tags=("construction",) if on else ("white_check_mark",))
    return tuple(asdict(d) for d in notify.send(cfg.notify, note, sleep=ctx.sleep))


def maintenance(ctx: OpsContext, *, on: bool, message: str = "", set_config: bool = True,
                quiet: bool = False) -> MaintenanceResult:
    """Raises ``DeployError`` only before the router changed (config, message, lock, pulumi)."""
    cfg = from_stack_file(ctx.project_dir, ctx.stack)
    text = maintenance_flag.check_message(message) if on else ""
    stages = Stages(ctx.out, ctx.monotonic, quiet=quiet, secrets=audit.secret_values(cfg))
    with lock.stack_lock(cfg.state_dir, ctx.stack, version="-", operation="maintenance",
                         clock=ctx.clock):
        config_updated = False
        if set_config:
            cfg = engine_config(ctx, stages)  # the notify targets may be secrets
            if cfg.router.maintenance != on:
                with stages.stage("config", f"{CONFIG_KEY} = {str(on).lower()}"):
                    pulumi_checked(ctx, config_set_argv(ctx, CONFIG_KEY, str(on).lower(), path=True),
                                   f"setting {CONFIG_KEY}")
                config_updated = True
        before = maintenance_flag.read(cfg.router_dir)
        with stages.stage("router", "maintenance file " + ("written" if on else "removed")):
            shown = maintenance_flag.turn_on(cfg.router_dir, text) if on else None
            if not on:
                maintenance_flag.turn_off(cfg.router_dir)
    changed = before != shown
    event = audit.make_event(f"maintenance.{'on' if on else 'off'}", stack=ctx.stack, version=None,
                             from_color=None, to_color=None, stages=stages.durations(),
                             clock=ctx.clock, message=shown, changed=changed,
                             config_updated=config_updated)
    try:
        log: str | None = audit.append(cfg.state_dir, event, secrets=stages.secrets)
    except (DeployError, OSError) as exc:  # the switch happened: say so rather than fail
        stages.note(f"audit log not written: {exc}")
        log = None
    notes = _notify(cfg, ctx, event, on, shown, stages.secrets) if changed else ()
    return MaintenanceResult(stack=ctx.stack, maintenance="on" if on else "off", changed=changed,
                             message=shown, config_updated=config_updated,
                             router_file=maintenance_flag.flag_path(cfg.router_dir), audit_log=log,
                             notifications=notes)


def render_human(out: TextIO, r: MaintenanceResult) -> None:
    if r.maintenance == "on":
        out.write(f"maintenance ON for {r.stack}: the public site answers 503 \"{r.message}\"; "
                  "/health, /healthz, /readyz and the preview port still reach the app\n")
    else:
        out.write(f"maintenance off for {r.stack}: the public site is served again\n")
    if not r.changed:
        out.write("  (it already was)\n")
    if r.config_updated:
        out.write(f"  stack config: {CONFIG_KEY} = {'true' if r.maintenance == 'on' else 'false'}\n")
    for n in r.notifications:
        if not n.get("ok"):
            out.write(f"  note: {n['target']} notification failed: {n.get('error')}\n")


DESCRIPTION = """\
Turn STACK's maintenance page on or off. The router reads a flag file per request, so this
takes effect at the next request, with no pulumi up and no nginx reload; /health, /healthz,
/readyz and the preview port keep reaching the app. Also sets router.maintenance in the stack
config (unless --no-config), audits and notifies.

exit codes: 0 done, 1 failure (pulumi config set failed: nothing changed), 2 usage,
3 a deploy or rollback holds the lock, 10 bad config or message

example:
  scripts/maintenance production on --message "Upgrading the database, back at 21:00 UTC"
  scripts/maintenance production off"""


def add_arguments(p: argparse.ArgumentParser) -> None:
    args.add_stack(p)
    p.add_argument("state", choices=("on", "off"), help="on: serve the 503 page; off: serve the app")
    p.add_argument("--message", default="", metavar="TEXT",
                   help="one line shown on the maintenance page (default: Back shortly.)")
    p.add_argument("--no-config", action="store_true",
                   help="only switch the router; leave router.maintenance in the stack config as it is "
                        "(when pulumi cannot run; status then shows the disagreement)")
    args.add_output(p, "print the result as JSON")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="togather-deploy maintenance", description=DESCRIPTION,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(p)
    return p


def run(ns: argparse.Namespace, ctx: OpsContext | None = None) -> MaintenanceResult:
    ctx = ctx or args.context(ns)
    return maintenance(ctx, on=ns.state == "on", message=ns.message, set_config=not ns.no_config,
                       quiet=ns.json)


def main(argv: Sequence[str] | None = None, ctx: OpsContext | None = None) -> int:
    ns = args.parse(build_parser(), argv)
    if isinstance(ns, int):
        return ns
    ctx = ctx or args.context(ns)
    try:
        result = run(ns, ctx)
    except DeployError as exc:
        return refuse(ctx.out, ctx.err, ns.stack, exc, as_json=ns.json)
    if ns.json:
        print_json(ctx.out, result)
    else:
        render_human(ctx.out, result)
    return result.exit_code


if __name__ == "__main__":
    sys.exit(entry.run(main))
