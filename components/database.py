"""``Database``: the PostgreSQL (PostGIS) container and the volume that outlives it.

The data volume is ``protect``-ed and ``retain_on_delete``: ``pulumi destroy``
refuses to touch it, and even a forced delete leaves the Docker volume on disk.
The server publishes only on 127.0.0.1 (snapshots and migrations from the host).
The container is created with pulumi-docker's ``wait``: it counts as created only
once its ``pg_isready`` check passes over TCP, so the first snapshot and the
migrations never reach a server that is still initialising.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_docker as docker
from pulumi import ResourceOptions

from components.app_secrets import secret_or_random
from components.docker_args import container_args, container_options, wait_healthy_args
from togather_deploy.config.model import DeployConfig
from togather_deploy.render.containers import database_spec, database_url


@dataclass
class DatabaseArgs:
    config: DeployConfig
    """The validated stack config (``database.*``)."""
    network: docker.Network
    """The stack's private network; the server answers there as ``db``."""


class Database(pulumi.ComponentResource):
    container_name: pulumi.Output[str]
    internal_url: pulumi.Output[str]
    """DSN for containers on the private network (secret)."""
    host_url: pulumi.Output[str]
    """DSN for the host via 127.0.0.1 (secret)."""

    def __init__(self, name: str, args: DatabaseArgs, opts: ResourceOptions | None = None) -> None:
        super().__init__("togather:deploy:Database", name, None, opts)
        cfg = args.config
        child = ResourceOptions(parent=self)  # never the component's own depends_on/retain/aliases

        password = secret_or_random(f"{name}-password", cfg.secrets.database_password, child, length=32)
        volume = self._volume(name, cfg, child)
        spec = database_spec(cfg, password)
        container = docker.Container(
            f"{name}-container", **container_args(spec), **wait_healthy_args(spec),
            opts=child.merge(container_options(volume, args.network)))

        self.container_name = container.name
        self.internal_url = pulumi.Output.secret(password.apply(lambda pw: database_url(cfg, pw)))
        self.host_url = pulumi.Output.secret(password.apply(
            lambda pw: database_url(cfg, pw, host="127.0.0.1", port=cfg.database.host_port)))
        self.register_outputs({"container_name": self.container_name,
                               "internal_url": self.internal_url, "host_url": self.host_url})

    @staticmethod
    def _volume(name: str, cfg: DeployConfig, opts: ResourceOptions) -> docker.Volume:
        # protect: `pulumi destroy` fails instead of deleting data; retain_on_delete:
        # even `pulumi state delete`/forced deletes leave the volume on the host.
        return docker.Volume(
            f"{name}-volume", name=cfg.name("pgdata"),
            labels=[docker.VolumeLabelArgs(label="togather.role", value="database-data")],
            opts=opts.merge(ResourceOptions(protect=True, retain_on_delete=True)))
