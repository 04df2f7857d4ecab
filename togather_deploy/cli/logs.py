"""``scripts/logs STACK [active|idle|blue|green|router|db|monitoring] [--follow] [--since 10m]``:
the right container's log without knowing the naming scheme or which colour is live.

``active`` (the default) is the colour the router serves now (its ``active_color`` file),
``idle`` the other one. ``router`` is nginx: its access log is one JSON object per line
(time, request_id, status, colour, upstream, request_time …), which ``--status 5xx`` /
``--status 502`` and ``--request-id ID`` filter; its error log (stderr) is shown unless a
filter is given. ``monitoring`` shows each monitoring container in turn (no ``--follow``:
follow one of them by its target name, e.g. ``prometheus``).

Read-only: it runs ``docker logs`` and nothing else, never takes the lock, never decrypts.
With ``--json`` every line is printed as one JSON object (``{"container", "stream", "line"}``;
a router access line is its own object plus ``container``).

Exit codes: 0 done, 1 no such container or Docker refused, 2 usage, 10 bad config.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import IO, Any, TextIO

from togather_deploy.cli import args, entry
from togather_deploy.cli.exec_cmd import resolve_colour
from togather_deploy.cli.render import print_json, refuse
from togather_deploy.commands import operator, runner
from togather_deploy.config.model import DeployConfig
from togather_deploy.config.source import from_stack_file
from togather_deploy.errors import EXIT_FAILURE, DeployError
from togather_deploy.ops.context import OpsContext

MONITORING = ("prometheus", "alertmanager", "grafana", "node-exporter", "postgres-exporter")
TARGETS = ("active", "idle", "blue", "green", "router", "db", "monitoring", *MONITORING)
_DOCKER_ERRORS = ("Error response from daemon:", "Error: No such container")
_STATUS = re.compile(r"[1-5]([0-9]{2}|xx)")


@dataclass(frozen=True)
class LogsResult:
    stack: str
    target: str
    containers: tuple[str, ...]
    lines: int
    """Lines shown (after filtering)."""
    exit_code: int


def containers_for(cfg: DeployConfig, target: str) -> tuple[str, ...]:
    if target in ("active", "idle", "blue", "green"):
        return (cfg.name(f"app-{resolve_colour(cfg, target)}"),)
    if target == "monitoring":
        return tuple(cfg.name(m) for m in MONITORING)
    return (cfg.name(target),)


@dataclass(frozen=True)
class Filter:
    status: str | None = None
    """``502`` or a class like ``5xx``."""
    request_id: str | None = None

    @property
    def active(self) -> bool:
        return bool(self.status or self.request_id)

    def keep(self, record: dict[str, Any] | None) -> bool:
        if not self.active:
            return True
        if record is None:
            return False
        if self.request_id and record.get("request_id") != self.request_id:
            return False
        code = str(record.get("status", ""))
        if self.status and self.status.endswith("xx"):
            return code[:1] == self.status[0]
        return not self.status or code == self.status


def _record(line: str) -> dict[str, Any] | None:
    try:
        obj = json.loads(line)
    except ValueError:
        return None
    return obj if isinstance(obj, dict) else None


def _emit(out: TextIO, container: str, stream: str, line: str, record: dict[str, Any] | None,
          as_json: bool) -> None:
    if as_json:
        data = {**record, "container": container} if record is not None else \
            {"container": container, "stream": stream, "line": line}
        out.write(json.dumps(data, sort_keys=True) + "\n")
    else:
        out.write(line + "\n")
    out.flush()


def _pump(pipe: IO[bytes], handle: Callable[[str], None]) -> None:
    for raw in iter(pipe.readline, b""):
        handle(raw.decode("utf-8", "replace").rstrip("\n"))


def show(ctx: OpsContext, container: str, *, follow: bool, since: str | None, tail: str | None,
         flt: Filter, as_json: bool) -> int:
    """Stream one container's log through the filter; the number of lines shown."""
    import subprocess

    shown = [0]
    lock = threading.Lock()

    def handle(stream: str) -> Callable[[str], None]:
        def one(line: str) -> None:
            record = _record(line) if stream == "stdout" else None
            if stream == "stderr" and flt.active:
                return  # the error log is not an access record: a filter shows none of it
            if flt.keep(record):
                with lock:
                    _emit(ctx.out if stream == "stdout" or as_json else ctx.err, container, stream, line,
                          record, as_json)
                    shown[0] += 1
        return one

    proc = runner.spawn(operator.logs_argv(container, follow=follow, since=since, tail=tail),
                        stdout=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    errors: list[str] = []
    to_err = handle("stderr")

    def on_stderr(line: str) -> None:
        # the docker CLI's own complaint, not a line of the container's log
        (errors.append if line.startswith(_DOCKER_ERRORS) else to_err)(line)

    err_thread = threading.Thread(target=_pump, args=(proc.stderr, on_stderr), daemon=True)
    err_thread.start()
    try:
        _pump(proc.stdout, handle("stdout"))
    except KeyboardInterrupt:
        proc.terminate()
    code = proc.wait()
    err_thread.join(timeout=5)
    if code != 0 and errors:
        raise DeployError(f"docker logs {container}: {errors[0][:200]}", exit_code=EXIT_FAILURE,
                          fix="check the target exists: scripts/status STACK, docker ps -a")
    return shown[0]


def logs(ctx: OpsContext, *, target: str, follow: bool, since: str | None, tail: str | None,
         flt: Filter, as_json: bool) -> LogsResult:
    cfg = from_stack_file(ctx.project_dir, ctx.stack)
    names = containers_for(cfg, target)
    if follow and len(names) > 1:
        raise DeployError(f"--follow takes one container; {target} has {len(names)}", exit_code=2,
                          fix=f"follow one of them: scripts/logs {ctx.stack} prometheus --follow")
    lines = 0
    for name in names:
        if len(names) > 1 and not as_json:
            ctx.out.write(f"==> {name} <==\n")
        lines += show(ctx, name, follow=follow, since=since, tail=tail, flt=flt, as_json=as_json)
    return LogsResult(ctx.stack, target, names, lines, 0)


DESCRIPTION = """\
Show the log of one of STACK's containers, found by its role: the live colour (active), the
idle one, blue, green, the router (its access log is JSON lines, filterable by --status and
--request-id), the database, or the monitoring containers.

exit codes: 0 done, 1 no such container or Docker refused, 2 usage, 10 bad config

example:
  scripts/logs production                      # the live colour, last 200 lines
  scripts/logs production router --status 5xx --since 1h
  scripts/logs production idle --follow"""


def _status(value: str) -> str:
    if not _STATUS.fullmatch(value):
        raise argparse.ArgumentTypeError(f"{value!r}: give a status (502) or a class (5xx)")
    return value


def add_arguments(p: argparse.ArgumentParser) -> None:
    args.add_stack(p)
    p.add_argument("target", nargs="?", default="active", choices=TARGETS, metavar="TARGET",
                   help="active (default), idle, blue, green, router, db, monitoring, or one "
                        "monitoring container (prometheus, alertmanager, grafana, …)")
    p.add_argument("--follow", "-f", action="store_true", help="keep printing new lines (Ctrl-C stops)")
    p.add_argument("--since", metavar="DURATION", help="only lines newer than this: 10m, 2h, or a timestamp")
    p.add_argument("--tail", metavar="N", default=None,
                   help="only the last N lines (default: 200 unless --since is given)")
    p.add_argument("--status", type=_status, metavar="CODE",
                   help="router access lines with this status (502) or class (5xx) only")
    p.add_argument("--request-id", metavar="ID", help="router access lines of this X-Request-ID only")
    args.add_output(p, "print each line as a JSON object")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="togather-deploy logs", description=DESCRIPTION,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(p)
    return p


def run(ns: argparse.Namespace, ctx: OpsContext | None = None) -> LogsResult:
    ctx = ctx or args.context(ns)
    flt = Filter(ns.status, ns.request_id)
    if flt.active and ns.target != "router":
        raise DeployError("--status and --request-id filter the router's access log",
                          exit_code=2, fix=f"scripts/logs {ns.stack} router --status 5xx")
    tail = ns.tail or (None if ns.since or ns.follow else "200")
    return logs(ctx, target=ns.target, follow=ns.follow, since=ns.since, tail=tail, flt=flt,
                as_json=ns.json)


def main(argv: Sequence[str] | None = None, ctx: OpsContext | None = None) -> int:
    ns = args.parse(build_parser(), argv)
    if isinstance(ns, int):
        return ns
    ctx = ctx or args.context(ns)
    try:
        result = run(ns, ctx)
    except DeployError as exc:
        return refuse(ctx.out, ctx.err, ns.stack, exc, as_json=False)
    if ns.json:
        print_json(ctx.err, result)  # stdout holds the lines, one JSON object each
    return result.exit_code


if __name__ == "__main__":
    sys.exit(entry.run(main))
