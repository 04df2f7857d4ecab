"""``scripts/backup run|snapshot|list|check|restore|drill --stack STACK``: off-host copies with restic.

    scripts/backup run       --stack S      upload snapshots + stack files (+ file-backend state),
                                            then the repository's retention        (scheduled daily)
    scripts/backup snapshot  --stack S      a local snapshot + local retention     (scheduled daily)
    scripts/backup list      --stack S      the repository's snapshots and the dump files they hold
    scripts/backup check     --stack S [--read-data SUBSET]     restic's own check (``1/10``)
    scripts/backup restore NAME --stack S [--into DB] [--yes]   fetch NAME from the repository
                                            when the local copy is gone, verify it, then restore
    scripts/backup drill     --stack S      newest copy → scratch database, compared, dropped

The password comes from ``--password-file``, ``$RESTIC_PASSWORD_FILE`` or
``<stateDir>/backup/password`` (``pulumi up`` writes it); the database URL from
``--database-url-file``, ``$DATABASE_URL`` or ``<stateDir>/backup/database-url``. ``run``,
``snapshot`` and ``drill`` record their result for ``scripts/status`` and the metrics, audit
it and notify a failure. A failed upload never touches the local snapshots.

Exit codes: 0 ok, 1 failure, 2 usage, 10 bad config/input.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict
from typing import Any, TextIO

from togather_deploy import ROOT
from togather_deploy.cli import entry
from togather_deploy.cli import snapshot as snapshot_cli
from togather_deploy.cli.args import add_database_url, resolve_database_url
from togather_deploy.cli.render import print_json, verb_failed
from togather_deploy.config.db_url import parse_url
from togather_deploy.config.model import DeployConfig
from togather_deploy.db.snapshots import store
from togather_deploy.db.snapshots.dump import Target
from togather_deploy.db.snapshots.restore import restore_snapshot
from togather_deploy.errors import EXIT_FAILURE, ConfigError, DeployError
from togather_deploy.ops import backup, backup_jobs, drill
from togather_deploy.ops import backup_files as files

JOB_VERBS = {"run": "backup", "snapshot": "snapshot", "drill": "drill"}


def _url(cfg: DeployConfig, args: argparse.Namespace, env: dict[str, str]) -> str:
    url = resolve_database_url(args, env)
    if url:
        return url
    path = files.database_url_path(cfg.state_dir)
    if os.path.isfile(path):
        with open(path, encoding="utf-8") as fh:
            return fh.readline().strip()
    raise ConfigError("no database URL", key="--database-url-file",
                      fix=f"pass --database-url-file FILE or set DATABASE_URL (`pulumi up` writes {path})")


def _target(cfg: DeployConfig) -> Target:
    return Target(mode=cfg.snapshots.mode, container=cfg.name("db"))


def run_(cfg: DeployConfig, args: argparse.Namespace, env: dict[str, str]) -> dict[str, Any]:
    repo = backup.repo_for(cfg, password_file=args.password_file, env=env)
    done = backup.copy(cfg, repo, args.project_dir, env=env, timeout=args.timeout)
    return {"verb": "run", **asdict(done), "detail": f"uploaded {done.bytes_added:,d} new bytes "
            f"of {done.bytes_processed:,d} as restic snapshot {done.snapshot_id[:8]}"}


def snapshot_(cfg: DeployConfig, args: argparse.Namespace, env: dict[str, str]) -> dict[str, Any]:
    st = snapshot_cli.Settings(url=_url(cfg, args, env), dir=cfg.snapshots.dir, target=_target(cfg),
                               retention_days=cfg.snapshots.retention_days,
                               keep_min=cfg.snapshots.keep_min, stack=cfg)
    result = snapshot_cli.create(st, app_version=cfg.release_label or "manual", reason="scheduled daily")
    row = result.snapshots[0]
    return {"verb": "snapshot", "snapshot": row.name, "size": row.size,
            "detail": f"{row.name} ({row.size:,d} B); {result.detail}"}


def list_(cfg: DeployConfig, args: argparse.Namespace, env: dict[str, str]) -> dict[str, Any]:
    repo = backup.repo_for(cfg, password_file=args.password_file, env=env)
    snaps = [{"id": s.get("short_id"), "time": s.get("time"), "host": s.get("hostname"),
              "paths": s.get("paths")} for s in backup.snapshots(repo)]
    newest: dict[str, str] = {}
    for snap_id, path in backup.find(repo, "*" + store.SUFFIX):
        newest[os.path.basename(path)] = snap_id[:8]
    dumps = [{"name": n, "in": i, "local": os.path.exists(os.path.join(cfg.snapshots.dir, n))}
             for n, i in sorted(newest.items(), reverse=True)]
    return {"verb": "list", "restic_snapshots": snaps, "dumps": dumps,
            "detail": f"{len(snaps)} restic snapshot(s), {len(dumps)} dump(s)"}


def check_(cfg: DeployConfig, args: argparse.Namespace, env: dict[str, str]) -> dict[str, Any]:
    repo = backup.repo_for(cfg, password_file=args.password_file, env=env)
    return {"verb": "check", "detail": backup.check(repo, args.read_data)}


def restore_(cfg: DeployConfig, args: argparse.Namespace, env: dict[str, str],
             confirm: Callable[[str], bool]) -> dict[str, Any]:
    url = _url(cfg, args, env)
    name = os.path.basename(args.name)
    fetched = False
    if not os.path.exists(os.path.join(cfg.snapshots.dir, name)):
        from togather_deploy.db.snapshots.dump import ensure_directory

        ensure_directory(cfg.snapshots.dir)
        backup.fetch(backup.repo_for(cfg, password_file=args.password_file, env=env), name, cfg.snapshots.dir)
        fetched = True
    store.verify_snapshot(store.find_snapshot(cfg.snapshots.dir, name))
    database = args.into or parse_url(url).dbname
    if not confirm(database):
        raise DeployError("restore cancelled: the confirmation did not match", fix="type the database name")
    done = restore_snapshot(url, cfg.snapshots.dir, name, target=_target(cfg), into=args.into)
    return {"verb": "restore", "snapshot": name, "fetched": fetched, "database": done.database,
            "detail": f"{'fetched from the repository, ' if fetched else ''}restored {name} into "
                      f"{done.database} in {done.duration_s:.1f}s"}


def drill_(cfg: DeployConfig, args: argparse.Namespace, env: dict[str, str]) -> dict[str, Any]:
    repo = backup.repo_for(cfg, password_file=args.password_file, env=env)
    report = drill.drill(repo, _url(cfg, args, env), target=_target(cfg),
                         workdir=os.path.join(files.backup_dir(cfg.state_dir), "drill"))
    return {"verb": "drill", **asdict(report),
            "detail": f"{report.snapshot}: {report.tables} tables, {report.rows:,d} rows identical after "
                      f"restore (fetch {report.fetch_s:.1f}s, restore {report.restore_s:.1f}s)"}


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="togather-deploy backup", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="verb", required=True)
    for name in ("run", "snapshot", "list", "check", "restore", "drill"):
        v = sub.add_parser(name)
        v.add_argument("--stack", required=True)
        v.add_argument("--project-dir", default=ROOT, help="directory holding Pulumi.<stack>.yaml")
        v.add_argument("--password-file", help="the restic password (default: <stateDir>/backup/password)")
        v.add_argument("--timeout", type=float, default=backup.TIMEOUT_S, help="seconds for one restic call")
        v.add_argument("--json", action="store_true", help="print the result as JSON")
        add_database_url(v, None)
        if name == "check":
            v.add_argument("--read-data", metavar="SUBSET", help="also read this share of the data (1/10)")
        if name == "restore":
            v.add_argument("name")
            v.add_argument("--into", help="another database (created if missing)")
            v.add_argument("--yes", action="store_true", help="skip the typed confirmation")
    return p


def main(argv: Sequence[str] | None = None, *, stdin: TextIO | None = None, out: TextIO | None = None,
         err: TextIO | None = None, env: dict[str, str] | None = None) -> int:
    stdin, out, err = stdin or sys.stdin, out or sys.stdout, err or sys.stderr
    args = build_parser().parse_args(argv)  # exits 2 on usage errors
    env = dict(os.environ) if env is None else env
    job = JOB_VERBS.get(args.verb)
    started = files.now()
    cfg: DeployConfig | None = None
    try:
        from togather_deploy.config.source import from_stack_file

        cfg = from_stack_file(os.path.abspath(args.project_dir), args.stack)
        verbs: dict[str, Callable[[], dict[str, Any]]] = {
            "run": lambda: run_(cfg, args, env), "snapshot": lambda: snapshot_(cfg, args, env),
            "list": lambda: list_(cfg, args, env), "check": lambda: check_(cfg, args, env),
            "drill": lambda: drill_(cfg, args, env),
            "restore": lambda: restore_(cfg, args, env, lambda db: args.yes or _confirm(db, stdin, err))}
        result = verbs[args.verb]()
    except DeployError as exc:
        if job and cfg is not None:
            backup_jobs.finish(cfg, job, started=started, ok=False, detail=exc.message,
                               exit_code=exc.exit_code)
        return verb_failed(out, err, args.verb, exc, as_json=args.json)
    except KeyboardInterrupt:
        err.write("interrupted\n")
        return EXIT_FAILURE
    if job and cfg is not None:
        backup_jobs.finish(cfg, job, started=started, ok=True, detail=result["detail"],
                           facts={k: v for k, v in result.items() if isinstance(v, (int, float, str))})
    if args.json:
        print_json(out, result)
    else:
        out.write(f"{args.verb}: {result['detail']}\n")
        for d in result.get("dumps", []):
            out.write(f"  {d['name']}  (restic {d['in']}{', also local' if d['local'] else ''})\n")
    return 0


def _confirm(database: str, stdin: TextIO, out: TextIO) -> bool:
    out.write(f"This replaces the contents of database {database!r}. Type its name to continue: ")
    out.flush()
    return stdin.readline().strip() == database


if __name__ == "__main__":
    sys.exit(entry.run(main))
