"""``scripts/exec STACK [--colour active|idle|blue|green] -- CMD [ARGS...]``: a one-off command
in a throwaway container that is the live colour's twin.

The twin is built from the colour's running (or stopped) container, not from the stack
config, so it is exactly what serves: the same image id, the app network (the database
answers at its usual name), the same memory limit and the same environment — including the
secrets the program generated, which exist nowhere but in that container. The image's own
variables (``PATH`` …) are left to the image. Every variable is passed as ``--env NAME`` with
its value in the docker CLI's environment (``togather_deploy.commands.operator``): no secret
on a command line, in ``ps``, in the audit log or in the output. The container is removed
when the command ends (``--rm``); the command's exit code is the verb's.

``active`` is the colour the router serves now (its ``active_color`` file; the stack config
when there is no router yet). The run is recorded in the audit log (``exec.run``: who, which
colour, the command).

Exit codes: the command's own; 1 no such container or Docker refused, 2 usage, 10 bad config.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from togather_deploy.cli import args, entry
from togather_deploy.cli.render import print_json, refuse
from togather_deploy.commands import operator, runner
from togather_deploy.config.model import COLORS, DeployConfig, other_color
from togather_deploy.config.source import from_stack_file
from togather_deploy.errors import DeployError
from togather_deploy.ops import audit, lock, router_files
from togather_deploy.ops.context import OpsContext

COLOUR_CHOICES = ("active", "idle", *COLORS)


@dataclass(frozen=True)
class ExecResult:
    stack: str
    colour: str
    container: str
    """The colour's container the twin was copied from."""
    image: str
    command: tuple[str, ...]
    exit_code: int


def live_colour(cfg: DeployConfig) -> str:
    """The colour the router serves (its file), else the stack config's ``activeColor``."""
    try:
        return router_files.read_active_color(cfg.router_dir) or cfg.active_color
    except DeployError:
        return cfg.active_color


def resolve_colour(cfg: DeployConfig, choice: str) -> str:
    if choice in COLORS:
        return choice
    live = live_colour(cfg)
    return live if choice == "active" else other_color(live)


def inspect(container: str) -> dict[str, Any]:
    result = runner.run(operator.inspect_argv(container), timeout=30, check=False, what="docker inspect")
    if not result.ok:
        raise DeployError(f"no container {container}: {result.stderr.strip()[:200]}",
                          fix="check scripts/status STACK (is that colour deployed?) and that Docker runs")
    info: dict[str, Any] = json.loads(result.stdout)
    return info


def _image_env(image: str) -> set[str]:
    result = runner.run(operator.image_env_argv(image), timeout=30, check=False, what="docker image inspect")
    return set(json.loads(result.stdout) or []) if result.ok else set()


def twin_env(info: dict[str, Any]) -> dict[str, str]:
    """The container's variables minus those its image sets itself (identical name=value)."""
    inherited = _image_env(str(info.get("Image", "")))
    env = {}
    for item in (info.get("Config") or {}).get("Env") or []:
        if item in inherited or "=" not in item:
            continue
        name, _, value = item.partition("=")
        env[name] = value
    return env


def split_env(env: dict[str, str]) -> tuple[list[str], dict[str, str]]:
    """(names passed by name, literals): see ``togather_deploy.commands.operator``."""
    by_name, literals = [], {}
    for name, value in env.items():
        if name not in operator.cli_env_names():
            by_name.append(name)
        elif audit.secret_name(name):
            raise DeployError(f"the container's variable {name} cannot be passed safely",
                              fix="rename it in appEnv/appSecrets: the docker CLI reads that name itself")
        else:
            literals[name] = value
    return by_name, literals


def exec_in_twin(ctx: OpsContext, *, colour_choice: str, command: Sequence[str],
                 entrypoint: str | None = None, tty: bool = False) -> ExecResult:
    cfg = from_stack_file(ctx.project_dir, ctx.stack)
    colour = resolve_colour(cfg, colour_choice)
    container = cfg.name(f"app-{colour}")
    info = inspect(container)
    env = twin_env(info)
    by_name, literals = split_env(env)
    networks = (info.get("NetworkSettings") or {}).get("Networks") or {}
    network = cfg.network_name if cfg.network_name in networks else next(iter(networks), None)
    memory = int((info.get("HostConfig") or {}).get("Memory") or 0) // (1024 * 1024) or None
    image = str(info.get("Image"))
    argv = operator.oneoff_argv(
        name=cfg.name(f"exec-{colour}-{os.getpid()}-{int(ctx.clock())}"), image=image, network=network,
        env_names=by_name, env_literals=literals, memory_mb=memory, command=command,
        entrypoint=entrypoint, tty=tty,
        labels={"togather.project": cfg.project, "togather.stack": cfg.stack, "togather.role": "exec"})
    event = audit.make_event("exec.run", stack=ctx.stack, version=cfg.slot(colour).version,
                             from_color=None, to_color=colour, clock=ctx.clock, command=list(command),
                             user=lock.current_user())
    secrets = tuple(v for k, v in env.items() if audit.secret_name(k)) + audit.secret_values(cfg)
    audit.append(cfg.state_dir, event, secrets=secrets)
    code = runner.interactive(argv, env=env)
    return ExecResult(ctx.stack, colour, container, image, tuple(command), code)


DESCRIPTION = """\
Run a one-off command in a throwaway twin of a colour's container: its image, network,
memory limit and environment (secrets included, passed through the environment, never on
a command line). The twin is removed when the command ends; its exit code is returned.

exit codes: the command's own; 1 no such container or Docker refused, 2 usage, 10 bad config

example:
  scripts/exec production -- river migrate-up
  scripts/exec production --colour idle -- sh -c 'wget -qO- http://127.0.0.1:8080/version'"""


def add_arguments(p: argparse.ArgumentParser) -> None:
    args.add_stack(p)
    p.add_argument("--colour", "--color", dest="colour", choices=COLOUR_CHOICES, default="active",
                   help="whose twin: the live colour (default), the idle one, or blue/green")
    p.add_argument("--entrypoint", default=None, metavar="PATH",
                   help="replace the image's entrypoint (default: keep it, so CMD are its arguments)")
    args.add_output(p, "after the command, print the result as JSON")


class CommandParser(argparse.ArgumentParser):
    """Everything after the first ``--`` is the command, verbatim (its own ``-c``, ``--x``…);
    argparse's REMAINDER would also swallow this verb's flags given after STACK."""

    def parse_known_args(self, args: Sequence[str] | None = None,  # type: ignore[override]
                         namespace: argparse.Namespace | None = None) -> tuple[argparse.Namespace, list[str]]:
        argv = list(sys.argv[1:] if args is None else args)
        head, command = (argv[:argv.index("--")], argv[argv.index("--") + 1:]) if "--" in argv else (argv, [])
        ns, rest = super().parse_known_args(head, namespace)
        if not command and not rest:
            self.error("no command: put it after --, e.g. scripts/exec STACK -- river migrate-up")
        ns.command = command or rest
        return ns, []


def build_parser() -> argparse.ArgumentParser:
    p = CommandParser(prog="togather-deploy exec", description=DESCRIPTION,
                      usage=("togather-deploy exec STACK [--colour C] [--entrypoint PATH] [--json]"
                             " -- CMD [ARGS...]"),
                      formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(p)
    return p


def run(ns: argparse.Namespace, ctx: OpsContext | None = None) -> ExecResult:
    ctx = ctx or args.context(ns)
    command = list(ns.command)
    tty = sys.stdin.isatty() and sys.stdout.isatty() and not ns.json
    return exec_in_twin(ctx, colour_choice=ns.colour, command=command, entrypoint=ns.entrypoint, tty=tty)


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
    return result.exit_code


if __name__ == "__main__":
    sys.exit(entry.run(main))
