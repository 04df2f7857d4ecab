"""``HostDirs``: the stack's directories on the Docker host, with the right modes.

One ``pulumi_command`` ``local.Command`` (the program runs on the Docker host)
creates them before anything writes or bind-mounts them; re-running it only
re-asserts the modes. It never deletes anything: snapshots, the audit log and
locks outlive ``pulumi destroy``.

Private (0700): the state dir itself, snapshots, locks, logs. Readable by the
containers that mount them (0755): the router's config, the deploy metrics that
node-exporter reads.
"""

from __future__ import annotations

import os
import shlex
from dataclasses import dataclass

import pulumi
import pulumi_command as command
from pulumi import ResourceOptions

from components.config import DeployConfig


def host_dirs(cfg: DeployConfig) -> dict[str, str]:
    """Directory → octal mode, parents first."""
    state = cfg.state_dir
    return {
        state: "0700",
        cfg.snapshots.dir: "0700",
        os.path.join(state, "locks"): "0700",
        os.path.join(state, "logs"): "0700",
        cfg.router_dir: "0755",
        os.path.join(state, "metrics"): "0755",
    }


def create_script(dirs: dict[str, str]) -> str:
    """``install -d -m MODE DIR`` per directory: idempotent, and it fixes a drifted mode."""
    return " && ".join(f"install -d -m {mode} {shlex.quote(path)}" for path, mode in dirs.items())


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
            f"{name}-create", create=create_script(dirs), interpreter=["/bin/sh", "-c"],
            triggers=[create_script(dirs)], opts=child)  # no `delete`: data stays on the host
        self.register_outputs({"dirs": dirs})
