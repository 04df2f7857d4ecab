"""``togather-deploy migrate status|up|lint|force``: the runner ``pulumi up`` uses, by hand.

    scripts/migrate status                 recorded version, dirty flag, pending files
    scripts/migrate up                     apply pending migrations (forward only)
    scripts/migrate lint [--all]           blue/green safety of pending (or all) files
    scripts/migrate force VERSION          set the version, clear dirty (-1: none)

Common options: ``--database-url-file FILE`` or ``$DATABASE_URL`` (``--database-url URL``
works too, but shows the password in ``ps``), ``--dir DIR``
(the migrations directory), ``--stack STACK`` (dir and snapshot dir from
``Pulumi.STACK.yaml``), ``--snapshot-dir DIR`` (named in dirty-recovery steps),
``--lock-timeout SECONDS``, ``--json``.

Exit codes: 0 ok, 1 failure (lint findings), 2 usage, 3 lock held, 5 migration
failure, 10 bad config/input.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, TextIO

from togather_deploy import ROOT
from togather_deploy.cli import entry
from togather_deploy.cli.args import add_database_url, resolve_database_url
from togather_deploy.cli.render import print_json, verb_failed
from togather_deploy.db.migrations.apply import DEFAULT_LOCK_TIMEOUT_S, force, migrate_up, pending, status
from togather_deploy.db.migrations.files import Migration, load_migrations
from togather_deploy.db.migrations.lint import lint_migrations
from togather_deploy.errors import ConfigError, DeployError, ExitCode


@dataclass(frozen=True)
class Settings:
    url: str | None
    dir: str | None
    snapshot_dir: str | None
    lock_timeout_s: float


@dataclass(frozen=True)
class MigrateResult:
    verb: str
    version: int | None
    dirty: bool
    pending: tuple[str, ...] = ()
    applied: tuple[dict[str, Any], ...] = ()
    findings: tuple[str, ...] = ()

    @property
    def exit_code(self) -> int:
        return ExitCode.FAILURE if self.findings else ExitCode.OK


def _url(st: Settings) -> str:
    if not st.url:
        raise ConfigError("no database URL: set DATABASE_URL or pass --database-url-file FILE",
                          key="--database-url")
    return st.url


def _files(st: Settings) -> list[Migration]:
    if not st.dir:
        raise ConfigError("no migrations directory: pass --dir DIR or --stack STACK", key="--dir")
    return load_migrations(st.dir)


def _latest_snapshot(st: Settings) -> str | None:
    if not st.snapshot_dir:
        return None
    from togather_deploy.db.snapshots.store import latest_snapshot

    snap = latest_snapshot(st.snapshot_dir)
    return snap.name if snap else None


def status_(st: Settings) -> MigrateResult:
    state = status(_url(st))
    todo = pending(_files(st), state) if st.dir else []
    return MigrateResult("status", state.version, state.dirty, tuple(m.name for m in todo))


def up(st: Settings) -> MigrateResult:
    result = migrate_up(_url(st), _files(st), lock_timeout_s=st.lock_timeout_s, snapshot=_latest_snapshot(st))
    applied = tuple({"version": a.version, "name": a.name, "duration_s": a.duration_s,
                     "transactional": a.transactional} for a in result.applied)
    return MigrateResult("up", result.version, False, applied=applied)


def lint(st: Settings, *, all_files: bool) -> MigrateResult:
    files = _files(st)
    state = None if all_files or not st.url else status(st.url)
    chosen = files if state is None else pending(files, state)
    findings = tuple(str(f) for f in lint_migrations(chosen))
    return MigrateResult("lint", state.version if state else None, bool(state and state.dirty),
                         pending=tuple(m.name for m in chosen), findings=findings)


def force_(st: Settings, version: int) -> MigrateResult:
    state = force(_url(st), version, lock_timeout_s=st.lock_timeout_s)
    return MigrateResult("force", state.version, state.dirty)


def render(out: TextIO, r: MigrateResult, *, as_json: bool) -> None:
    if as_json:
        print_json(out, {**asdict(r), "exit_code": r.exit_code})
        return
    version = "none" if r.version is None else str(r.version)
    if r.verb in ("status", "force", "up"):
        out.write(f"version {version}{' (DIRTY)' if r.dirty else ''}\n")
    for a in r.applied:
        how = "" if a["transactional"] else "  (outside a transaction)"
        out.write(f"  applied {a['name']}  {a['duration_s']:.3f}s{how}\n")
    if r.verb == "up" and not r.applied:
        out.write("nothing to apply\n")
    if r.verb in ("status", "lint"):
        label = "pending" if r.verb == "status" else "linted"
        out.write(f"{label}: {', '.join(r.pending) if r.pending else 'none'}\n")
    for f in r.findings:
        out.write(f"  warning: {f}\n")
    if r.verb == "lint":
        out.write(f"{len(r.findings)} blue/green safety finding(s)\n")


def build_parser() -> argparse.ArgumentParser:
    from togather_deploy.cli.main import parser_for

    return parser_for("migrate")


def add_arguments(p: argparse.ArgumentParser) -> None:
    _common(p, None)
    sub = p.add_subparsers(dest="verb", required=True)

    def verb(name: str, text: str) -> argparse.ArgumentParser:
        v = sub.add_parser(name, help=text)
        _common(v, argparse.SUPPRESS)
        return v

    verb("status", "recorded version, dirty flag and pending files")
    verb("up", "apply pending migrations")
    verb("lint", "blue/green safety lint").add_argument("--all", action="store_true",
                                                        help="lint every file, not only pending ones")
    verb("force", "set the recorded version and clear dirty").add_argument("version", type=int)


def _common(p: argparse.ArgumentParser, default: Any) -> None:
    add_database_url(p, default)
    p.add_argument("--dir", default=default, help="migrations directory (default: from --stack)")
    p.add_argument("--stack", default=default, help="read dirs from Pulumi.STACK.yaml")
    p.add_argument("--snapshot-dir", default=default, help="named in dirty-recovery steps")
    p.add_argument("--lock-timeout", default=default, type=float, help="seconds to wait for the lock")
    p.add_argument("--json", default=default if default is not None else False, action="store_true",
                   help="print the result as JSON")


def settings(args: argparse.Namespace, env: dict[str, str]) -> Settings:
    directory, snapshot_dir = args.dir, args.snapshot_dir
    if args.stack:
        from togather_deploy.config.source import from_stack_file

        cfg = from_stack_file(ROOT, args.stack)
        directory, snapshot_dir = directory or cfg.migrations.dir, snapshot_dir or cfg.snapshots.dir
    return Settings(url=resolve_database_url(args, env),
                    dir=os.path.abspath(directory) if directory else None, snapshot_dir=snapshot_dir,
                    lock_timeout_s=args.lock_timeout if args.lock_timeout is not None
                    else DEFAULT_LOCK_TIMEOUT_S)


def main(argv: Sequence[str] | None = None, *, out: TextIO | None = None, err: TextIO | None = None,
         env: dict[str, str] | None = None) -> int:
    """The test seam: ``togather-deploy migrate ARGV`` with these streams and environment."""
    return run(build_parser().parse_args(argv), out=out, err=err, env=env)  # exits 2 on usage


def run(args: argparse.Namespace, *, out: TextIO | None = None, err: TextIO | None = None,
        env: dict[str, str] | None = None) -> int:
    out, err = out or sys.stdout, err or sys.stderr
    try:
        st = settings(args, dict(os.environ) if env is None else env)
        if args.verb == "status":
            result = status_(st)
        elif args.verb == "up":
            result = up(st)
        elif args.verb == "lint":
            result = lint(st, all_files=args.all)
        else:
            result = force_(st, args.version)
    except DeployError as exc:
        return verb_failed(out, err, args.verb, exc, as_json=args.json)
    except KeyboardInterrupt:
        err.write("interrupted\n")
        return ExitCode.FAILURE
    render(out, result, as_json=args.json)
    return result.exit_code


if __name__ == "__main__":
    sys.exit(entry.run(main))
