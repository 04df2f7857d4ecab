"""The arguments every stack operation shares, and the one way they are parsed.

The parsers only parse: each verb's ``build_parser`` adds its own positionals and
flags, then these; ``main`` turns the namespace into a context and calls the verb.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from togather_deploy import ROOT
from togather_deploy.ops.context import OpsContext, sigterm_as_interrupt, streaming_pulumi


def add_stack(p: argparse.ArgumentParser) -> None:
    p.add_argument("stack", metavar="STACK", help="the Pulumi stack (dev, staging, production)")


def add_output(p: argparse.ArgumentParser, json_help: str = "print the result as JSON") -> None:
    p.add_argument("--json", action="store_true", help=json_help)
    p.add_argument("--project-dir", default=ROOT, help="directory holding Pulumi.<stack>.yaml")


def add_release_flags(p: argparse.ArgumentParser) -> None:
    """For the verbs that run ``pulumi up`` under the stack lock."""
    p.add_argument("--verbose", "-v", action="store_true",
                   help="echo pulumi's output as it runs (to stderr with --json)")
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
    """A releasing verb's context: SIGTERM cancels pulumi cleanly; --verbose echoes it."""
    sigterm_as_interrupt()
    echo = (sys.stderr if args.json else sys.stdout) if args.verbose else None
    return OpsContext(project_dir=os.path.abspath(args.project_dir), stack=args.stack,
                      pulumi=streaming_pulumi(echo))


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
