"""``BackupSecrets``: what the scheduled backup jobs read, installed by ``pulumi up``.

Two children, and nothing when ``togather:backup`` is not set. ``<name>-configured``:
``<stateDir>/metrics/togather_backup_config.prom`` (``togather_backup_configured 1``), so the
``BackupNeverRan`` alert notices a schedule that never runs. ``<name>-secrets``
(``ConfigFiles``, 0600 files in ``<stateDir>/backup``): the restic password, the backend
credentials and the database URL, so the jobs (``components.host_jobs``: daily snapshot,
off-host copy, restore drill) run without the Pulumi passphrase. Secret inputs: never shown
in a diff or an error. ``pulumi destroy`` removes the files; the snapshots and the
repository are never touched.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi import ComponentResource, Output, ResourceOptions

from components.providers.monitoring_files import ConfigFiles
from togather_deploy.config.model import DeployConfig
from togather_deploy.errors import ConfigError
from togather_deploy.ops import backup_files
from togather_deploy.render import backup_rules


@dataclass
class BackupSecretsArgs:
    config: DeployConfig
    database_url: pulumi.Input[str]
    depends_on: Sequence[pulumi.Resource] = field(default_factory=list)


class BackupSecrets(ComponentResource):
    def __init__(self, name: str, args: BackupSecretsArgs, opts: ResourceOptions | None = None) -> None:
        super().__init__("togather:deploy:BackupSecrets", name, None,
                         ResourceOptions.merge(opts, ResourceOptions(depends_on=list(args.depends_on))))
        child = ResourceOptions(parent=self)
        cfg = args.config
        b = cfg.backup
        if b is None or b.password is None:
            raise ConfigError("backup.password: is required (the restic repository's password)",
                              key="backup.password",
                              fix="pulumi config set --secret --path togather:backup.password VALUE")
        creds = "".join(f"{k}={v}\n" for k, v in sorted(b.credentials.items()))
        files: Any = Output.from_input({"password": b.password, "credentials.env": creds,
                                        "database-url": Output.concat(args.database_url, "\n")})
        self.secrets = ConfigFiles(f"{name}-secrets", directory=backup_files.backup_dir(cfg.state_dir),
                                   files=files, mode=0o600, secret=True, opts=child)
        # what BackupNeverRan watches: a job that never runs publishes nothing of its own
        self.configured = ConfigFiles(
            f"{name}-configured", directory=cfg.layout.metrics,
            files={backup_rules.CONFIGURED_FILE: f"# TYPE {backup_rules.CONFIGURED_METRIC} gauge\n"
                                                 f"{backup_rules.CONFIGURED_METRIC} 1\n"},
            mode=0o644, opts=child)
        self.register_outputs({"directory": backup_files.backup_dir(cfg.state_dir)})


def declare_backup(name: str, args: BackupSecretsArgs) -> BackupSecrets | None:
    return BackupSecrets(name, args) if args.config.backup is not None else None
