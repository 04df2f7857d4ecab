"""Container settings as plain data: the one source of truth for every container.

Each builder is a pure function from ``DeployConfig`` (plus the values only the
program knows, such as generated secrets) to a ``ContainerSpec``. The Pulumi
components turn a spec into a ``docker.Container`` (``components.docker_args``);
the release rehearsal runs the very same spec with the docker CLI. No container
setting is written anywhere else.

Values in ``env`` may be plain strings or ``pulumi.Output``s (secrets): the specs
never look inside them, so the same builders serve the program and the tests.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from togather_deploy.config.db_url import build_url
from togather_deploy.config.model import DeployConfig

APP_PORT = 8080
"""The server's listen port inside its container (``SERVER_PORT``)."""
ROUTER_PUBLIC_PORT = 8080
"""The router's public listener inside its container (unprivileged on purpose)."""
ROUTER_PREVIEW_PORT = 8081
"""The router's idle-colour preview listener inside its container."""
ROUTER_HTTPS_PORT = 8443
"""The router's HTTPS listener inside its container (``tls.mode`` acme or files)."""
ROUTER_CONF_DIR = "/etc/togather-router"
"""Where the router's host config directory is mounted, read-only. A directory,
not single files: a bind-mounted file pins its inode, so an atomic rename on the
host would never be seen inside the container."""
PG_DATA = "/var/lib/postgresql/data"
TRUSTED_PROXIES = "172.16.0.0/12,10.0.0.0/8,192.168.0.0/16"
"""Default ``TRUSTED_PROXY_CIDRS``: Docker's private ranges, where the router lives. Without
it every client shares the router's rate-limit bucket (60/min on /health and /version)."""


@dataclass(frozen=True)
class PortSpec:
    internal: int
    external: int
    ip: str
    """Host address to bind: ``127.0.0.1`` for everything but the router's public port."""


@dataclass(frozen=True)
class MountSpec:
    type: str  # "bind" | "volume"
    source: str
    target: str
    read_only: bool = False


@dataclass(frozen=True)
class HealthSpec:
    test: tuple[str, ...]
    interval_s: int = 30
    timeout_s: int = 5
    retries: int = 3
    start_period_s: int = 10


@dataclass(frozen=True)
class ContainerSpec:
    name: str
    image: str
    env: Mapping[str, Any] = field(default_factory=dict)
    command: tuple[str, ...] = ()
    ports: tuple[PortSpec, ...] = ()
    mounts: tuple[MountSpec, ...] = ()
    network: str = ""
    aliases: tuple[str, ...] = ()
    """Names the container answers to on ``network`` (only there)."""
    ipv4_address: str | None = None
    """Fixed address on ``network`` (``network.subnet``): a replacement answers where the old one did."""
    extra_networks: tuple[str, ...] = ()
    """Further networks joined without an alias (Prometheus: the app network, only to scrape)."""
    health: HealthSpec | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    memory_mb: int = 256
    restart: str = "unless-stopped"
    log_max_size: str = "10m"
    log_max_file: int = 3
    stop_grace_s: int = 15
    """Seconds between the stop signal and SIGKILL, on every stop (``docker stop``, a daemon
    restart, a delete); the server drains for up to 10 s."""
    stop_signal: str | None = None
    """``None``: the image's own ``STOPSIGNAL`` (postgres sets SIGINT, its fast shutdown)."""


def container_labels(cfg: DeployConfig, role: str, **extra: str) -> dict[str, str]:
    return {"togather.project": cfg.project, "togather.stack": cfg.stack,
            "togather.role": role, **extra}


def app_alias(color: str) -> str:
    """The DNS name a colour answers to on the private network (for people and tools; the
    router reaches a colour by its fixed address, ``cfg.network.address(color)``)."""
    return f"app-{color}"


DB_ALIAS = "db"


def database_url(cfg: DeployConfig, password: str, *, host: str = DB_ALIAS,
                 port: int = 5432) -> str:
    """The app's ``DATABASE_URL``: the password percent-encoded, so any character is safe."""
    return build_url(cfg.database.user, password, host, port, cfg.database.name, scheme="postgres",
                     params={"sslmode": "disable"})


def database_spec(cfg: DeployConfig, password: Any) -> ContainerSpec:
    db = cfg.database
    return ContainerSpec(
        name=cfg.name("db"),
        image=db.image,
        env={"POSTGRES_DB": db.name, "POSTGRES_USER": db.user, "POSTGRES_PASSWORD": password},
        ports=(PortSpec(5432, db.host_port, "127.0.0.1"),),
        mounts=(MountSpec("volume", cfg.name("pgdata"), PG_DATA),),
        network=cfg.network_name,
        aliases=(DB_ALIAS,),
        ipv4_address=cfg.network.address("db"),
        # -h 127.0.0.1: over TCP, like every client. During first-boot init the image runs a
        # temporary server on the Unix socket only; a socket check would call it ready too early.
        # start_period 60 s: initdb plus the PostGIS init scripts on a small shared host.
        health=HealthSpec(("CMD", "pg_isready", "-h", "127.0.0.1", "-U", db.user, "-d", db.name),
                          interval_s=10, start_period_s=60),
        labels=container_labels(cfg, "database"),
        memory_mb=db.memory_mb,
        stop_grace_s=60,  # let PostgreSQL finish a clean shutdown checkpoint
    )


def app_image(cfg: DeployConfig, color: str) -> str:
    return f"{cfg.image}:{cfg.slot(color).version}"


def app_env(cfg: DeployConfig, color: str, secrets: Mapping[str, Any]) -> dict[str, Any]:
    """Server environment: operator's ``appEnv`` < colour env < what the deploy owns.

    ``secrets`` holds ``DATABASE_URL``, ``JWT_SECRET``, ``CSRF_KEY`` and any
    ``appSecrets`` values (possibly ``pulumi.Output`` secrets).
    """
    slot = cfg.slot(color)
    return {
        "TRUSTED_PROXY_CIDRS": TRUSTED_PROXIES,
        **cfg.app_env,
        **slot.env,
        **secrets,
        "ENVIRONMENT": cfg.environment,
        "SLOT": color,
        "DEPLOYMENT_SLOT": color,
        "SERVER_HOST": "0.0.0.0",
        "SERVER_PORT": str(APP_PORT),
    }


def app_spec(cfg: DeployConfig, color: str, secrets: Mapping[str, Any]) -> ContainerSpec:
    slot = cfg.slot(color)
    return ContainerSpec(
        name=cfg.name(f"app-{color}"),
        image=app_image(cfg, color),
        env=app_env(cfg, color, secrets),
        ports=(PortSpec(APP_PORT, slot.host_port, "127.0.0.1"),),
        network=cfg.network_name,
        aliases=(app_alias(color),),
        # the router pools connections to this address (upstream togather_<color>, no resolver)
        ipv4_address=cfg.network.address(color),
        # /healthz is cheap and not rate limited; 30 s because frequent checks leaked
        # files in /run on the upstream's hosts (app contract, "Lessons").
        health=HealthSpec(tuple(cfg.app_healthcheck), interval_s=30, start_period_s=20),
        labels=container_labels(cfg, "app", **{"togather.color": color,
                                      "togather.version": slot.version or ""}),
        memory_mb=cfg.app_memory_mb,
        stop_grace_s=15,
    )


def router_spec(cfg: DeployConfig) -> ContainerSpec:
    """The router: nothing here depends on the active colour, so a flip never replaces it."""
    return ContainerSpec(
        name=cfg.name("router"),
        image=cfg.router.image,
        command=("nginx", "-c", f"{ROUTER_CONF_DIR}/nginx.conf", "-g", "daemon off;"),
        ports=(PortSpec(ROUTER_PUBLIC_PORT, cfg.public_port, cfg.tls.public_bind),
               *((PortSpec(ROUTER_HTTPS_PORT, cfg.tls.https_port, cfg.tls.public_bind),)
                 if cfg.tls.enabled else ()),
               PortSpec(ROUTER_PREVIEW_PORT, cfg.router.preview_port, "127.0.0.1")),
        mounts=(MountSpec("bind", cfg.router_dir, ROUTER_CONF_DIR, read_only=True),),
        network=cfg.network_name,
        ipv4_address=cfg.network.address("router"),
        health=HealthSpec(("CMD", "nginx", "-t", "-q", "-c", f"{ROUTER_CONF_DIR}/nginx.conf"),
                          interval_s=30),
        labels=container_labels(cfg, "router"),
        memory_mb=128,
    )
