"""Check each shell command shown in the handbook against the real code.

- ``scripts/<verb> ...`` and ``togather-deploy <verb> ...``: parsed by that verb's parser
  (``togather_deploy.cli.main.parser_for``, the one the command itself uses)
  (bash-only scripts are listed in ``BASH_SCRIPTS`` with how they are checked);
- ``pulumi config set [--secret] [--path] togather:KEY VALUE``: applied to a committed
  stack's config and validated by ``togather_deploy.config.model.load_config``;
- anything else must match ``ALLOWED`` (a pattern and the reason it is safe to show).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
from collections.abc import Callable
from typing import Any

from tests.conftest import ROOT
from tests.docs.doc_extract import Command
from togather_deploy.config.model import load_config
from togather_deploy.config.source import NAMESPACE, PROJECT, read_stack_file
from togather_deploy.errors import ConfigError

# --- checks ------------------------------------------------------------------------------------

def _stack_exists(stack: str) -> None:
    assert os.path.exists(os.path.join(ROOT, f"Pulumi.{stack}.yaml")), f"no stack file for {stack!r}"


def check_script(argv: tuple[str, ...]) -> None:
    verb = argv[0][len("scripts/"):]
    path = os.path.join(ROOT, "scripts", verb)
    assert os.access(path, os.X_OK), f"scripts/{verb} does not exist or is not executable"
    check_verb(verb, argv[1:])


def check_verb(verb: str, args: tuple[str, ...]) -> None:
    from togather_deploy.cli.main import find, module_of, parser_for

    row = find(verb)
    if row is None:
        assert verb in BASH_SCRIPTS, f"{verb} is not a togather-deploy verb and has no BASH_SCRIPTS entry"
        BASH_SCRIPTS[verb][1](args)
        return
    module = module_of(row)  # the parser the verb's own main() uses
    parser: argparse.ArgumentParser = (module.build_parser() if hasattr(module, "build_parser")
                                       else parser_for(verb))
    try:
        ns = parser.parse_args(list(args))
    except SystemExit:
        raise AssertionError(f"scripts/{verb} rejects these arguments: {parser.format_usage()}") from None
    if getattr(ns, "stack", None):
        _stack_exists(ns.stack)


def _set_path(obj: dict[str, Any], path: list[str], value: str) -> None:
    for part in path[:-1]:
        obj = obj.setdefault(part, {})
    obj[path[-1]] = value


def _config_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="pulumi config set", exit_on_error=False)
    p.add_argument("key")
    p.add_argument("value")
    p.add_argument("--secret", action="store_true")
    p.add_argument("--plaintext", action="store_true")
    p.add_argument("--path", action="store_true")
    p.add_argument("--stack", "-s", default="production")
    return p


def _parse_set(argv: tuple[str, ...]) -> argparse.Namespace:
    try:
        return _config_parser().parse_args(list(argv[3:]))
    except (argparse.ArgumentError, SystemExit) as exc:
        raise AssertionError(f"not `pulumi config set [--secret] [--path] KEY VALUE`: {exc}") from None


def _apply_set(ns: argparse.Namespace, raw: dict[str, Any], secret_keys: set[str]) -> None:
    key = ns.key.partition(":")[2]
    top = key.split(".", 1)[0] if ns.path else key
    if ns.path and "." in key:
        current = raw.get(top, "{}")
        obj = json.loads(current) if isinstance(current, str) else dict(current)
        _set_path(obj, key.split(".")[1:], ns.value)
        raw[top] = json.dumps(obj)
    else:
        raw[top] = ns.value
    if ns.secret:
        secret_keys.add(top)


def check_config_set(argv: tuple[str, ...], before: tuple[tuple[str, ...], ...] = ()) -> None:
    ns = _parse_set(argv)
    namespace = ns.key.partition(":")[0]
    if namespace != NAMESPACE:
        assert namespace in OTHER_CONFIG_NAMESPACES, f"config namespace {namespace!r} is not documented here"
        return
    _stack_exists(ns.stack)
    raw_file, encrypted = read_stack_file(ROOT, ns.stack)
    raw, secret_keys = dict(raw_file), set(encrypted)
    for earlier in map(_parse_set, before):
        if earlier.stack == ns.stack and earlier.key.startswith(NAMESPACE + ":"):
            _apply_set(earlier, raw, secret_keys)
    _apply_set(ns, raw, secret_keys)
    try:
        load_config(raw, project=PROJECT, stack=ns.stack, project_dir=ROOT, secret_keys=secret_keys)
    except ConfigError as exc:
        raise AssertionError(f"stack {ns.stack} would refuse this: {exc}") from None


def _no_check(_args: tuple[str, ...]) -> None:
    return None


def _optional_stack(args: tuple[str, ...]) -> None:
    if args and not args[0].startswith("-"):
        _stack_exists(args[0])


BASH_SCRIPTS: dict[str, tuple[str, Callable[[tuple[str, ...]], None]]] = {
    "up": ("bash: `scripts/up [STACK] [pulumi up args]`, exercised by tests/scripts/test_up.py",
           _optional_stack),
    "test": ("bash: the README's test command; arguments go to pytest", _no_check),
    "docker-engine": ("bash: ensure|status|stop a Docker engine", lambda a: None if a and a[0] in (
        "ensure", "status", "stop") else _fail("scripts/docker-engine ensure|status|stop")),
}
OTHER_CONFIG_NAMESPACES = {"docker"}
"""Provider settings shown in the handbook (``docker:host`` for a remote engine)."""


def _fail(message: str) -> None:
    raise AssertionError(message)


# (pattern on the joined argv, why it may appear unchecked)
ALLOWED: list[tuple[str, str]] = [
    (r"pulumi (login|logout|whoami)\b.*", "Pulumi CLI session commands: no project code involved"),
    (r"pulumi stack (init|select|ls|output|history|export|import|rm|change-secrets-provider)\b.*",
     "stack management; --stack names are checked against the stack files below"),
    (r"pulumi (preview|up|cancel)\b.*", "the engine itself; stack names checked below"),
    (r"pulumi refresh .*--target .*", "only ever targeted: a plain refresh forgets stopped must_run "
     "containers (database, router, monitoring); see tests/docs/test_refresh_advice.py"),
    (r"pulumi config( get| rm)?\b.*", "reading config; `config set` lines are validated separately"),
    (r"pulumi version", "prints the CLI version"),
    (r"curl -fsSL https://get\.pulumi\.com \| sh|curl -fsSL https://get\.pulumi\.com|sh",
     "the Pulumi installer, as documented by Pulumi"),
    (r"curl .*", "HTTP probes of the node (/health, /version) or installers"),
    (r"(apt-get|apt) .*", "installing Debian packages"),
    (r"systemctl .*|journalctl .*", "host service management"),
    (r"docker (ps|logs|inspect|volume|exec|images|image prune|info|stats|stop|start|pull|network)\b.*",
     "inspecting the Docker host; the program owns every container"),
    (r"(cat|tail|less|ls|jq|grep|head|sort|openssl|chmod|chown|mkdir|install|cp|mv|gunzip|zcat|"
     r"(/usr/bin/)?python3|git|cd|export|echo|read|sha256sum|df|du|free|ssh|scp|aws|age|gpg|id|set|\.)( .*)?",
     "ordinary shell tools"),
    (r"venv/bin/(pip|pytest|python)\b.*", "the project's venv"),
    (r"(ufw|iptables) .*", "the host firewall (docs/operations.md, section 1)"),
    (r"restic (snapshots|restore|check|ls)\b.*", "restic itself, in the burned-server runbook "
     "(docs/backups.md): the tool reads the same repository scripts/backup writes"),
]


def docker_roles() -> set[str]:
    """Every ``<role>`` the code names Docker objects with (``cfg.name("<role>")``)."""
    roles: set[str] = set()
    for top in ("components", "togather_deploy"):
        for dirpath, _dirs, files in os.walk(os.path.join(ROOT, top)):
            for name in files:
                if name.endswith(".py"):
                    with open(os.path.join(dirpath, name), encoding="utf-8") as fh:
                        for role in re.findall(r'\.name\(f?"([a-z{}-]+)"\)', fh.read()):
                            roles |= {role.replace("{color}", c) for c in ("blue", "green")}
    return roles


def check_docker_names(argv: tuple[str, ...]) -> None:
    """``togather-deploy-<stack>-<role>`` in a command names a real stack and a real role."""
    for arg in argv:
        for stack, role in re.findall(r"\b" + PROJECT + r"-(dev|staging|production)-([a-z-]+[a-z])", arg):
            _stack_exists(stack)
            assert role in docker_roles(), f"no role {role!r} (known: {sorted(docker_roles())})"


def check_stack_outputs(argv: tuple[str, ...]) -> None:
    """``pulumi stack output NAME`` (also inside ``$(...)``) names an output the program exports."""
    with open(os.path.join(ROOT, "__main__.py"), encoding="utf-8") as fh:
        exported = set(re.findall(r'pulumi\.export\("(\w+)"', fh.read()))
    for name in re.findall(r"pulumi stack output (\w+)", " ".join(argv)):
        assert name in exported, f"the program exports no output {name!r} (it has {sorted(exported)})"


def check_command(cmd: Command) -> None:
    argv = cmd.argv
    check_docker_names(argv)
    check_stack_outputs(argv)
    if argv[0].startswith("scripts/"):
        check_script(argv)
        return
    if argv[0] == "togather-deploy" and len(argv) > 1:
        check_verb(argv[1], argv[2:])
        return
    if argv[:3] == ("pulumi", "config", "set"):
        check_config_set(argv, cmd.before)
        return
    joined = shlex.join(argv)
    if not any(re.fullmatch(pattern, joined) for pattern, _ in ALLOWED):
        raise AssertionError(f"{cmd}: not a checked command and not on the allow-list")
    if argv[0] == "pulumi":
        for flag in ("--stack", "-s"):
            if flag in argv[:-1]:
                _stack_exists(argv[argv.index(flag) + 1])
        if "--policy-pack" in argv[:-1]:
            pack = argv[argv.index("--policy-pack") + 1]
            assert os.path.exists(os.path.join(ROOT, pack, "PulumiPolicy.yaml")), f"no policy pack {pack}"
