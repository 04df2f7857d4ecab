"""``ContainerSpec`` → ``docker`` CLI argv: the CLI twin of ``components.docker_args``.

Pure builders: they return argv tuples as data and run nothing (only
``togather_deploy.commands.runner`` executes). The Pulumi program maps a spec to
``pulumi_docker.Container`` kwargs; the release rehearsal, the monitoring
component's ``local.Command`` lines and the tests map the very same spec here, so no
container setting is written twice.

One difference the CLI forces: ``--health-cmd`` only has the shell form, so an
exec-form check (``["CMD", ...]``) runs as ``/bin/sh -c`` of its shell-quoted
words (same argv, but the image needs ``/bin/sh``; the rehearsal's images have it).

Secrets never reach a command line: an env variable named in ``secret_names``
is passed as ``--env NAME`` and its value travels in the runner's environment
(``run_env``), exactly like ``runner.docker_exec``.

Every positional (image, container, network, volume) follows ``--``, so a name can
never be read as a flag; the image is checked against the registry grammar too.
Mounts use ``--mount type=...,source=...,target=...``: a ``:`` in a host path (a
``stateDir`` like ``/srv/a:b``) would split ``-v``'s colon form.
"""

from __future__ import annotations

import shlex
from collections.abc import Collection, Mapping

from togather_deploy.commands.runner import Argv
from togather_deploy.config.image_ref import check_image
from togather_deploy.render.containers import ContainerSpec, HealthSpec, MountSpec

SECRET_ENV = frozenset({"DATABASE_URL", "JWT_SECRET", "CSRF_KEY", "POSTGRES_PASSWORD",
                        "GF_SECURITY_ADMIN_PASSWORD", "DATA_SOURCE_NAME"})
"""Variables the specs fill with secrets; callers add ``appSecrets`` names."""
# The docker CLI reads these itself: a container variable by that name must not
# be smuggled through the CLI's own environment.
_CLI_ENV = frozenset({"PATH", "HOME", "DOCKER_HOST", "DOCKER_CONFIG", "DOCKER_CONTEXT",
                      "DOCKER_CERT_PATH", "DOCKER_TLS_VERIFY"})


def _env_value(name: str, value: object) -> str:
    if not isinstance(value, str):
        raise ValueError(f"env {name}: the docker CLI needs a plain string, got {type(value).__name__} "
                         "(resolve pulumi Outputs before building CLI argv)")
    return value


def _secret(name: str, secret_names: Collection[str]) -> bool:
    return name in SECRET_ENV or name in secret_names


def run_env(spec: ContainerSpec, secret_names: Collection[str] = ()) -> dict[str, str]:
    """The values ``run_argv`` leaves out: pass as ``runner.run(argv, env=...)``."""
    out: dict[str, str] = {}
    for name, value in spec.env.items():
        if _secret(name, secret_names):
            if name in _CLI_ENV:
                raise ValueError(f"env {name}: cannot be passed as a secret (the docker CLI uses it)")
            out[name] = _env_value(name, value)
    return out


def _mount(m: MountSpec) -> str:
    if m.type not in ("bind", "volume"):
        raise ValueError(f"mount {m.target}: type must be bind or volume, got {m.type!r}")
    for part in (m.source, m.target):
        if "," in part or not part:
            raise ValueError(f"mount {m.target}: source and target must be non-empty without commas")
    return f"type={m.type},source={m.source},target={m.target}" + (",readonly" if m.read_only else "")


def _health(h: HealthSpec | None) -> list[str]:
    if h is None:
        return []
    kind, *args = h.test
    if kind == "NONE":
        return ["--no-healthcheck"]
    if kind == "CMD-SHELL" and len(args) == 1:
        cmd = args[0]
    elif kind == "CMD" and args:
        cmd = shlex.join(args)  # the CLI only takes the shell form: quote each word
    else:
        raise ValueError(f"health check must be [\"CMD\", ...], [\"CMD-SHELL\", cmd] or [\"NONE\"], "
                         f"got {list(h.test)!r}")
    return ["--health-cmd", cmd, "--health-interval", f"{h.interval_s}s",
            "--health-timeout", f"{h.timeout_s}s", "--health-retries", str(h.retries),
            "--health-start-period", f"{h.start_period_s}s"]


def run_argv(spec: ContainerSpec, secret_names: Collection[str] = ()) -> Argv:
    """``docker run -d ...`` for ``spec``: every field of the spec, nothing else."""
    argv = ["docker", "run", "-d", "--name", spec.name]
    if spec.network:
        argv += ["--network", spec.network]
        for alias in spec.aliases:
            argv += ["--network-alias", alias]
        if spec.ipv4_address:  # on the first network, like the aliases
            argv += ["--ip", spec.ipv4_address]
        for extra in spec.extra_networks:  # Docker >= 25; --network-alias stays with the first
            argv += ["--network", extra]
    elif spec.aliases or spec.ipv4_address:
        raise ValueError(f"{spec.name}: network aliases and a fixed address need a network")
    elif spec.extra_networks:
        raise ValueError(f"{spec.name}: extra networks need a (first) network")
    for p in spec.ports:
        argv += ["--publish", f"{p.ip}:{p.external}:{p.internal}"]
    for m in spec.mounts:
        argv += ["--mount", _mount(m)]
    for name in sorted(spec.env):
        if _secret(name, secret_names):
            argv += ["--env", name]
        else:
            argv += ["--env", f"{name}={_env_value(name, spec.env[name])}"]
    argv += _health(spec.health)
    argv += ["--memory", f"{spec.memory_mb}m", "--restart", spec.restart,
             "--log-driver", "json-file", "--log-opt", f"max-size={spec.log_max_size}",
             "--log-opt", f"max-file={spec.log_max_file}", "--stop-timeout", str(spec.stop_grace_s)]
    if spec.stop_signal:
        argv += ["--stop-signal", spec.stop_signal]
    for key in sorted(spec.labels):
        argv += ["--label", f"{key}={spec.labels[key]}"]
    check_image("image", spec.image)
    return (*argv, "--", spec.image, *spec.command)


def _labels(labels: Mapping[str, str] | None) -> list[str]:
    out: list[str] = []
    for key in sorted(labels or {}):
        out += ["--label", f"{key}={(labels or {})[key]}"]
    return out


def network_create_argv(name: str, labels: Mapping[str, str] | None = None, *,
                        subnet: str | None = None, gateway: str | None = None,
                        ip_range: str | None = None) -> Argv:
    """A private bridge network: containers resolve each other by alias. With ``subnet``
    (``cfg.network``) containers may take fixed addresses; Docker hands out the others only
    from ``ip_range``."""
    ipam: list[str] = []
    for flag, value in (("--subnet", subnet), ("--gateway", gateway), ("--ip-range", ip_range)):
        if value:
            ipam += [flag, value]
    if ipam and not subnet:
        raise ValueError(f"network {name}: a gateway or ip range needs a subnet")
    return ("docker", "network", "create", "--driver", "bridge", *ipam, *_labels(labels), "--", name)


def volume_create_argv(name: str, labels: Mapping[str, str] | None = None) -> Argv:
    return ("docker", "volume", "create", *_labels(labels), "--", name)


def inspect_argv(kind: str, name: str, fmt: str = "{{json .}}") -> Argv:
    """``docker <container|network|volume|image> inspect``: exit 1 when ``name`` does not exist."""
    if kind not in ("container", "network", "volume", "image"):
        raise ValueError(f"inspect: unknown object kind {kind!r}")
    return ("docker", kind, "inspect", "--format", fmt, "--", name)


def state_argv(name: str) -> Argv:
    """The container's ``State`` (``Running``, ``Health.Status``...) as JSON."""
    return inspect_argv("container", name, "{{json .State}}")


def kill_argv(name: str, signal: str) -> Argv:
    """Send ``signal`` (``HUP``...) to the container's main process."""
    return ("docker", "kill", "--signal", signal, "--", name)


def stop_argv(name: str, timeout_s: int) -> Argv:
    return ("docker", "stop", "--time", str(timeout_s), "--", name)


def start_argv(name: str) -> Argv:
    return ("docker", "start", "--", name)


def rm_argv(name: str) -> Argv:
    """Remove a container (force: stop first). Never ``-v``: volumes hold data."""
    return ("docker", "rm", "--force", "--", name)


def network_rm_argv(name: str) -> Argv:
    return ("docker", "network", "rm", "--", name)


def volume_rm_argv(name: str) -> Argv:
    """Only for throwaway test volumes: the program itself never deletes a volume."""
    return ("docker", "volume", "rm", "--", name)


def ps_argv(labels: Mapping[str, str], all_states: bool = True) -> Argv:
    """Names of the containers carrying every one of ``labels``."""
    filters: list[str] = []
    for key in sorted(labels):
        filters += ["--filter", f"label={key}={labels[key]}"]
    return ("docker", "ps", *(["--all"] if all_states else []), *filters, "--format", "{{.Names}}")
