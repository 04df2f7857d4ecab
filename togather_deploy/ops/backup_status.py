"""The scheduled jobs as ``scripts/status`` shows them: last run, its result, next run.

Last run and result come from the file each job writes when it ends
(``togather_deploy.ops.backup_files``); the next run from the schedule ``pulumi up`` installed
(``togather_deploy.render.schedule``), in the host's local time like cron. Empty without
``togather:backup``. ``release_gate`` is ``backup.requiredBeforeRelease``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from togather_deploy.config.model import DeployConfig
from togather_deploy.errors import DeployError
from togather_deploy.ops import backup_files as files
from togather_deploy.render import schedule
from togather_deploy.render.backup_rules import MAX_AGE_HOURS


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


def release_gate(cfg: DeployConfig, now: float) -> None:
    """With ``backup.requiredBeforeRelease``: refuse a release (before the lock, nothing changed)
    unless the last off-host copy succeeded within ``MAX_AGE_HOURS``. Otherwise a backup never
    blocks a release."""
    b = cfg.backup
    if b is None or not b.required_before_release:
        return
    last = files.last(cfg.state_dir, "backup")
    success = files.last_success(cfg.state_dir, "backup")
    if last is not None and last.ok and success is not None and now - success <= MAX_AGE_HOURS * 3600:
        return
    why = "it never succeeded" if success is None else (
        f"the last run failed: {last.detail}" if last is not None and not last.ok
        else f"the last success is {int((now - success) // 3600)} h old")
    raise DeployError(f"backup.requiredBeforeRelease: no recent off-host backup ({why})",
                      key="backup.requiredBeforeRelease",
                      fix=f"scripts/backup snapshot --stack {cfg.stack} && "
                          f"scripts/backup run --stack {cfg.stack} "
                          "(or set togather:backup.requiredBeforeRelease false)")
