"""Container settings of the monitoring stack as data (``togather_deploy.render.containers`` style).

Pure builders from ``DeployConfig`` to ``ContainerSpec``. Admin UIs publish on
127.0.0.1 only; the exporters publish nothing. Every container has a memory
limit. Config directories are bind-mounted read-only, so a config change is a
file write plus a reload, never a container replacement (see
``components.providers.monitoring_files``).

Networks: the monitoring containers live on their own network
(``monitoring_network_name``), not on the app slots' one, because their admin
APIs would be one request away from a compromised app (Alertmanager's silences,
Grafana's API, Prometheus' lifecycle endpoints). Prometheus additionally joins
the app network, without an alias, only to scrape the slots and postgres-exporter;
it runs without ``--web.enable-lifecycle`` (no ``/-/quit``, no ``/-/reload`` on
that address) and reloads on SIGHUP instead. postgres-exporter lives on the app
network only, because that is where ``db`` is; what it serves (read-only
statistics) is less than the app's own database login already gives.
"""

from __future__ import annotations

from typing import Any

from togather_deploy.config.model import DeployConfig
from togather_deploy.config.urls import loopback_url
from togather_deploy.render.containers import ContainerSpec, HealthSpec, MountSpec, PortSpec, container_labels
from togather_deploy.render.grafana import PROVISIONING_DIR
from togather_deploy.render.pg_exporter import QUERIES_DIR, QUERIES_FILE
from togather_deploy.render.prometheus import (
    ALERTMANAGER_ALIAS,
    ALERTMANAGER_PORT,
    NODE_EXPORTER_ALIAS,
    NODE_EXPORTER_PORT,
    POSTGRES_EXPORTER_ALIAS,
    POSTGRES_EXPORTER_PORT,
    PROMETHEUS_ALIAS,
    PROMETHEUS_PORT,
)

PROMETHEUS_CONF_DIR = "/etc/prometheus/togather"
ALERTMANAGER_CONF_DIR = "/etc/alertmanager/togather"
GRAFANA_PORT = 3000
TEXTFILE_DIR = "/textfile"
HOST_ROOT = "/host"


def monitoring_network_name(cfg: DeployConfig) -> str:
    """The monitoring containers' own network (``<project>-<stack>-monitoring-net``)."""
    return cfg.name("monitoring-net")


def monitoring_dir(cfg: DeployConfig, tool: str) -> str:
    """Host directory holding ``tool``'s rendered config (bind-mounted read-only)."""
    return cfg.layout.monitoring(tool)


def textfile_dir(cfg: DeployConfig) -> str:
    """Where ``togather_deploy.ops.metrics`` writes ``togather_deploy.prom``."""
    return cfg.layout.metrics


def _ready(port: int, path: str) -> HealthSpec:
    return HealthSpec(("CMD", "wget", "-q", "-O", "/dev/null", loopback_url(port, path)),
                      interval_s=30)


def prometheus_spec(cfg: DeployConfig) -> ContainerSpec:
    m = cfg.monitoring
    return ContainerSpec(
        name=cfg.name("prometheus"),
        image=m.prometheus_image,
        command=(f"--config.file={PROMETHEUS_CONF_DIR}/prometheus.yml",
                 "--storage.tsdb.path=/prometheus",
                 f"--storage.tsdb.retention.time={m.retention_time}",
                 # Time retention alone let the WAL fill the upstream's disk.
                 f"--storage.tsdb.retention.size={m.retention_size}",
                 # No --web.enable-lifecycle: /-/quit and /-/reload would answer on the
                 # app network too. Config reloads go by SIGHUP (components.monitoring).
                 f"--web.listen-address=:{PROMETHEUS_PORT}"),
        ports=(PortSpec(PROMETHEUS_PORT, m.prometheus_port, "127.0.0.1"),),
        mounts=(MountSpec("bind", monitoring_dir(cfg, "prometheus"), PROMETHEUS_CONF_DIR, read_only=True),
                MountSpec("volume", cfg.name("prometheus-data"), "/prometheus")),
        network=monitoring_network_name(cfg),
        aliases=(PROMETHEUS_ALIAS,),
        extra_networks=(cfg.network_name,),  # to scrape the slots and postgres-exporter
        health=_ready(PROMETHEUS_PORT, "/-/ready"),
        labels=container_labels(cfg, "prometheus"),
        memory_mb=512,
        stop_grace_s=30,  # let the TSDB close its head block cleanly
    )


def alertmanager_spec(cfg: DeployConfig) -> ContainerSpec:
    m = cfg.monitoring
    return ContainerSpec(
        name=cfg.name("alertmanager"),
        image=m.alertmanager_image,
        command=(f"--config.file={ALERTMANAGER_CONF_DIR}/alertmanager.yml",
                 "--storage.path=/alertmanager",
                 f"--web.listen-address=:{ALERTMANAGER_PORT}",
                 "--cluster.listen-address="),  # one host: no gossip port
        ports=(PortSpec(ALERTMANAGER_PORT, m.alertmanager_port, "127.0.0.1"),),
        mounts=(MountSpec("bind", monitoring_dir(cfg, "alertmanager"), ALERTMANAGER_CONF_DIR,
                          read_only=True),
                MountSpec("volume", cfg.name("alertmanager-data"), "/alertmanager")),
        network=monitoring_network_name(cfg),
        aliases=(ALERTMANAGER_ALIAS,),
        health=_ready(ALERTMANAGER_PORT, "/-/ready"),
        labels=container_labels(cfg, "alertmanager"),
        memory_mb=128,
    )


def grafana_spec(cfg: DeployConfig, admin_password: Any) -> ContainerSpec:
    """``admin_password`` may be a ``pulumi.Output`` secret; the spec never looks inside."""
    m = cfg.monitoring
    return ContainerSpec(
        name=cfg.name("grafana"),
        image=m.grafana_image,
        env={"GF_SECURITY_ADMIN_USER": "admin", "GF_SECURITY_ADMIN_PASSWORD": admin_password,
             "GF_AUTH_ANONYMOUS_ENABLED": "false", "GF_USERS_ALLOW_SIGN_UP": "false",
             "GF_AUTH_DISABLE_LOGIN_FORM": "false",
             "GF_PATHS_PROVISIONING": PROVISIONING_DIR,
             "GF_SERVER_HTTP_PORT": str(GRAFANA_PORT),
             "GF_ANALYTICS_REPORTING_ENABLED": "false", "GF_ANALYTICS_CHECK_FOR_UPDATES": "false"},
        ports=(PortSpec(GRAFANA_PORT, m.grafana_port, "127.0.0.1"),),
        mounts=(MountSpec("bind", monitoring_dir(cfg, "grafana"), PROVISIONING_DIR,
                          read_only=True),
                MountSpec("volume", cfg.name("grafana-data"), "/var/lib/grafana")),
        network=monitoring_network_name(cfg),
        health=_ready(GRAFANA_PORT, "/api/health"),
        labels=container_labels(cfg, "grafana"),
        memory_mb=256,
    )


def node_exporter_spec(cfg: DeployConfig) -> ContainerSpec:
    return ContainerSpec(
        name=cfg.name("node-exporter"),
        image=cfg.monitoring.node_exporter_image,
        command=(f"--path.rootfs={HOST_ROOT}",
                 f"--collector.textfile.directory={TEXTFILE_DIR}",
                 f"--web.listen-address=:{NODE_EXPORTER_PORT}"),
        mounts=(MountSpec("bind", "/", HOST_ROOT, read_only=True),
                MountSpec("bind", textfile_dir(cfg), TEXTFILE_DIR, read_only=True)),
        network=monitoring_network_name(cfg),
        aliases=(NODE_EXPORTER_ALIAS,),
        labels=container_labels(cfg, "node-exporter"),
        memory_mb=64,
    )


def postgres_exporter_spec(cfg: DeployConfig, dsn: Any) -> ContainerSpec:
    """``dsn`` (the exporter role's, a secret ``Output``) reaches it through the environment."""
    return ContainerSpec(
        name=cfg.name("postgres-exporter"),
        image=cfg.monitoring.postgres_exporter_image,
        env={"DATA_SOURCE_NAME": dsn},
        command=(f"--extend.query-path={QUERIES_DIR}/{QUERIES_FILE}",
                 f"--web.listen-address=:{POSTGRES_EXPORTER_PORT}"),
        mounts=(MountSpec("bind", monitoring_dir(cfg, "postgres-exporter"), QUERIES_DIR,
                          read_only=True),),
        network=cfg.network_name,  # where `db` is; Prometheus scrapes it there
        aliases=(POSTGRES_EXPORTER_ALIAS,),
        labels=container_labels(cfg, "postgres-exporter"),
        memory_mb=64,
    )
