"""``scripts/doctor STACK``: the pre-flight of a release, every check at once.

The checks (``togather_deploy.ops.doctor``): the Pulumi CLI and its version, the passphrase,
the backend answering, the Docker engine and its version, ``stateDir`` ownership and modes,
free disk against the snapshot size, the published ports, memory against the sum of the
containers' limits, and DNS of ``domain``. Read-only: no lock, no writes, no secret read.

Exit codes: 0 nothing failed (warnings allowed), 1 a check failed, 2 usage, 10 bad config.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TextIO

from togather_deploy.cli import args, entry
from togather_deploy.cli.render import print_json, refuse
from togather_deploy.config.source import from_stack_file
from togather_deploy.errors import EXIT_FAILURE, DeployError
from togather_deploy.ops import doctor
from togather_deploy.ops.context import OpsContext

MARKS = {"ok": "✓", "warn": "!", "fail": "✗"}


@dataclass(frozen=True)
class DoctorResult:
    stack: str
    checks: tuple[doctor.Check, ...]
    failed: tuple[str, ...]
    exit_code: int


def run_checks(project_dir: str, stack: str, env: Mapping[str, str] | None = None) -> DoctorResult:
    """What ``deploy`` runs first: stop (before the lock) when ``exit_code`` is not 0."""
    cfg = from_stack_file(project_dir, stack)
    checks = doctor.run_checks(cfg, project_dir, env=env)
    bad = tuple(c.name for c in doctor.failed(checks))
    return DoctorResult(stack, checks, bad, EXIT_FAILURE if bad else 0)


def render_human(out: TextIO, r: DoctorResult) -> None:
    out.write(f"doctor {r.stack}\n")
    for c in r.checks:
        out.write(f"  {MARKS[c.level]} {c.name:<11} {c.detail}\n")
        if c.level != "ok" and c.fix:
            out.write(f"    fix: {c.fix}\n")
    out.write("ready to release\n" if not r.failed else f"NOT ready: {', '.join(r.failed)}\n")


DESCRIPTION = """\
Check that this host can release STACK: Pulumi CLI and version, passphrase, backend, Docker
and its version, stateDir ownership and modes, free disk vs the snapshot size, published
ports, memory vs the containers' limits, DNS of domain. Shows every problem with its fix.

exit codes: 0 nothing failed (warnings allowed), 1 a check failed, 2 usage, 10 bad config

example:
  scripts/doctor production
  scripts/doctor production --json"""


def add_arguments(p: argparse.ArgumentParser) -> None:
    args.add_stack(p)
    args.add_output(p, "print the checks as JSON")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="togather-deploy doctor", description=DESCRIPTION,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(p)
    return p


def run(ns: argparse.Namespace, ctx: OpsContext | None = None) -> DoctorResult:
    ctx = ctx or args.context(ns)
    return run_checks(ctx.project_dir, ctx.stack, os.environ)


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
