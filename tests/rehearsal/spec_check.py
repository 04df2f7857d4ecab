"""Does a running container carry exactly what its ``ContainerSpec`` says? (``docker inspect``)"""

from __future__ import annotations

import json
import shlex
from typing import Any

from togather_deploy.commands import docker as docker_cli
from togather_deploy.commands import runner
from togather_deploy.render.containers import ContainerSpec


def inspect(name: str) -> dict[str, Any]:
    out = runner.run(docker_cli.inspect_argv("container", name), timeout=60).stdout
    return dict(json.loads(out))


def mismatches(spec: ContainerSpec) -> list[str]:
    """Every spec field the engine does not report back as given (empty: all match)."""
    c = inspect(spec.name)
    host, conf = c["HostConfig"], c["Config"]
    bad: list[str] = []

    def want(field: str, expected: Any, actual: Any) -> None:
        if expected != actual:
            bad.append(f"{field}: spec {expected!r}, engine {actual!r}")

    want("image", spec.image, conf["Image"])
    if spec.command:
        want("command", list(spec.command), conf["Cmd"])
    env = dict(e.split("=", 1) for e in conf["Env"])
    for key, value in spec.env.items():
        if env.get(key) != value:  # values never printed: they may be secrets
            bad.append(f"env {key}: missing or different from the spec")
    want("ports", {f"{p.internal}/tcp": [{"HostIp": p.ip, "HostPort": str(p.external)}]
                   for p in spec.ports}, host["PortBindings"] or {})
    mounts = sorted((m["Type"], m.get("Name") or m["Source"], m["Destination"], not m["RW"])
                    for m in c["Mounts"])
    want("mounts", sorted((m.type, m.source, m.target, m.read_only) for m in spec.mounts), mounts)
    if spec.network:
        endpoint = c["NetworkSettings"]["Networks"].get(spec.network, {})
        aliases = endpoint.get("Aliases") or []
        want("aliases", set(spec.aliases), set(spec.aliases) & set(aliases))
        if spec.ipv4_address:
            want("ipv4 address", spec.ipv4_address, endpoint.get("IPAddress"))
    for extra in spec.extra_networks:
        want(f"network {extra}", True, extra in c["NetworkSettings"]["Networks"])
    if spec.health is not None:
        test = conf["Healthcheck"]["Test"]
        want("health command", list(spec.health.test[1:]), shlex.split(test[1]) if len(test) == 2 else test)
        want("health interval", spec.health.interval_s * 10**9, conf["Healthcheck"]["Interval"])
    want("labels", dict(spec.labels), {k: conf["Labels"].get(k) for k in spec.labels})
    want("memory", spec.memory_mb * 1024 * 1024, host["Memory"])
    want("restart", spec.restart, host["RestartPolicy"]["Name"])
    want("stop timeout", spec.stop_grace_s, conf.get("StopTimeout"))
    if spec.stop_signal:
        want("stop signal", spec.stop_signal, conf.get("StopSignal"))
    want("log options", {"max-size": spec.log_max_size, "max-file": str(spec.log_max_file)},
         host["LogConfig"]["Config"])
    return bad
