"""``AppSlot``: one colour (blue or green) of the server — its image and container.

The image is kept locally (``keep_locally``) so the idle colour can come back
for a rollback without a registry. The container is declared with
``must_run=False``: after a switch the traffic switch may stop the old colour
(``stopIdleSlot``), and a stopped slot must not be recreated by the next update
(that would put two job workers on different code back to work).

With ``togather:registry`` set, the image is pulled through a docker provider of the
slot's own (``<name>-registry``) carrying ``registryAuth`` for that one server, the
password a secret; without it the default provider pulls (public images, or whatever
``docker login`` left in the host's Docker config).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_docker as docker
from pulumi import ResourceOptions

from components.docker_args import container_args, container_options
from togather_deploy.config.model import DeployConfig
from togather_deploy.config.urls import loopback_url
from togather_deploy.render.containers import app_image, app_spec


@dataclass
class AppSlotArgs:
    config: DeployConfig
    """The validated stack config; ``config.slot(color).version`` must be set."""
    color: str
    """``blue`` or ``green``."""
    network: docker.Network
    """The stack's private network (the slot answers there as ``app-<color>``)."""
    secrets: Mapping[str, pulumi.Input[str]]
    """``DATABASE_URL``, ``JWT_SECRET``, ``CSRF_KEY`` and ``appSecrets`` values (secret Outputs)."""
    depends_on: Sequence[pulumi.Resource] = field(default_factory=list)
    """What must finish first: the live-slot guard and the migrations."""


class AppSlot(pulumi.ComponentResource):
    container_name: pulumi.Output[str]
    container_id: pulumi.Output[str]
    version: str
    host_url: str
    """``http://127.0.0.1:<hostPort>``: the slot's own health-probe address."""

    def __init__(self, name: str, args: AppSlotArgs, opts: ResourceOptions | None = None) -> None:
        super().__init__("togather:deploy:AppSlot", name, None, opts)
        cfg, color = args.config, args.color
        slot = cfg.slot(color)
        if not slot.version:
            raise ValueError(f"AppSlot({color}) needs {color}.version")
        child = ResourceOptions(parent=self)  # never the component's own depends_on/retain/aliases

        image = self._image(name, cfg, color, child)
        spec = app_spec(cfg, color, args.secrets)
        container_kwargs = {**container_args(spec), "image": image.image_id, "must_run": False}
        container = docker.Container(
            f"{name}-container", **container_kwargs,
            opts=child.merge(container_options(args.network, *args.depends_on)))

        self.version = slot.version
        self.host_url = loopback_url(slot.host_port)
        self.container_name = container.name
        self.container_id = container.id
        self.register_outputs({"container_name": self.container_name, "version": self.version,
                               "host_url": self.host_url})

    @staticmethod
    def _image(name: str, cfg: DeployConfig, color: str, opts: ResourceOptions) -> docker.RemoteImage:
        """Pull ``image:version`` (or build it locally for the dev stack) and keep it."""
        build = None
        if cfg.build_context:
            build = docker.RemoteImageBuildArgs(
                context=cfg.build_context,
                build_args={"VERSION": cfg.slot(color).version or ""})
        if cfg.registry is not None:
            opts = opts.merge(ResourceOptions(provider=AppSlot._registry_provider(name, cfg, opts)))
        return docker.RemoteImage(f"{name}-image", name=app_image(cfg, color), keep_locally=True,
                                  build=build, opts=opts)

    @staticmethod
    def _registry_provider(name: str, cfg: DeployConfig, opts: ResourceOptions) -> docker.Provider:
        """A docker provider whose only difference is the pull credentials of ``cfg.registry``."""
        reg = cfg.registry
        assert reg is not None
        # an explicit provider does not read docker:host by itself: pass it on (a remote engine)
        return docker.Provider(f"{name}-registry", host=pulumi.Config("docker").get("host"),
                               registry_auth=[docker.ProviderRegistryAuthArgs(
            address=reg.server, username=reg.username,
            password=pulumi.Output.secret(reg.password or ""))], opts=opts)
