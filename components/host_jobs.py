"""``HostJobs``: the stack's scheduled jobs, one ``/etc/cron.d/togather-<stack>`` file.

The jobs are ``togather_deploy.render.schedule.stack_jobs``: the backup's (snapshot, off-host
copy, restore drill) when ``togather:backup`` is set, and the twice-daily ``cert renew`` when
``tls.mode`` is acme, so a certificate is renewed by the host itself, not only when someone runs
``pulumi up``. One child, ``<name>-cron`` (``HostSchedule``); nothing at all without jobs.
``pulumi destroy`` removes the file, never what the jobs made.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi
from pulumi import ComponentResource, ResourceOptions

from components.providers.host_schedule import HostSchedule
from togather_deploy import ROOT
from togather_deploy.config.model import DeployConfig
from togather_deploy.render import schedule


@dataclass
class HostJobsArgs:
    config: DeployConfig
    project_dir: str = ROOT
    cron_dir: str = schedule.CRON_DIR
    depends_on: Sequence[pulumi.Resource] = field(default_factory=list)
    """What the jobs need first: the state directories, the backup's secret files."""


class HostJobs(ComponentResource):
    def __init__(self, name: str, args: HostJobsArgs, opts: ResourceOptions | None = None) -> None:
        super().__init__("togather:deploy:HostJobs", name, None,
                         ResourceOptions.merge(opts, ResourceOptions(depends_on=list(args.depends_on))))
        cfg = args.config
        text = schedule.render_cron(cfg.stack, schedule.stack_jobs(cfg), project_dir=args.project_dir,
                                    state_dir=cfg.state_dir)
        self.cron = HostSchedule(f"{name}-cron", path=os.path.join(args.cron_dir,
                                                                   schedule.cron_file_name(cfg.stack)),
                                 text=text, opts=ResourceOptions(parent=self))
        self.register_outputs({"cronFile": self.cron.path})


def declare_host_jobs(name: str, args: HostJobsArgs) -> HostJobs | None:
    return HostJobs(name, args) if schedule.stack_jobs(args.config) else None
