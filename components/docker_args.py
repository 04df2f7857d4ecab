"""``ContainerSpec`` → ``pulumi_docker.Container`` arguments: the only such mapping.

Pure: builds argument objects, creates nothing. The release rehearsal maps the
same spec to ``docker run`` (``togather_deploy.commands.docker``), so a setting exists once.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_docker as docker

from togather_deploy.render.containers import ContainerSpec, HealthSpec


def env_list(env: dict[str, Any]) -> list[Any]:
    """``NAME=value`` strings; secret values stay ``Output`` secrets."""
    out: list[Any] = []
    for name in sorted(env):
        value = env[name]
        if isinstance(value, pulumi.Output):
            out.append(pulumi.Output.concat(name, "=", value))
        else:
            out.append(f"{name}={value}")
    return out


def container_options(*depends_on: pulumi.Resource) -> pulumi.ResourceOptions:
    """Options every container gets. Its name is fixed (``<project>-<stack>-<role>``), so a
    replacement must delete the old container first or the new one cannot take the name."""
    return pulumi.ResourceOptions(depends_on=list(depends_on), delete_before_replace=True)


def health_verdict_s(health: HealthSpec) -> int:
    """The longest Docker takes to call a container healthy or unhealthy.

    Failures inside ``start_period`` do not count; after it, ``retries`` failed
    probes in a row, each up to ``interval + timeout`` apart, make it unhealthy
    (one more cycle for the probe that straddles the end of the start period).
    The database's 60 s start, 3 retries, 10 s interval and 5 s timeout: 60 + 4 × 15 = 120 s.
    """
    return health.start_period_s + (health.retries + 1) * (health.interval_s + health.timeout_s)


def wait_healthy_args(spec: ContainerSpec) -> dict[str, Any]:
    """pulumi-docker's ``wait``: creating the container finishes only once Docker calls it
    healthy, so what depends on it never connects to a server that is still starting. The
    timeout is Docker's own verdict time: waiting longer is pointless, shorter fails a slow
    but healthy first boot."""
    if spec.health is None:
        raise ValueError(f"{spec.name}: waiting for health needs a health check")
    return {"wait": True, "wait_timeout": health_verdict_s(spec.health)}


def container_args(spec: ContainerSpec) -> dict[str, Any]:
    """Keyword arguments for ``docker.Container(name, **container_args(spec), opts=...)``."""
    health = spec.health
    return {
        "name": spec.name,
        "image": spec.image,
        "envs": env_list(dict(spec.env)),
        "command": list(spec.command) or None,
        "ports": [docker.ContainerPortArgs(internal=p.internal, external=p.external, ip=p.ip)
                  for p in spec.ports],
        "mounts": [docker.ContainerMountArgs(target=m.target, type=m.type, source=m.source,
                                             read_only=m.read_only) for m in spec.mounts],
        "networks_advanced": [docker.ContainerNetworksAdvancedArgs(
            name=spec.network, aliases=list(spec.aliases) or None, ipv4_address=spec.ipv4_address),
            *[docker.ContainerNetworksAdvancedArgs(name=n) for n in spec.extra_networks]]
        if spec.network else None,
        "healthcheck": docker.ContainerHealthcheckArgs(
            tests=list(health.test), interval=f"{health.interval_s}s",
            timeout=f"{health.timeout_s}s", retries=health.retries,
            start_period=f"{health.start_period_s}s") if health else None,
        "labels": [docker.ContainerLabelArgs(label=k, value=v) for k, v in sorted(spec.labels.items())],
        "memory": spec.memory_mb,
        "restart": spec.restart,
        "log_driver": "json-file",
        "log_opts": {"max-size": spec.log_max_size, "max-file": str(spec.log_max_file)},
        # stop_timeout is the container's own (every `docker stop`, daemon restart, host
        # reboot); destroy_grace_seconds only what pulumi-docker waits on a delete. Same grace.
        "stop_timeout": spec.stop_grace_s,
        "stop_signal": spec.stop_signal,
        "destroy_grace_seconds": spec.stop_grace_s,
    }
