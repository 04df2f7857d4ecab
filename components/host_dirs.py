"""``HostDirs``: the stack's directories on the Docker host, with the right modes.

One ``pulumi_command`` ``local.Command`` (the program runs on the Docker host)
creates them before anything writes or bind-mounts them, with
``togather_deploy.hostfs.paths`` (the code the scripts use): a missing directory is
made with its mode; one that exists is only checked (owned by the deploying
user, not group/other-writable), never chmod-ed, so a mistyped path can not
change a system directory. It never deletes anything: snapshots, the audit log
and locks outlive ``pulumi destroy``.

Private (0700): the state dir itself, snapshots, locks, logs. Readable by the
containers that mount them (0755): the router's config, the deploy metrics that
node-exporter reads.
"""

from __future__ import annotations

import shlex
import sys
from dataclasses import dataclass

import pulumi
import pulumi_command as command
from pulumi import ResourceOptions

from togather_deploy import ROOT
from togather_deploy.config.model import DeployConfig

"""The project root: ``-m togather_deploy.hostfs.paths`` is importable from there."""


def host_dirs(cfg: DeployConfig) -> dict[str, str]:
    """Directory → octal mode, parents first."""
    return cfg.layout.host_dirs(cfg.snapshots.dir)


def create_argv(dirs: dict[str, str], python: str = sys.executable) -> tuple[str, ...]:
    """``python -m togather_deploy.hostfs.paths MODE:DIR ...``: create missing, check existing."""
    return (python, "-m", "togather_deploy.hostfs.paths", *(f"{mode}:{path}" for path, mode in dirs.items()))


def create_script(dirs: dict[str, str], python: str = sys.executable) -> str:
    """``create_argv`` as the shell line the ``Command`` runs (from the project root)."""
    return shlex.join(create_argv(dirs, python))


@dataclass
class HostDirsArgs:
    config: DeployConfig
    """The validated stack config (``stateDir``, ``snapshots.dir``)."""


class HostDirs(pulumi.ComponentResource):
    def __init__(self, name: str, args: HostDirsArgs, opts: ResourceOptions | None = None) -> None:
        super().__init__("togather:deploy:HostDirs", name, None, opts)
        child = ResourceOptions(parent=self)  # never the component's own depends_on/retain/aliases
        dirs = host_dirs(args.config)
        self.command = command.local.Command(
            f"{name}-create", create=create_script(dirs), interpreter=["/bin/sh", "-c"], dir=ROOT,
            triggers=[dirs], opts=child)  # no `delete`: data stays on the host
        self.register_outputs({"dirs": dirs})
