"""The scheduled jobs as ``scripts/status`` shows them: last run, its result, next run.

Last run and result come from the file each job writes when it ends
(``togather_deploy.ops.backup_files``); the next run from the schedule ``pulumi up`` installed
(``togather_deploy.render.schedule``), in the host's local time like cron. Empty without
``togather:backup``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from togather_deploy.config.model import DeployConfig
from togather_deploy.ops import backup_files as files
from togather_deploy.render import schedule


def jobs(cfg: DeployConfig, now: float) -> tuple[dict[str, Any], ...]:
    out = []
    for job in schedule.backup_jobs(cfg):
        last = files.last(cfg.state_dir, job.name)
        nxt = schedule.next_run(job.schedule, datetime.fromtimestamp(now))
        out.append({"job": job.name, "schedule": job.schedule,
                    "last_run": last.finished_at if last else None,
                    "result": None if last is None else ("ok" if last.ok else "FAILED"),
                    "detail": last.detail if last else "never ran",
                    "next_run": nxt.strftime("%Y-%m-%d %H:%M (host local time)")})
    return tuple(out)
