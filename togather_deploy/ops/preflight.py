"""Pre-flight of the releasing verbs (``scripts/deploy``, ``scripts/rollback``): what must hold
before the lock is taken or anything is written (audit log, metrics, pulumi logs).

``check`` raises the first problem as a ``ConfigError`` (exit 10: the host or the operator's
environment is not set up; nothing changed) naming what is missing and the fix:

- the ``pulumi`` CLI is on ``PATH``;
- the passphrase that decrypts the stack's secrets is set (``PULUMI_CONFIG_PASSPHRASE``, or
  ``PULUMI_CONFIG_PASSPHRASE_FILE`` naming a readable file), unless the stack file names
  another secrets provider; its value is never read or shown;
- a Docker engine answers ``docker info`` (``-H`` the stack's ``docker:host`` when set);
- the stack's ``stateDir`` is writable by this user (or can be created: its nearest existing
  parent is writable).

Every check only reads; the commands are data (``docker_info_argv``) run by ``runner``.
"""

from __future__ import annotations

import os
import pwd
import shutil
from collections.abc import Callable, Mapping

import yaml

from togather_deploy.commands import runner
from togather_deploy.errors import ConfigError

DOCKER_INFO_TIMEOUT_S = 20.0
_OTHER_SECRETS_PROVIDERS = ("awskms://", "azurekeyvault://", "gcpkms://", "hashivault://", "default")


def _stack_doc(project_dir: str, stack: str) -> dict[str, object]:
    try:
        with open(os.path.join(project_dir, f"Pulumi.{stack}.yaml"), encoding="utf-8") as fh:
            doc = yaml.safe_load(fh)
    except (OSError, yaml.YAMLError):
        return {}  # the config loader has already reported an unreadable stack file
    return doc if isinstance(doc, dict) else {}


def docker_info_argv(host: str | None) -> tuple[str, ...]:
    return ("docker", *(("-H", host) if host else ()), "info", "--format", "{{.ServerVersion}}")


def check_pulumi(which: Callable[[str], str | None]) -> None:
    if which("pulumi") is None:
        raise ConfigError(
            "the Pulumi CLI (`pulumi`) is not on PATH",
            fix="install it (curl -fsSL https://get.pulumi.com | sh, then open a new shell) or add "
                "~/.pulumi/bin to PATH")


def check_passphrase(env: Mapping[str, str], doc: Mapping[str, object], stack: str) -> None:
    provider = str(doc.get("secretsprovider") or "")
    if provider.startswith(_OTHER_SECRETS_PROVIDERS):
        return
    if env.get("PULUMI_CONFIG_PASSPHRASE"):
        return
    path = env.get("PULUMI_CONFIG_PASSPHRASE_FILE")
    if path:
        if os.path.isfile(path) and os.access(path, os.R_OK):
            return
        raise ConfigError("PULUMI_CONFIG_PASSPHRASE_FILE names no readable file",
                          file=path, key="PULUMI_CONFIG_PASSPHRASE_FILE",
                          fix="point it at the root-only passphrase file (docs/operations.md, section 2)"
                              " and run as a user that may read it")
    raise ConfigError(
        f"no passphrase for stack {stack}'s secrets: PULUMI_CONFIG_PASSPHRASE and "
        "PULUMI_CONFIG_PASSPHRASE_FILE are both unset",
        key="PULUMI_CONFIG_PASSPHRASE",
        fix="export PULUMI_CONFIG_PASSPHRASE_FILE=/root/.config/togather/passphrase "
            "(docs/operations.md, section 2); in CI, the secret PULUMI_CONFIG_PASSPHRASE")


def check_docker(doc: Mapping[str, object]) -> None:
    config = doc.get("config")
    host = config.get("docker:host") if isinstance(config, dict) else None
    argv = docker_info_argv(str(host) if host else None)
    try:
        result = runner.run(argv, check=False, timeout=DOCKER_INFO_TIMEOUT_S, what="docker info")
    except Exception as exc:  # noqa: BLE001 (not installed, timed out: both mean "no engine")
        reason = getattr(exc, "message", str(exc))
        raise ConfigError(f"no Docker engine answers ({reason})", fix=_DOCKER_FIX) from None
    if not result.ok:
        last = (result.stderr.strip().splitlines() or ["docker info failed"])[-1]
        raise ConfigError(f"no Docker engine answers `{' '.join(argv[:-2])}`: {last[:300]}",
                          fix=_DOCKER_FIX)


_DOCKER_FIX = ("start Docker (systemctl start docker) and run as a user that may use it "
               "(root, or the docker group); a remote engine: set DOCKER_HOST or docker:host")


def _user() -> str:
    try:
        return pwd.getpwuid(os.geteuid()).pw_name
    except KeyError:
        return f"uid {os.geteuid()}"


def check_state_dir(state_dir: str) -> None:
    existing = state_dir
    while not os.path.lexists(existing):
        parent = os.path.dirname(existing)
        if parent == existing:
            break
        existing = parent
    if os.path.isdir(existing) and os.access(existing, os.W_OK | os.X_OK):
        return
    what = "is not writable" if existing == state_dir else f"cannot be created in {existing}"
    raise ConfigError(
        f"the state directory {state_dir} {what} by {_user()}", file=state_dir, key="stateDir",
        fix=f"run as the user that owns it (usually root: sudo scripts/…), or give {_user()} "
            f"write access to {existing}")


def check(project_dir: str, stack: str, state_dir: str, *, env: Mapping[str, str] | None = None,
          which: Callable[[str], str | None] = shutil.which) -> None:
    """All of the above, cheapest first; raises the first failure."""
    doc = _stack_doc(project_dir, stack)
    check_pulumi(which)
    check_passphrase(os.environ if env is None else env, doc, stack)
    check_docker(doc)
    check_state_dir(state_dir)


def check_stack(project_dir: str, stack: str) -> None:
    """``check`` for a stack, its ``stateDir`` read from the stack file (``ConfigError`` if bad)."""
    from togather_deploy.config.source import from_stack_file

    check(project_dir, stack, from_stack_file(project_dir, stack).state_dir)
