"""``togather-deploy snapshot create|list|verify|restore|prune``: the same snapshots ``pulumi up`` takes.

    scripts/snapshot create  [--app-version V] [--reason TEXT]
    scripts/snapshot list
    scripts/snapshot verify  [NAME]            (default: every snapshot)
    scripts/snapshot restore NAME [--into DB] [--yes]
    scripts/snapshot prune   [--retention-days N] [--keep-min N] [--dry-run]

Common options: ``--database-url-file FILE`` or ``$DATABASE_URL`` (``--database-url URL``
works too, but shows the password in ``ps``), ``--dir DIR``
(the snapshot directory), ``--stack STACK`` (dir, mode, retention and the
database container from ``Pulumi.STACK.yaml``), ``--mode host|container``,
``--container NAME``, ``--json``.

Exit codes: 0 ok, 1 failure, 2 usage, 10 bad config/input.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any, TextIO

from togather_deploy import ROOT
from togather_deploy.cli import entry
from togather_deploy.cli.args import add_database_url, resolve_database_url
from togather_deploy.cli.render import print_json, verb_failed
from togather_deploy.config import paths as config_paths
from togather_deploy.config.model import DeployConfig
from togather_deploy.db.migrations.database import parse_url
from togather_deploy.db.snapshots.dump import Target, create_snapshot
from togather_deploy.db.snapshots.restore import restore_snapshot
from togather_deploy.db.snapshots.store import SnapshotInfo, list_snapshots, prune, verify_snapshot
from togather_deploy.errors import ConfigError, DeployError, ExitCode
from togather_deploy.ops import metrics as deploy_metrics


@dataclass(frozen=True)
class Settings:
    """Everything a verb needs, resolved once from flags, environment and stack file."""

    url: str | None
    dir: str
    target: Target
    retention_days: int
    keep_min: int
    stack: DeployConfig | None = None
    """With ``--stack``: the deploy metrics (last snapshot time/size) are refreshed too."""


@dataclass(frozen=True)
class SnapshotRow:
    name: str
    created_at: str
    app_version: str
    size: int
    schema_version: Any
    reason: str | None


@dataclass(frozen=True)
class SnapshotsResult:
    verb: str
    snapshots: tuple[SnapshotRow, ...]
    detail: str = ""


def _row(s: SnapshotInfo) -> SnapshotRow:
    meta = s.meta or {}
    return SnapshotRow(s.name, s.created_at.isoformat(), s.app_version, s.size,
                       meta.get("schema_version"), meta.get("reason"))


def _need_url(st: Settings) -> str:
    if not st.url:
        raise ConfigError("no database URL: set DATABASE_URL or pass --database-url-file FILE",
                          key="--database-url")
    return st.url


def create(st: Settings, *, app_version: str, reason: str) -> SnapshotsResult:
    snap = create_snapshot(_need_url(st), st.dir, target=st.target, app_version=app_version, reason=reason)
    pruned = prune(st.dir, retention_days=st.retention_days, keep_min=st.keep_min, database=snap.database)
    return SnapshotsResult("create", (_row(snap),), f"pruned {len(pruned)}{_refresh_metrics(st)}")


def _refresh_metrics(st: Settings) -> str:
    """Keep SnapshotTooOld and the Deployment dashboard current between deploys (best effort)."""
    if st.stack is None:
        return ""
    try:
        return f"; metrics: {deploy_metrics.publish(st.stack)}"
    except OSError as exc:
        return f"; metrics not refreshed: {exc}"


def list_(st: Settings) -> SnapshotsResult:
    return SnapshotsResult("list", tuple(_row(s) for s in list_snapshots(st.dir)))


def verify(st: Settings, name: str | None) -> SnapshotsResult:
    snaps = [s for s in list_snapshots(st.dir) if name in (None, s.name)]
    if name and not snaps:
        raise ConfigError(f"no snapshot named {name}", file=st.dir, fix="scripts/snapshot list")
    for snap in snaps:
        verify_snapshot(snap)
    return SnapshotsResult("verify", tuple(_row(s) for s in snaps), "all intact")


def restore(st: Settings, name: str, *, into: str | None, confirm: Callable[[str], bool]) -> SnapshotsResult:
    url = _need_url(st)
    database = into or parse_url(url).dbname
    if not confirm(database):
        raise DeployError("restore cancelled: the confirmation did not match", fix="type the database name")
    done = restore_snapshot(url, st.dir, name, target=st.target, into=into)
    return SnapshotsResult("restore", (), f"restored {done.snapshot} into {done.database} "
                           f"in {done.duration_s:.1f}s")


def prune_(st: Settings, *, dry_run: bool) -> SnapshotsResult:
    database = parse_url(st.url).dbname if st.url else None
    gone = prune(st.dir, retention_days=st.retention_days, keep_min=st.keep_min, database=database,
                 dry_run=dry_run)
    if dry_run:
        return SnapshotsResult("prune", tuple(_row(s) for s in gone), "would remove")
    return SnapshotsResult("prune", tuple(_row(s) for s in gone), f"removed{_refresh_metrics(st)}")


def render(out: TextIO, result: SnapshotsResult, *, as_json: bool) -> None:
    if as_json:
        print_json(out, asdict(result))
        return
    for r in result.snapshots:
        out.write(f"{r.name}  {r.size:>12,d} B  schema {r.schema_version}  {r.reason or ''}\n")
    if result.verb == "list" and not result.snapshots:
        out.write("no snapshots\n")
    if result.detail:
        out.write(f"{result.verb}: {result.detail}\n")


def _common(p: argparse.ArgumentParser, default: Any) -> None:
    """The shared options, accepted before or after the verb."""
    add_database_url(p, default)
    p.add_argument("--dir", default=default, help="snapshot directory (default: from --stack)")
    p.add_argument("--stack", default=default,
                   help="read dir/mode/retention/container from Pulumi.STACK.yaml")
    p.add_argument("--mode", default=default, choices=("host", "container"), help="where pg_dump/psql run")
    p.add_argument("--container", default=default, help="database container (container mode)")
    p.add_argument("--json", default=default if default is not None else False, action="store_true",
                   help="print the result as JSON")


def build_parser() -> argparse.ArgumentParser:
    from togather_deploy.cli.main import parser_for

    return parser_for("snapshot")


def add_arguments(p: argparse.ArgumentParser) -> None:
    _common(p, None)
    sub = p.add_subparsers(dest="verb", required=True)

    def verb(name: str, text: str) -> argparse.ArgumentParser:
        v = sub.add_parser(name, help=text)
        _common(v, argparse.SUPPRESS)
        return v

    c = verb("create", "take a verified snapshot now")
    c.add_argument("--app-version", default="manual")
    c.add_argument("--reason", default="manual snapshot")
    verb("list", "snapshots, newest first")
    v = verb("verify", "check gzip, trailer and checksum")
    v.add_argument("name", nargs="?")
    r = verb("restore", "load a snapshot (one transaction)")
    r.add_argument("name")
    r.add_argument("--into", help="another database (created if missing)")
    r.add_argument("--yes", action="store_true", help="skip the typed confirmation")
    pr = verb("prune", "apply retention")
    pr.add_argument("--retention-days", type=int)
    pr.add_argument("--keep-min", type=int)
    pr.add_argument("--dry-run", action="store_true")


def settings(args: argparse.Namespace, env: dict[str, str]) -> Settings:
    directory, mode, container, days, keep = args.dir, args.mode, args.container, 7, 3
    cfg: DeployConfig | None = None
    if args.stack:
        from togather_deploy.config.source import from_stack_file

        cfg = from_stack_file(ROOT, args.stack)
        directory = directory or cfg.snapshots.dir
        mode, container = mode or cfg.snapshots.mode, container or cfg.name("db")
        days, keep = cfg.snapshots.retention_days, cfg.snapshots.keep_min
    if not directory:
        raise ConfigError("no snapshot directory: pass --dir DIR or --stack STACK", key="--dir")
    days = getattr(args, "retention_days", None) or days
    keep = getattr(args, "keep_min", None) or keep
    target = Target(mode=mode or ("container" if container else "host"), container=container)
    directory = config_paths.host_dir("--dir", directory, os.getcwd(), fix=(
        "pass --dir a directory of its own (e.g. /var/lib/togather-deploy/snapshots), or --stack"))
    return Settings(url=resolve_database_url(args, env),
                    dir=directory, target=target, retention_days=days, keep_min=keep,
                    stack=cfg)


def _typed_confirmation(database: str, stdin: TextIO, out: TextIO) -> bool:
    out.write(f"This replaces the contents of database {database!r}. Type its name to continue: ")
    out.flush()
    return stdin.readline().strip() == database


def main(argv: Sequence[str] | None = None, *, stdin: TextIO | None = None, out: TextIO | None = None,
         err: TextIO | None = None, env: dict[str, str] | None = None) -> int:
    """The test seam: ``togather-deploy snapshot ARGV`` with these streams and environment."""
    return run(build_parser().parse_args(argv), stdin=stdin, out=out, err=err, env=env)


def run(args: argparse.Namespace, *, stdin: TextIO | None = None, out: TextIO | None = None,
        err: TextIO | None = None, env: dict[str, str] | None = None) -> int:
    stdin, out, err = stdin or sys.stdin, out or sys.stdout, err or sys.stderr
    try:
        st = settings(args, dict(os.environ) if env is None else env)
        if args.verb == "create":
            result = create(st, app_version=args.app_version, reason=args.reason)
        elif args.verb == "list":
            result = list_(st)
        elif args.verb == "verify":
            result = verify(st, args.name)
        elif args.verb == "restore":
            result = restore(st, args.name, into=args.into, confirm=lambda db: args.yes
                             or _typed_confirmation(db, stdin, err))
        else:
            result = prune_(st, dry_run=args.dry_run)
    except DeployError as exc:
        return verb_failed(out, err, args.verb, exc, as_json=args.json)
    except KeyboardInterrupt:
        err.write("interrupted\n")
        return ExitCode.FAILURE
    render(out, result, as_json=args.json)
    return ExitCode.OK


if __name__ == "__main__":
    sys.exit(entry.run(main))
