"""``togather-deploy VERB ...``: the one operator entry point (``[project.scripts]``).

``VERBS`` is the table of verbs: name, the module that implements it, one line of help and an
example. ``togather-deploy --help`` lists it without importing any verb (so help is instant and
a broken verb cannot hide the others); ``togather-deploy VERB ...`` imports that verb's module
and calls its ``main(argv)``. ``parser_for`` builds a verb's parser with one layout (prog,
description, the module's ``add_arguments``, then the exit codes and an example); a verb with
sub-verbs of its own (``cert``) keeps its ``build_parser``. ``scripts/<verb>`` are one-line
wrappers around this command.

Exit codes: ``togather_deploy.errors.ExitCode`` (0 ok, 1 failure, 2 usage, 3 locked,
4 health, 5 migration, 10 config); an unknown verb is a usage error (2).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import TextIO

from togather_deploy.cli import entry
from togather_deploy.errors import EXIT_CODES_HELP, ExitCode

PROG = "togather-deploy"


@dataclass(frozen=True)
class Verb:
    name: str
    module: str
    """``togather_deploy.cli.<module>``: defines ``add_arguments(parser)`` and ``main(argv)``."""
    help: str
    example: str


VERBS: tuple[Verb, ...] = (
    Verb("deploy", "deploy", "release VERSION on the idle colour, then switch traffic to it",
         "togather-deploy deploy production v1.5.0"),
    Verb("rollback", "rollback", "send traffic back to the other colour (after its health gate)",
         "togather-deploy rollback production"),
    Verb("status", "status", "active colour, versions, health, last snapshot, lock, recent events",
         "togather-deploy status production --json"),
    Verb("lock", "lock", "show or release the per-stack deploy lock",
         "togather-deploy lock status production"),
    Verb("migrate", "migrate", "database migrations by hand: status, up, lint, force",
         "togather-deploy migrate status --stack production"),
    Verb("snapshot", "snapshot", "database snapshots: create, list, verify, restore, prune",
         "togather-deploy snapshot list --stack production"),
    Verb("health-check", "health_check", "wait until a URL is healthy at a version",
         "togather-deploy health-check http://127.0.0.1:18081 --version v1.5.0"),
    Verb("doctor", "doctor", "can this host release STACK? every pre-flight check at once",
         "togather-deploy doctor production"),
    Verb("logs", "logs", "the right container's log (active, idle, router, db…), filtered",
         "togather-deploy logs production active --since 10m --status 5xx"),
    Verb("exec", "exec_cmd", "a one-off command in a throwaway twin of the live colour",
         "togather-deploy exec production -- ./server migrate status"),
    Verb("maintenance", "maintenance", "the maintenance page on or off, without pulumi up",
         "togather-deploy maintenance production on --message 'back at 14:00'"),
    Verb("cert", "cert", "the stack's HTTPS certificate: status, renew",
         "togather-deploy cert status production"),
    Verb("backup", "backup", "off-host backups (restic): run, snapshot, list, check, restore, drill",
         "togather-deploy backup list --stack production"),
)


def find(name: str) -> Verb | None:
    return next((v for v in VERBS if v.name == name), None)


def module_of(verb: Verb) -> ModuleType:
    return importlib.import_module(f"togather_deploy.cli.{verb.module}")


def _formatter(prog: str) -> argparse.HelpFormatter:
    # wide enough that each argument's help stays on its own single line
    return argparse.RawDescriptionHelpFormatter(prog, max_help_position=72, width=180)


def parser_for(name: str, description: str | None = None) -> argparse.ArgumentParser:
    """VERB's parser: prog ``togather-deploy VERB``, its help line (or ``description``), then
    its arguments (added by the module's ``configure``), the exit codes and an example."""
    verb = find(name)
    if verb is None:
        raise KeyError(name)
    parser = argparse.ArgumentParser(
        prog=f"{PROG} {verb.name}", description=description or verb.help[0].upper() + verb.help[1:],
        epilog=f"{EXIT_CODES_HELP}\nexample: {verb.example}",
        formatter_class=_formatter)
    module = module_of(verb)
    if not hasattr(module, "add_arguments"):  # a verb with sub-verbs of its own
        own: argparse.ArgumentParser = module.build_parser()
        own.prog, own.description = parser.prog, parser.description
        own.epilog = "\n".join(filter(None, (own.epilog, parser.epilog)))
        own.formatter_class = _formatter
        return own
    module.add_arguments(parser)
    return parser


def top_help() -> str:
    width = max(len(v.name) for v in VERBS)
    rows = "\n".join(f"  {v.name:<{width}}  {v.help}" for v in VERBS)
    return (f"usage: {PROG} VERB [ARGS...]   ({PROG} VERB --help for one verb)\n\n"
            f"Operate a togather-deploy stack: releases, rollbacks, state, database.\n\n"
            f"verbs:\n{rows}\n\n{EXIT_CODES_HELP}\nexample: {VERBS[0].example}\n")


def dispatch(argv: Sequence[str], out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Run ``argv`` (``VERB ARGS...``); the exit code."""
    out, err = out or sys.stdout, err or sys.stderr
    if not argv or argv[0] in ("-h", "--help", "help"):
        out.write(top_help())
        return ExitCode.OK if argv else ExitCode.USAGE
    verb = find(argv[0])
    if verb is None:
        err.write(f"{PROG}: unknown verb {argv[0]!r}\n  fix: one of "
                  f"{', '.join(v.name for v in VERBS)} ({PROG} --help)\n")
        return ExitCode.USAGE
    code: int = module_of(verb).main(list(argv[1:]))
    return code


def main() -> None:
    """The console script: no traceback ever reaches the operator (``entry.run``)."""
    sys.exit(entry.run(lambda: dispatch(sys.argv[1:])))


if __name__ == "__main__":
    main()
