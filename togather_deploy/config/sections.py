"""The typed sections of ``DeployConfig`` and their readers (see ``togather_deploy.config.model``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from togather_deploy.config import fields as f
from togather_deploy.config import paths as config_paths
from togather_deploy.config.image_ref import MOVING_TAGS, TAG
from togather_deploy.config.layout import StateLayout
from togather_deploy.config.notify_urls import apprise_urls

# Docker's tag grammar: the version doubles as the image tag.
VERSION_PATTERN = TAG
# Variables the deployment sets itself; an operator overriding them (in appEnv, a slot's
# env or appSecrets) would break the slot.
RESERVED_ENV = frozenset({"DATABASE_URL", "JWT_SECRET", "CSRF_KEY", "SLOT", "DEPLOYMENT_SLOT",
                          "ENVIRONMENT", "SERVER_HOST", "SERVER_PORT", "VERSION"})


@dataclass(frozen=True)
class SlotConfig:
    color: str
    version: str | None
    """Image tag to run; ``None`` means this colour has no container."""
    env: Mapping[str, str]
    """Extra variables for this colour only (on top of ``appEnv``)."""
    host_port: int
    """Loopback-only host port used to probe this colour's health directly."""


@dataclass(frozen=True)
class DatabaseConfig:
    image: str
    name: str
    user: str
    host_port: int
    """Published on 127.0.0.1 only, for snapshots/migrations from the host."""
    memory_mb: int


@dataclass(frozen=True)
class MigrationsConfig:
    dir: str
    lint: str
    """``warn``: unsafe-for-blue/green migrations warn in preview; ``error``: they fail it."""


@dataclass(frozen=True)
class SnapshotsConfig:
    dir: str
    retention_days: int
    keep_min: int
    mode: str
    """``container``: pg_dump runs in the database container; ``host``: the host's pg_dump."""


@dataclass(frozen=True)
class HealthConfig:
    path: str
    interval_seconds: int
    timeout_seconds: int
    consecutive: int
    allow_degraded: bool


@dataclass(frozen=True)
class MonitoringConfig:
    enabled: bool
    prometheus_image: str
    alertmanager_image: str
    grafana_image: str
    node_exporter_image: str
    postgres_exporter_image: str
    retention_time: str
    retention_size: str
    prometheus_port: int
    alertmanager_port: int
    grafana_port: int
    snapshot_max_age_days: int
    ntfy_url: str | None
    """Full ntfy topic URL alerts go to (``https://ntfy.sh/my-topic``)."""
    webhook_url: str | None


@dataclass(frozen=True)
class NotifyConfig:
    ntfy_url: str | None
    webhook_url: str | None
    timeout_seconds: int
    retries: int
    urls: tuple[str, ...] = ()
    """Apprise URLs (``config.notify_urls``), sent to besides the two above."""


@dataclass(frozen=True)
class RouterSettings:
    image: str
    preview_port: int
    """Loopback-only listener that always reaches the idle colour (smoke tests)."""
    maintenance: bool
    client_max_body_size: str
    js_module: str
    """Path of ngx_http_js_module.so as the router image's nginx expects it."""


def read_slot(s: f.Section, color: str, default_port: int) -> SlotConfig:
    version = f.optional_string(s.key("version"), s.get("version"), pattern=VERSION_PATTERN,
                                allowed="an image tag like v1.4.0")
    if version is not None and version.lower() in MOVING_TAGS:  # an explicit version, never `latest`
        raise f.invalid(s.key("version"), version, "an explicit version like v1.4.0 (not a moving tag)")
    slot = SlotConfig(
        color=color,
        version=version,
        env=f.env_map(s.key("env"), s.get("env"), reserved=RESERVED_ENV),
        host_port=f.port(s.key("hostPort"), s.get("hostPort"), default_port),
    )
    s.done()
    return slot


def read_database(s: f.Section) -> DatabaseConfig:
    ident = r"[a-z_][a-z0-9_]{0,62}"
    db = DatabaseConfig(
        image=f.pinned_image(s.key("image"), s.get("image"), "postgis/postgis:16-3.4"),
        name=f.string(s.key("name"), s.get("name"), "togather", pattern=ident,
                      allowed="a lower-case SQL identifier"),
        user=f.string(s.key("user"), s.get("user"), "togather", pattern=ident,
                      allowed="a lower-case SQL identifier"),
        host_port=f.port(s.key("hostPort"), s.get("hostPort"), 15432),
        memory_mb=f.integer(s.key("memoryMb"), s.get("memoryMb"), 1024, minimum=128),
    )
    s.done()
    return db


def read_migrations(s: f.Section, project_dir: str) -> MigrationsConfig:
    m = MigrationsConfig(
        dir=config_paths.project_path(project_dir, f.string(s.key("dir"), s.get("dir"), "migrations")),
        lint=f.choice(s.key("lint"), s.get("lint"), ("warn", "error"), "warn"),
    )
    s.done()
    return m


def read_snapshots(s: f.Section, project_dir: str, state_dir: str) -> SnapshotsConfig:
    default_dir = StateLayout(state_dir).default_snapshots
    snap = SnapshotsConfig(
        dir=config_paths.snapshot_dir(s.key("dir"), f.string(s.key("dir"), s.get("dir"), default_dir),
                                      project_dir),
        retention_days=f.integer(s.key("retentionDays"), s.get("retentionDays"), 7, minimum=1),
        keep_min=f.integer(s.key("keepMin"), s.get("keepMin"), 3, minimum=1),
        mode=f.choice(s.key("mode"), s.get("mode"), ("container", "host"), "container"),
    )
    s.done()
    return snap


def read_health(s: f.Section) -> HealthConfig:
    h = HealthConfig(
        path=f.string(s.key("path"), s.get("path"), "/health", pattern=r"/[A-Za-z0-9/_.-]*",
                      allowed="a URL path starting with /"),
        interval_seconds=f.integer(s.key("intervalSeconds"), s.get("intervalSeconds"), 2, minimum=1),
        timeout_seconds=f.integer(s.key("timeoutSeconds"), s.get("timeoutSeconds"), 120, minimum=1),
        consecutive=f.integer(s.key("consecutive"), s.get("consecutive"), 3, minimum=1, maximum=100),
        allow_degraded=f.boolean(s.key("allowDegraded"), s.get("allowDegraded"), False),
    )
    s.done()
    return h


def read_monitoring(s: f.Section) -> MonitoringConfig:
    url = r"https?://[^\s]+"
    m = MonitoringConfig(
        enabled=f.boolean(s.key("enabled"), s.get("enabled"), False),
        prometheus_image=f.pinned_image(s.key("prometheusImage"), s.get("prometheusImage"),
                                        "prom/prometheus:v2.53.3"),
        alertmanager_image=f.pinned_image(s.key("alertmanagerImage"), s.get("alertmanagerImage"),
                                          "prom/alertmanager:v0.27.0"),
        grafana_image=f.pinned_image(s.key("grafanaImage"), s.get("grafanaImage"),
                                     "grafana/grafana-oss:11.3.1"),
        node_exporter_image=f.pinned_image(s.key("nodeExporterImage"), s.get("nodeExporterImage"),
                                           "prom/node-exporter:v1.8.2"),
        postgres_exporter_image=f.pinned_image(
            s.key("postgresExporterImage"), s.get("postgresExporterImage"),
            "quay.io/prometheuscommunity/postgres-exporter:v0.16.0"),
        retention_time=f.string(s.key("retentionTime"), s.get("retentionTime"), "15d",
                                pattern=r"[0-9]+(ms|s|m|h|d|w|y)", allowed="a duration like 15d"),
        retention_size=f.string(s.key("retentionSize"), s.get("retentionSize"), "5GB",
                                pattern=r"[0-9]+(B|KB|MB|GB|TB)", allowed="a size like 5GB"),
        prometheus_port=f.port(s.key("prometheusPort"), s.get("prometheusPort"), 9090),
        alertmanager_port=f.port(s.key("alertmanagerPort"), s.get("alertmanagerPort"), 9093),
        grafana_port=f.port(s.key("grafanaPort"), s.get("grafanaPort"), 3000),
        snapshot_max_age_days=f.integer(s.key("snapshotMaxAgeDays"), s.get("snapshotMaxAgeDays"),
                                        2, minimum=1),
        ntfy_url=f.optional_string(s.key("ntfyUrl"), s.get("ntfyUrl"), pattern=url,
                                   allowed="an http(s) URL"),
        webhook_url=f.optional_string(s.key("webhookUrl"), s.get("webhookUrl"), pattern=url,
                                      allowed="an http(s) URL"),
    )
    s.done()
    return m


def read_notify(s: f.Section) -> NotifyConfig:
    url = r"https?://[^\s]+"
    n = NotifyConfig(
        ntfy_url=f.optional_string(s.key("ntfyUrl"), s.get("ntfyUrl"), pattern=url,
                                   allowed="an http(s) URL like https://ntfy.sh/my-topic"),
        webhook_url=f.optional_string(s.key("webhookUrl"), s.get("webhookUrl"), pattern=url,
                                      allowed="an http(s) URL"),
        timeout_seconds=f.integer(s.key("timeoutSeconds"), s.get("timeoutSeconds"), 5, minimum=1),
        retries=f.integer(s.key("retries"), s.get("retries"), 3, minimum=0, maximum=10),
        urls=apprise_urls(s.key("urls"), s.get("urls")),
    )
    s.done()
    return n


def read_router(s: f.Section) -> RouterSettings:
    r = RouterSettings(
        image=f.pinned_image(s.key("image"), s.get("image"), "nginx:1.27.3"),
        preview_port=f.port(s.key("previewPort"), s.get("previewPort"), 18080),
        maintenance=f.boolean(s.key("maintenance"), s.get("maintenance"), False),
        client_max_body_size=f.string(s.key("clientMaxBodySize"), s.get("clientMaxBodySize"),
                                      "10m", pattern=r"[0-9]+[kKmMgG]?",
                                      allowed="an nginx size like 10m"),
        js_module=f.string(s.key("jsModule"), s.get("jsModule"),
                           "modules/ngx_http_js_module.so", pattern=r"[A-Za-z0-9_./-]+\.so",
                           allowed="a path to ngx_http_js_module.so"),
    )
    s.done()
    return r


