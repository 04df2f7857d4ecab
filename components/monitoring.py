"""``MonitoringStack``: Prometheus, Alertmanager, Grafana, node-exporter and postgres-exporter.

Declared only when ``monitoring.enabled`` (``declare_monitoring`` returns
``None`` otherwise, and nothing at all is created). Every config file is
rendered by a pure function (``prometheus_conf``, ``alert_rules``,
``alertmanager_conf``, ``grafana_provisioning``, ``monitoring_pgexporter``),
delivered into ``<stateDir>/monitoring/<tool>`` by ``ConfigFiles`` and reloaded
in place: Alertmanager by ``POST /-/reload`` on its loopback port, Prometheus by
SIGHUP (``<name>-prometheus-reload``, run again whenever its files change) because
its lifecycle endpoints are off. Admin UIs listen on 127.0.0.1 only. The
containers sit on their own network, away from the app slots
(``togather_deploy.render.monitoring_containers`` says who joins which and why). Grafana's admin
password comes from ``grafanaAdminPassword`` or ``pulumi_random`` and is a secret
output.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_command as command
import pulumi_docker as docker
import pulumi_random as random
from pulumi import ResourceOptions

from components.app_secrets import secret_or_random
from components.docker_args import container_args, container_options
from components.providers.monitoring_files import ConfigFiles
from components.providers.monitoring_role import ExporterRole
from togather_deploy.commands import docker as docker_cli
from togather_deploy.commands import runner
from togather_deploy.config.model import DeployConfig
from togather_deploy.config.urls import loopback_url
from togather_deploy.render.alert_rules import render_alert_rules
from togather_deploy.render.alertmanager import render_alertmanager_config
from togather_deploy.render.containers import DB_ALIAS, ContainerSpec
from togather_deploy.render.grafana import provisioning_files
from togather_deploy.render.monitoring_containers import (
    alertmanager_spec,
    grafana_spec,
    monitoring_dir,
    monitoring_network_name,
    node_exporter_spec,
    postgres_exporter_spec,
    prometheus_spec,
)
from togather_deploy.render.pg_exporter import QUERIES_FILE, ROLE, exporter_dsn, render_queries
from togather_deploy.render.prometheus import (
    PROMETHEUS_ALIAS,
    PROMETHEUS_PORT,
    container_targets,
    render_prometheus_config,
)

CONTAINER_GID = 65534
"""``nogroup``: the prom/* images run as ``nobody:nobody`` (65534:65534)."""


@dataclass
class MonitoringStackArgs:
    config: DeployConfig
    """The validated stack config (``monitoring.*``, ``database.*``, ``stateDir``)."""
    network: docker.Network
    """The app slots' network: Prometheus joins it to scrape, postgres-exporter to reach ``db``."""
    admin_dsn: pulumi.Input[str]
    """Superuser DSN via 127.0.0.1 (``Database.host_url``), used once to create the exporter's role."""
    depends_on: Sequence[pulumi.Resource] = field(default_factory=list)
    """What must exist first: the database (the exporter's role is created in it) and the host
    directories (the config files are written under ``stateDir``; node-exporter bind-mounts
    ``<stateDir>/metrics``, and Docker refuses a bind mount whose source is missing)."""


class MonitoringStack(pulumi.ComponentResource):
    grafana_admin_password: pulumi.Output[str]
    """Secret."""
    grafana_url: str
    prometheus_url: str
    alertmanager_url: str

    def __init__(self, name: str, args: MonitoringStackArgs, opts: ResourceOptions | None = None) -> None:
        super().__init__("togather:deploy:MonitoringStack", name, None, opts)
        cfg = args.config
        m = cfg.monitoring
        child = ResourceOptions(parent=self)  # never the component's own depends_on/retain/aliases

        grafana_password = secret_or_random(f"{name}-grafana-password",
                                            cfg.secrets.grafana_admin_password, child, length=32)
        exporter_password: pulumi.Output[str] = pulumi.Output.secret(random.RandomPassword(
            f"{name}-exporter-password", length=32, special=False, opts=child).result)
        first = child.merge(ResourceOptions(depends_on=list(args.depends_on)))
        role = ExporterRole(f"{name}-exporter-role", admin_dsn=args.admin_dsn, role=ROLE,
                            password=exporter_password, opts=first)
        files = self._config_files(name, cfg, first)

        dsn: pulumi.Output[str] = pulumi.Output.secret(exporter_password.apply(lambda pw: exporter_dsn(
            ROLE, pw, host=DB_ALIAS, port=5432, database=cfg.database.name)))
        specs: dict[str, tuple[ContainerSpec, list[pulumi.Resource]]] = {
            "prometheus": (prometheus_spec(cfg), [files["prometheus"]]),
            "alertmanager": (alertmanager_spec(cfg), [files["alertmanager"]]),
            "grafana": (grafana_spec(cfg, grafana_password), [files["grafana"]]),
            "node-exporter": (node_exporter_spec(cfg), []),
            "postgres-exporter": (postgres_exporter_spec(cfg, dsn), [files["postgres-exporter"], role]),
        }
        network = docker.Network(
            f"{name}-network", name=monitoring_network_name(cfg),
            labels=[docker.NetworkLabelArgs(label="togather.stack", value=cfg.stack)], opts=child)
        containers = {role_name: self._container(
            name, role_name, spec, [args.network, network, *args.depends_on, *deps], child)
            for role_name, (spec, deps) in specs.items()}
        # Re-run (replaced) whenever the files are written (they are written first): a change of
        # the rendered files, or a lost or hand-edited file restored after a targeted refresh.
        command.local.Command(
            f"{name}-prometheus-reload", create=signal_script(specs["prometheus"][0].name, "HUP"),
            interpreter=["/bin/sh", "-c"],
            triggers=[files["prometheus"].digests, files["prometheus"].generation],
            opts=child.merge(ResourceOptions(depends_on=[containers["prometheus"], files["prometheus"]])))

        self.grafana_admin_password = grafana_password
        self.grafana_url = loopback_url(m.grafana_port)
        self.prometheus_url = loopback_url(m.prometheus_port)
        self.alertmanager_url = loopback_url(m.alertmanager_port)
        self.register_outputs({"grafana_admin_password": self.grafana_admin_password,
                               "grafana_url": self.grafana_url, "prometheus_url": self.prometheus_url,
                               "alertmanager_url": self.alertmanager_url})

    @staticmethod
    def _config_files(name: str, cfg: DeployConfig, opts: ResourceOptions) -> dict[str, ConfigFiles]:
        m = cfg.monitoring
        prometheus = {"prometheus.yml": render_prometheus_config(container_targets()),
                      "rules/togather.yml": render_alert_rules(
                          m.snapshot_max_age_days, allow_degraded=cfg.health.allow_degraded)}
        return {
            "prometheus": ConfigFiles(
                f"{name}-prometheus-config", directory=monitoring_dir(cfg, "prometheus"),
                files=prometheus, opts=opts),  # reloaded by SIGHUP: see `signal_script`
            # The ntfy topic works like a password: keep the file's contents secret in the state.
            "alertmanager": ConfigFiles(
                f"{name}-alertmanager-config", directory=monitoring_dir(cfg, "alertmanager"),
                files={"alertmanager.yml": render_alertmanager_config(m.ntfy_url, m.webhook_url)},
                mode=0o640, group=CONTAINER_GID,
                reload_url=loopback_url(m.alertmanager_port, "/-/reload"), secret=True, opts=opts),
            "grafana": ConfigFiles(
                f"{name}-grafana-provisioning", directory=monitoring_dir(cfg, "grafana"),
                files=provisioning_files(f"http://{PROMETHEUS_ALIAS}:{PROMETHEUS_PORT}"), opts=opts),
            "postgres-exporter": ConfigFiles(
                f"{name}-postgres-exporter-config", directory=monitoring_dir(cfg, "postgres-exporter"),
                files={QUERIES_FILE: render_queries()}, opts=opts),
        }

    @staticmethod
    def _container(name: str, role: str, spec: ContainerSpec, deps: list[pulumi.Resource],
                   opts: ResourceOptions) -> docker.Container:
        image = docker.RemoteImage(f"{name}-{role}-image", name=spec.image, keep_locally=True, opts=opts)
        return docker.Container(f"{name}-{role}", **{**container_args(spec), "image": image.image_id},
                                opts=opts.merge(container_options(*deps)))


def signal_script(container: str, signal: str) -> str:
    """``docker kill --signal SIGNAL`` if the container runs; a stopped one reads its files on start.

    Prometheus' PID 1 ignores a SIGHUP that arrives before it installed its handler
    (a just-created container), so running this right after a create is harmless.
    """
    running = shlex.join(runner.running_argv(container))
    kill = shlex.join(docker_cli.kill_argv(container, signal))
    return f'if [ "$({running} 2>/dev/null)" = true ]; then {kill}; fi'


def declare_monitoring(name: str, args: MonitoringStackArgs,
                       opts: ResourceOptions | None = None) -> MonitoringStack | None:
    """The stack when ``monitoring.enabled``; otherwise ``None`` and no resources at all."""
    if not args.config.monitoring.enabled:
        return None
    return MonitoringStack(name, args, opts)
