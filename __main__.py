"""togather-deploy: the Pulumi program. Load config, declare the stack in release order, export.

Release order (each step depends on the one before):
  Database → DbSnapshot → Migrations → AppSlot (new colour) → HealthGate → TrafficSwitch
The router and its config files depend on nothing colour-specific; only the
TrafficSwitch knows which colour is live.
"""

import pulumi
import pulumi_docker as docker

from components.app_secrets import AppSecrets, AppSecretsArgs
from components.app_slot import AppSlot, AppSlotArgs
from components.backup import BackupSecretsArgs, declare_backup
from components.database import Database, DatabaseArgs
from components.db_lifecycle import declare_db_lifecycle
from components.host_dirs import HostDirs, HostDirsArgs
from components.host_jobs import HostJobsArgs, declare_host_jobs
from components.monitoring import MonitoringStackArgs, declare_monitoring
from components.providers.guard import LiveSlotGuard
from components.router import NginxRouter, NginxRouterArgs
from components.runtime_config import from_pulumi_runtime
from components.traffic import declare_traffic
from togather_deploy.render.nginx_tls import public_url

# 1. Config: validated once, before any resource is declared.
cfg = from_pulumi_runtime()

# 2. The private network every container joins: an explicit subnet, so each colour keeps its
#    address when replaced (the router pools connections to it); others get the ip_range half.
network = docker.Network(
    "network", name=cfg.network_name,
    ipam_configs=[docker.NetworkIpamConfigArgs(subnet=cfg.network.subnet, gateway=cfg.network.gateway,
                                               ip_range=cfg.network.ip_range)],
    labels=[docker.NetworkLabelArgs(label="togather.stack", value=cfg.stack)],
    # its name is fixed: a new subnet replaces it, and the old one must go first
    opts=pulumi.ResourceOptions(delete_before_replace=True))

# 3. The host directories (private state, snapshots; router config readable by nginx).
host = HostDirs("host-dirs", HostDirsArgs(cfg))

# 4. Secrets shared by both colours, and the database.
app_secrets = AppSecrets("app-secrets", AppSecretsArgs(cfg))
database = Database("database", DatabaseArgs(cfg, network))

# 5. The live colour is immutable: refuse, at preview, an update that would replace it
#    (its version, settings, or a secret it receives).
slot_secrets = {
    "DATABASE_URL": database.internal_url,
    "JWT_SECRET": app_secrets.jwt_secret,
    "CSRF_KEY": app_secrets.csrf_key,
    **{k: pulumi.Output.secret(v) for k, v in cfg.secrets.app_secrets.items()},
}
guard = LiveSlotGuard("live-slot-guard", cfg, secrets=slot_secrets)

# 6. A verified snapshot, then the migrations (listed and linted at preview).
snapshot, migrations = declare_db_lifecycle(
    "db", cfg, target_version=cfg.release_label, database_url=database.host_url,
    db_container_name=database.container_name, depends_on=[database, host])

# 7. The slots: one container per colour that has a version, after the migrations.
slots = {
    color: AppSlot(f"app-{color}", AppSlotArgs(cfg, color, network, slot_secrets,
                                               depends_on=[guard, migrations]))
    for color in cfg.deployed_colors
}

# 8. The router: on the public port; its config files and container never depend on the colour.
router = NginxRouter("router", NginxRouterArgs(cfg, network, depends_on=[host]))

# 9. Health gates per colour, then the verified switch to the active one.
gates, switch = declare_traffic("traffic", cfg, slots=slots, router=router)

# 10. Monitoring, only when enabled (nothing at all otherwise).
monitoring = declare_monitoring("monitoring", MonitoringStackArgs(
    cfg, network, admin_dsn=database.host_url, depends_on=[database, host]))

# 11. Off-host backups, only when configured: the 0600 files their jobs read (restic password,
#     credentials, database URL). Then the host's scheduled jobs (one cron.d file): the backup's,
#     and the HTTPS certificate's twice-daily renewal. Nothing at all without either.
backup = declare_backup("backup", BackupSecretsArgs(cfg, database.host_url, depends_on=[database, host]))
jobs = declare_host_jobs("schedule", HostJobsArgs(cfg, depends_on=[host, router, *filter(None, [backup])]))

# 12. Outputs: `pulumi stack output` is how operators and scripts read the stack.
pulumi.export("activeColor", cfg.active_color)
pulumi.export("versions", {c: cfg.slot(c).version for c in cfg.deployed_colors})
pulumi.export("publicUrl", public_url(cfg))
pulumi.export("previewUrl", f"http://127.0.0.1:{cfg.router.preview_port}")
pulumi.export("slotUrls", {c: s.host_url for c, s in slots.items()})
pulumi.export("databaseHostUrl", database.host_url)
pulumi.export("stateDir", cfg.state_dir)
pulumi.export("snapshotDir", cfg.snapshots.dir)
pulumi.export("snapshotPath", snapshot.path)
pulumi.export("migrationsApplied", migrations.applied)
pulumi.export("schemaVersion", migrations.schemaVersion)
if monitoring is not None:
    pulumi.export("grafanaUrl", monitoring.grafana_url)
    pulumi.export("prometheusUrl", monitoring.prometheus_url)
    pulumi.export("alertmanagerUrl", monitoring.alertmanager_url)
    pulumi.export("grafanaAdminPassword", monitoring.grafana_admin_password)
if jobs is not None:
    pulumi.export("cronFile", jobs.cron.path)
