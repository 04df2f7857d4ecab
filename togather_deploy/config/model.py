"""The stack config, parsed and validated in exactly one place.

``load_config`` turns the ``togather:`` keys of a Pulumi stack into one frozen,
typed ``DeployConfig``. It runs before any resource is declared, so bad input
stops ``pulumi preview`` with a message naming the key, the value and what is
allowed. The program, the dynamic providers and the operator scripts all read
this object; nothing else parses config.

Secrets (``jwtSecret``, ``csrfKey``, ``databasePassword``, ``grafanaAdminPassword``
and every value of ``appSecrets``) must be set with ``pulumi config set --secret``;
they are kept out of ``repr`` so logging a config never leaks them.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from togather_deploy.config import fields as f
from togather_deploy.config import paths as config_paths
from togather_deploy.config.backup import BackupConfig, read_backup
from togather_deploy.config.image_ref import check_repository
from togather_deploy.config.layout import StateLayout
from togather_deploy.config.network import NetworkConfig, read_network
from togather_deploy.config.registry import KEY as REGISTRY_KEY
from togather_deploy.config.registry import RegistryConfig, read_registry
from togather_deploy.config.secrets import Secrets, concealing, read_secrets
from togather_deploy.config.sections import (
    RESERVED_ENV,
    DatabaseConfig,
    HealthConfig,
    MigrationsConfig,
    MonitoringConfig,
    NotifyConfig,
    RouterSettings,
    SlotConfig,
    SnapshotsConfig,
    read_database,
    read_health,
    read_migrations,
    read_monitoring,
    read_notify,
    read_router,
    read_slot,
    read_snapshots,
)
from togather_deploy.config.tls import TlsConfig, read_tls, tls_ports
from togather_deploy.errors import ConfigError

COLORS = ("blue", "green")
ENVIRONMENTS = ("development", "test", "staging", "production")

DEFAULT_APP_HEALTHCHECK = ("CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/healthz")


@dataclass(frozen=True)
class DeployConfig:
    """Everything the program needs to know about one stack."""

    project: str
    stack: str
    environment: str
    active_color: str
    image: str
    build_context: str | None
    blue: SlotConfig
    green: SlotConfig
    public_port: int
    domain: str
    database: DatabaseConfig
    migrations: MigrationsConfig
    snapshots: SnapshotsConfig
    health: HealthConfig
    monitoring: MonitoringConfig
    notify: NotifyConfig
    router: RouterSettings
    network: NetworkConfig
    """``network.subnet`` and the fixed address of each container on it."""
    app_env: Mapping[str, str]
    app_memory_mb: int
    app_healthcheck: tuple[str, ...]
    """Docker health check of an app container (``["CMD", ...]``)."""
    stop_idle_slot: bool
    allow_live_replace: bool
    """Emergency hatch: let an update replace the live colour's container (brief outage)."""
    state_dir: str
    secrets: Secrets
    tls: TlsConfig
    """HTTPS at the router (``togather_deploy.config.tls``)."""
    keep_images: int = 5
    """``keepImages``: app images kept on the host per stack (rollback --to needs them); the
    deployed colours' images are always kept on top of the newest ones."""
    registry: RegistryConfig | None = None
    """``togather:registry``: pull credentials for the app images (``config/registry.py``)."""
    backup: BackupConfig | None = None
    """Off-host backups (``togather_deploy.config.backup``); ``None``: none configured."""

    def slot(self, color: str) -> SlotConfig:
        return self.blue if color == "blue" else self.green

    @property
    def idle_color(self) -> str:
        return other_color(self.active_color)

    @property
    def deployed_colors(self) -> tuple[str, ...]:
        """Colours that have a version and therefore a container."""
        return tuple(c for c in COLORS if self.slot(c).version)

    @property
    def release_label(self) -> str:
        """The deployed versions, blue first (``v1.4.0+v1.5.0``).

        What the pre-migration snapshot is named after: it changes when a version is
        deployed to either colour, but not on a flip, so a rollback never waits for
        a pg_dump.
        """
        return "+".join(v for v in (self.blue.version, self.green.version) if v)

    def name(self, role: str) -> str:
        """Docker object names: ``<project>-<stack>-<role>`` (``togather-deploy-dev-app-blue``)."""
        return f"{self.project}-{self.stack}-{role}"

    @property
    def network_name(self) -> str:
        return self.name("net")

    @property
    def layout(self) -> StateLayout:
        """Every path under ``stateDir`` (``config.layout``)."""
        return StateLayout(self.state_dir)

    @property
    def router_dir(self) -> str:
        """Host directory bind-mounted read-only into the router (config + active colour)."""
        return self.layout.router


def other_color(color: str) -> str:
    return "green" if color == "blue" else "blue"


def load_config(
    raw: Mapping[str, Any],
    *,
    project: str,
    stack: str,
    project_dir: str,
    secret_keys: Collection[str] = (),
) -> DeployConfig:
    """Validate the ``togather:`` config (keys without the prefix) into a ``DeployConfig``.

    ``secret_keys`` are the keys Pulumi holds encrypted; a secret given in plain
    text is refused so it never lands unencrypted in ``Pulumi.<stack>.yaml``.
    Relative paths are resolved against ``project_dir``. A value under a secret key
    is never shown in a complaint (``togather_deploy.config.secrets``).
    """
    with concealing(secret_keys):
        return _load(raw, project, stack, project_dir, secret_keys)


def _load(raw: Mapping[str, Any], project: str, stack: str, project_dir: str,
          secret_keys: Collection[str]) -> DeployConfig:
    top = f.Section("", raw)
    environment = f.choice("environment", top.get("environment"), ENVIRONMENTS, "production")
    blue = read_slot(top.section("blue"), "blue", 18081)
    green = read_slot(top.section("green"), "green", 18082)
    active = f.choice("activeColor", top.get("activeColor"), COLORS, "blue")
    build = top.section("build")
    build_context = f.optional_string(build.key("context"), build.get("context"))
    build.done()
    domain = f.string("domain", top.get("domain"), "_", pattern=r"_|[A-Za-z0-9.-]+",
                      allowed="a host name like events.example.org")
    state_dir = config_paths.state_dir(f.string("stateDir", top.get("stateDir"),
                                                f"/var/lib/togather-deploy/{stack}"), project_dir, stack)
    cfg = DeployConfig(
        project=project,
        stack=stack,
        environment=environment,
        active_color=active,
        image=check_repository("image", f.string("image", top.get("image"))),
        build_context=config_paths.project_path(project_dir, build_context) if build_context else None,
        blue=blue,
        green=green,
        public_port=f.port("publicPort", top.get("publicPort"), 80),
        domain=domain,
        database=read_database(top.section("database")),
        migrations=read_migrations(top.section("migrations"), project_dir),
        snapshots=read_snapshots(top.section("snapshots"), project_dir, state_dir),
        health=read_health(top.section("health")),
        monitoring=read_monitoring(top.section("monitoring")),
        notify=read_notify(top.section("notify")),
        router=read_router(top.section("router")),
        network=read_network(top.section("network")),
        app_env=f.env_map("appEnv", top.get("appEnv"), reserved=RESERVED_ENV),
        app_memory_mb=f.integer("appMemoryMb", top.get("appMemoryMb"), 512, minimum=64),
        app_healthcheck=f.argv("appHealthcheck", top.get("appHealthcheck"), DEFAULT_APP_HEALTHCHECK),
        stop_idle_slot=f.boolean("stopIdleSlot", top.get("stopIdleSlot"), True),
        allow_live_replace=f.boolean("allowLiveReplace", top.get("allowLiveReplace"), False),
        state_dir=state_dir,
        secrets=read_secrets(top, secret_keys, RESERVED_ENV),
        keep_images=f.integer("keepImages", top.get("keepImages"), 5, minimum=2),
        registry=read_registry(top.section(REGISTRY_KEY), top.raw.get("image") or "", secret_keys),
        tls=read_tls(top.section("tls"), environment=environment, domain=domain,
                     secret_keys=secret_keys),
        backup=read_backup(top.section("backup"), project_dir, secret_keys),
    )
    top.done()
    _cross_checks(cfg)
    return cfg




def _cross_checks(cfg: DeployConfig) -> None:
    """Rules that involve more than one key."""
    if not cfg.slot(cfg.active_color).version:
        raise ConfigError(
            f"activeColor: {cfg.active_color} has no version, so it cannot serve traffic",
            key="activeColor",
            fix=f"pulumi config set togather:{cfg.active_color}.version VERSION --path "
            f"(or set activeColor back to {other_color(cfg.active_color)})")
    overlap = set(cfg.app_env) & set(cfg.secrets.app_secrets)
    if overlap:
        name = sorted(overlap)[0]
        raise ConfigError(f"appEnv.{name}: also set in appSecrets; keep it in one place",
                          key=f"appEnv.{name}")
    if cfg.environment not in ("development", "test") and \
            "CORS_ALLOWED_ORIGINS" not in {**cfg.app_env, **cfg.secrets.app_secrets}:
        raise ConfigError(
            "appEnv.CORS_ALLOWED_ORIGINS: the server requires it outside development/test",
            key="appEnv.CORS_ALLOWED_ORIGINS",
            fix="pulumi config set --path togather:appEnv.CORS_ALLOWED_ORIGINS https://your.domain")
    # Every host port the stack binds: a clash found here beats a bind failure mid-`pulumi up`.
    ports = {"publicPort": cfg.public_port, "router.previewPort": cfg.router.preview_port,
             "database.hostPort": cfg.database.host_port, "blue.hostPort": cfg.blue.host_port,
             "green.hostPort": cfg.green.host_port, **tls_ports(cfg.tls)}
    if cfg.monitoring.enabled:
        ports.update({"monitoring.prometheusPort": cfg.monitoring.prometheus_port,
                      "monitoring.alertmanagerPort": cfg.monitoring.alertmanager_port,
                      "monitoring.grafanaPort": cfg.monitoring.grafana_port})
    seen: dict[int, str] = {}
    for key, value in ports.items():
        if value in seen:
            raise ConfigError(f"{key}: port {value} is already used by {seen[value]}", key=key,
                              fix=f"pulumi config set --path togather:{key} ANOTHER_PORT")
        seen[value] = key
