"""``BackupSchedule``: what ``pulumi up`` installs on the host for off-host backups.

Two children, and nothing when ``togather:backup`` is not set:

- ``<name>-secrets`` (``ConfigFiles``, 0600 files in ``<stateDir>/backup``): the restic
  password, the backend credentials and the database URL, so the scheduled jobs run without
  the Pulumi passphrase. Secret inputs: never shown in a diff or an error.
- ``<name>-cron`` (``HostSchedule``): ``/etc/cron.d/togather-<stack>`` with the daily
  snapshot, its off-host copy (plus retention on both sides) and the restore drill
  (``togather_deploy.render.schedule``).

``pulumi destroy`` removes both files; the snapshots and the repository are never touched.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi import ComponentResource, Output, ResourceOptions

from components.providers.host_schedule import HostSchedule
from components.providers.monitoring_files import ConfigFiles
from togather_deploy import ROOT
from togather_deploy.config.model import DeployConfig
from togather_deploy.errors import ConfigError
from togather_deploy.ops import backup_files
from togather_deploy.render import schedule


@dataclass
class BackupScheduleArgs:
    config: DeployConfig
    database_url: pulumi.Input[str]
    project_dir: str = ROOT
    cron_dir: str = schedule.CRON_DIR
    depends_on: Sequence[pulumi.Resource] = field(default_factory=list)


class BackupSchedule(ComponentResource):
    def __init__(self, name: str, args: BackupScheduleArgs, opts: ResourceOptions | None = None) -> None:
        super().__init__("togather:deploy:BackupSchedule", name, None,
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
        text = schedule.render_cron(cfg.stack, schedule.backup_jobs(cfg), project_dir=args.project_dir,
                                    state_dir=cfg.state_dir)
        self.cron = HostSchedule(f"{name}-cron", path=os.path.join(args.cron_dir,
                                                                   schedule.cron_file_name(cfg.stack)),
                                 text=text, opts=child)
        self.register_outputs({"cronFile": self.cron.path})


def declare_backup(name: str, args: BackupScheduleArgs) -> BackupSchedule | None:
    return BackupSchedule(name, args) if args.config.backup is not None else None
