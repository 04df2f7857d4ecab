"""The arguments every stack operation shares, and the one way they are parsed.

The parsers only parse: each verb's ``configure`` adds its own positionals and flags, then
these; its ``run`` turns the namespace into a context and calls the verb. Every stack verb
takes ``STACK``, ``--json`` and ``--cwd DIR`` (alias ``--project-dir``); the release verbs
add ``--json-events``, ``--verbose`` and ``--take-over-stale``.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from togather_deploy import ROOT
from togather_deploy.ops.context import OpsContext, sigterm_as_interrupt

if TYPE_CHECKING:
    from togather_deploy.cli.outcome import OperationResult


def add_stack(p: argparse.ArgumentParser) -> None:
    p.add_argument("stack", metavar="STACK", help="the Pulumi stack (dev, staging, production)")


def add_output(p: argparse.ArgumentParser, json_help: str = "print the result as JSON") -> None:
    p.add_argument("--json", action="store_true", help=json_help)
    p.add_argument("--cwd", "--project-dir", dest="project_dir", default=ROOT, metavar="DIR",
                   help="the project directory, holding Pulumi.<stack>.yaml (default: this tool's)")


def add_release_flags(p: argparse.ArgumentParser) -> None:
    """For the verbs that run ``pulumi up`` under the stack lock."""
    p.add_argument("--json-events", action="store_true",
                   help="also print each progress event as one JSON line on stderr")
    p.add_argument("--verbose", "-v", action="store_true",
                   help="also show the engine's info messages")
    p.add_argument("--take-over-stale", action="store_true",
                   help="take over a lock older than 30 minutes (check its holder first)")


def parse(parser: argparse.ArgumentParser, argv: Sequence[str] | None) -> argparse.Namespace | int:
    """The namespace, or argparse's exit code (2 usage, 0 for --help) instead of exiting."""
    try:
        return parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)


def context(args: argparse.Namespace) -> OpsContext:
    """A read-only verb's context (status, lock)."""
    return OpsContext(project_dir=os.path.abspath(args.project_dir), stack=args.stack)


def release_context(args: argparse.Namespace) -> OpsContext:
    """A releasing verb's context: the engine through the Automation API, live progress on
    stdout (none with ``--json``; JSON lines on stderr with ``--json-events``), SIGTERM
    cancelling the update cleanly."""
    from togather_deploy.cli.progress import Printer
    from togather_deploy.ops.automation import AutomationEngine

    sigterm_as_interrupt()
    printer = Printer(None if args.json else sys.stdout,
                      sys.stderr if getattr(args, "json_events", False) else None,
                      verbose=getattr(args, "verbose", False))
    ctx = OpsContext(project_dir=os.path.abspath(args.project_dir), stack=args.stack,
                     on_progress=printer)
    return dataclasses.replace(ctx, engine=AutomationEngine(ctx))


def run_release_verb(ns: argparse.Namespace, ctx: OpsContext | None,
                     release: Callable[[OpsContext], OperationResult]) -> int:
    """Pre-flight, then ``release(ctx)``, rendered; a refusal before any change rendered too."""
    from togather_deploy.cli.render import refuse, report
    from togather_deploy.errors import DeployError
    from togather_deploy.ops import preflight

    ctx = ctx or release_context(ns)
    try:
        preflight.check_stack(ctx.project_dir, ctx.stack)  # before the lock and any write
        result = release(ctx)
    except DeployError as exc:
        return refuse(ctx.out, ctx.err, ns.stack, exc, as_json=ns.json)
    return report(ctx.out, ctx.err, result, as_json=ns.json)


def main_of(verb: str, run: Callable[..., int], argv: Sequence[str] | None, *inject: object) -> int:
    """``run(namespace, *inject)`` for ``togather-deploy VERB ARGV`` (the verbs' test seam)."""
    from togather_deploy.cli.main import parser_for

    ns = parse(parser_for(verb), argv)
    return ns if isinstance(ns, int) else run(ns, *inject)


URL_HELP = ("the database URL; visible to every local user in `ps`, so prefer $DATABASE_URL "
            "or --database-url-file (default: $DATABASE_URL)")


def add_database_url(p: argparse.ArgumentParser, default: object) -> None:
    """``--database-url-file FILE`` (preferred) and ``--database-url URL`` (shows in ``ps``)."""
    p.add_argument("--database-url-file", default=default, metavar="FILE",
                   help="read the database URL from FILE (first line; keep it mode 0600)")
    p.add_argument("--database-url", default=default, metavar="URL", help=URL_HELP)


def resolve_database_url(ns: argparse.Namespace, env: dict[str, str]) -> str | None:
    """The URL from ``--database-url-file``, ``--database-url`` or ``$DATABASE_URL``, in that order."""
    from togather_deploy.errors import ConfigError

    path = getattr(ns, "database_url_file", None)
    if path:
        try:
            with open(path, encoding="utf-8") as fh:
                url = fh.readline().strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"--database-url-file: cannot read {path} ({type(exc).__name__})",
                              key="--database-url-file", file=path,
                              fix="write the URL on the file's first line (chmod 600 FILE)") from None
        if not url:
            raise ConfigError(f"--database-url-file: {path} is empty", key="--database-url-file",
                              file=path, fix="write the URL on the file's first line")
        return url
    return getattr(ns, "database_url", None) or env.get("DATABASE_URL") or None
