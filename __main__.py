"""togather-deploy: the Pulumi program. Load config, declare the stack in release order, export.

Release order (each step depends on the one before):
  Database → DbSnapshot → Migrations → AppSlot (new colour) → HealthGate → TrafficSwitch
"""

import pulumi
import pulumi_docker as docker

from components.app_secrets import AppSecrets, AppSecretsArgs
from components.app_slot import AppSlot, AppSlotArgs
from components.database import Database, DatabaseArgs
from components.guard import LiveSlotGuard
from components.router import NginxRouter, NginxRouterArgs
from components.stack_config import from_pulumi_runtime

# 1. Config: validated once, before any resource is declared.
cfg = from_pulumi_runtime()

# 2. The private network every container joins.
network = docker.Network(
    "network", name=cfg.network_name,
    labels=[docker.NetworkLabelArgs(label="togather.stack", value=cfg.stack)])

# 3. Secrets shared by both colours, and the database.
app_secrets = AppSecrets("app-secrets", AppSecretsArgs(cfg))
database = Database("database", DatabaseArgs(cfg, network))

# 4. The live colour is immutable: refuse, at preview, an update that would replace it.
guard = LiveSlotGuard("live-slot-guard", cfg)

# 5. The slots: one container per colour that has a version.
slot_secrets = {
    "DATABASE_URL": database.internal_url,
    "JWT_SECRET": app_secrets.jwt_secret,
    "CSRF_KEY": app_secrets.csrf_key,
    **{k: pulumi.Output.secret(v) for k, v in cfg.secrets.app_secrets.items()},
}
slots = {
    color: AppSlot(f"app-{color}", AppSlotArgs(cfg, color, network, slot_secrets, depends_on=[guard]))
    for color in cfg.deployed_colors
}

# 6. The router: on the public port, independent of the active colour.
router = NginxRouter("router", NginxRouterArgs(cfg, network))

# 7. Outputs: `pulumi stack output` is how operators and scripts read the stack.
pulumi.export("activeColor", cfg.active_color)
pulumi.export("versions", {c: cfg.slot(c).version for c in cfg.deployed_colors})
pulumi.export("publicUrl", f"http://{cfg.domain if cfg.domain != '_' else 'localhost'}:{cfg.public_port}")
pulumi.export("previewUrl", f"http://127.0.0.1:{cfg.router.preview_port}")
pulumi.export("slotUrls", {c: s.host_url for c, s in slots.items()})
pulumi.export("databaseHostUrl", database.host_url)
pulumi.export("stateDir", cfg.state_dir)
pulumi.export("snapshotDir", cfg.snapshots.dir)
