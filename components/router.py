"""``NginxRouter``: the only container on the public port.

pulumi-docker deletes a container before creating its replacement, so nothing
about this container may depend on the active colour: its settings come from
``render.containers.router_spec`` (no colour in it) and its config lives in a host directory
bind-mounted read-only. A colour flip only replaces the one-word ``active_color``
file in that directory (``TrafficSwitch``); nginx reads it per request.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_docker as docker
from pulumi import ResourceOptions

from components.docker_args import container_args, container_options
from components.providers.router_config import RouterConfig
from components.providers.certificate import Certificate, certificate_props
from togather_deploy.config.model import DeployConfig
from togather_deploy.render.containers import router_spec
from togather_deploy.render.nginx import router_params


@dataclass
class NginxRouterArgs:
    config: DeployConfig
    """The validated stack config (``publicPort``, ``router.*``, ``stateDir``)."""
    network: docker.Network
    """The private network the slots answer on."""
    depends_on: Sequence[pulumi.Resource] = field(default_factory=list)


def declare_router_config(name: str, cfg: DeployConfig,
                          opts: ResourceOptions | None = None) -> RouterConfig:
    """The router's nginx.conf/router.js, validated with ``nginx -t`` before they go live."""
    return RouterConfig(name, cfg, router_params(cfg), opts)


class NginxRouter(pulumi.ComponentResource):
    container_name: pulumi.Output[str]

    def __init__(self, name: str, args: NginxRouterArgs, opts: ResourceOptions | None = None) -> None:
        super().__init__("togather:deploy:NginxRouter", name, None, opts)
        child = ResourceOptions(parent=self)  # never the component's own depends_on/retain/aliases
        # nginx.conf and router.js, validated with `nginx -t` before they go live.
        self.config_files = declare_router_config(
            f"{name}-config", args.config, child.merge(ResourceOptions(depends_on=list(args.depends_on))))
        container = docker.Container(
            f"{name}-container", **container_args(router_spec(args.config)),
            opts=child.merge(container_options(args.network, self.config_files, *args.depends_on)))
        self.container_name = container.name
        if args.config.tls.enabled:  # issued through this router's port 80, so after it runs
            Certificate(f"{name}-certificate", certificate_props(args.config),
                        child.merge(ResourceOptions(depends_on=[container])))
        self.register_outputs({"container_name": self.container_name})
