"""The host's scheduled jobs as data, and the ``/etc/cron.d/togather-<stack>`` file they become.

A ``ScheduledJob`` is a name, a 5-field cron schedule (host local time), an argv run from the
project directory, and a description. ``render_cron`` turns a stack's jobs into the text of one
cron.d file: each line runs as root, from the project directory, under ``flock -n`` (a run still
going when the next one is due is skipped, not doubled), with its output appended to
``<stateDir>/backup/logs/<job>.log`` (the job's ``log_dir``). Arguments are shell-quoted and
``%`` escaped (cron reads a bare ``%`` as a newline). ``stack_jobs`` is every job of a stack: the
backup's and the HTTPS renewal's (``cert_jobs``), in the same file.

``backup_jobs`` gives the backup's jobs: the daily snapshot at ``backup.time`` plus a jitter
derived from the stack name (0–29 min, so two stacks or two nodes sharing a repository do not
start together), the upload 15 min later, the restore drill 45 min later on the ``verifyEvery``
cadence. ``next_run`` answers "when next?" for ``scripts/status``. Pure: no disk, no clock.
"""

from __future__ import annotations

import hashlib
import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from togather_deploy.config.model import DeployConfig
from togather_deploy.errors import ConfigError

CRON_DIR = "/etc/cron.d"
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
JOB_NAME = r"[a-z][a-z0-9-]{0,62}"
_FIELD = r"\*|[0-9]{1,2}(,[0-9]{1,2})*"
"""``*`` or a comma list of numbers: what the backup and HTTPS renewal jobs use (``3,15``)."""
LIMITS = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7))
JITTER_SPREAD_MIN = 30
DRILL_DAYS = {"daily": ("*", "*"), "weekly": ("*", "0"), "monthly": ("1", "*")}
"""verifyEvery → (day of month, day of week): weekly on Sunday, monthly on the 1st."""


@dataclass(frozen=True)
class ScheduledJob:
    name: str
    schedule: str
    """``minute hour day-of-month month day-of-week``: ``*`` or comma-separated numbers per field."""
    argv: tuple[str, ...]
    description: str
    lock_dir: str = "backup"
    """Under the state dir: ``<lock_dir>/<name>.lock`` (``flock -n``)."""
    log_dir: str = "backup/logs"
    """Under the state dir: ``<log_dir>/<name>.log``. Both must exist (``HostDirs`` or the
    backup's ``ConfigFiles`` make them): cron's shell fails a redirect into a missing directory."""

    def __post_init__(self) -> None:
        if not re.fullmatch(JOB_NAME, self.name):
            raise ConfigError(f"scheduled job name {self.name!r} must match {JOB_NAME}", key="schedule")
        fields = self.schedule.split()
        if len(fields) != 5 or not all(
                re.fullmatch(_FIELD, v) and (v == "*" or all(lo <= int(n) <= hi for n in v.split(",")))
                for v, (lo, hi) in zip(fields, LIMITS, strict=True)):
            raise ConfigError(f"job {self.name}: {self.schedule!r} is not a 5-field schedule of "
                              "numbers or *", key="schedule")
        if not self.argv or any(not a or any(c in a for c in "\n\r\x00") for a in self.argv):
            raise ConfigError(f"job {self.name}: argv must be non-empty strings on one line", key="schedule")


def cron_file_name(stack: str) -> str:
    """cron ignores file names with dots or other characters outside ``[A-Za-z0-9_-]``."""
    return "togather-" + re.sub(r"[^A-Za-z0-9_-]", "_", stack)


def jitter_minutes(stack: str, spread: int = JITTER_SPREAD_MIN) -> int:
    return int(hashlib.sha256(stack.encode()).hexdigest(), 16) % spread


def _at(hour: int, minute: int, plus: int, dom: str = "*", dow: str = "*") -> str:
    total = (hour * 60 + minute + plus) % (24 * 60)  # past midnight wraps (same day fields)
    return f"{total % 60} {total // 60} {dom} * {dow}"


def backup_jobs(cfg: DeployConfig, script_dir: str = "scripts") -> list[ScheduledJob]:
    b = cfg.backup
    if b is None:
        return []
    hour, minute = b.hour_minute
    jitter = jitter_minutes(cfg.stack)
    stack = ("--stack", cfg.stack)
    jobs = [
        ScheduledJob("snapshot", _at(hour, minute, jitter), (f"{script_dir}/backup", "snapshot", *stack),
                     "daily local snapshot, then local retention (snapshots.retentionDays)"),
        ScheduledJob("backup", _at(hour, minute, jitter + 15), (f"{script_dir}/backup", "run", *stack),
                     "off-host copy with restic, then repository retention (keepDaily/Weekly/Monthly)"),
    ]
    if b.verify_every != "never":
        dom, dow = DRILL_DAYS[b.verify_every]
        jobs.append(ScheduledJob("drill", _at(hour, minute, jitter + 45, dom, dow),
                                 (f"{script_dir}/backup", "drill", *stack),
                                 f"restore drill ({b.verify_every}): newest copy into a scratch database"))
    return jobs


def cert_jobs(cfg: DeployConfig, script_dir: str = "scripts") -> list[ScheduledJob]:
    """``cert renew`` twice a day (a no-op until 30 days are left) with ``tls.mode`` acme: at a
    minute and hour derived from the stack name, so nodes do not all knock at the CA at once
    (Let's Encrypt asks clients not to renew on the hour). Logs in ``<stateDir>/logs``."""
    if cfg.tls.mode != "acme":
        return []
    digest = int.from_bytes(hashlib.sha256(cfg.stack.encode()).digest()[:4], "big")
    minute, hour = digest % 60, (digest // 60) % 12
    return [ScheduledJob("cert-renew", f"{minute} {hour},{hour + 12} * * *",
                         (f"{script_dir}/cert", "renew", cfg.stack),
                         f"renew the HTTPS certificate of {', '.join(cfg.tls.domains)} "
                         "30 days before it expires", lock_dir="locks", log_dir="logs")]


def stack_jobs(cfg: DeployConfig, script_dir: str = "scripts") -> list[ScheduledJob]:
    """Every scheduled job of the stack: one cron file holds them all."""
    return backup_jobs(cfg, script_dir) + cert_jobs(cfg, script_dir)


def _escape(text: str) -> str:
    return text.replace("%", "\\%")


def cron_line(job: ScheduledJob, *, project_dir: str, lock_dir: str, log_dir: str, user: str = "root") -> str:
    lock = shlex.quote(f"{lock_dir}/{job.name}.lock")
    log = shlex.quote(f"{log_dir}/{job.name}.log")
    command = (f"cd {shlex.quote(project_dir)} && flock -n {lock} {shlex.join(job.argv)} "
               f">> {log} 2>&1")
    return f"{job.schedule} {user} {_escape(command)}"


def render_cron(stack: str, jobs: Sequence[ScheduledJob], *, project_dir: str, state_dir: str) -> str:
    """The cron.d file (mode 0644, owned by root: cron ignores it otherwise)."""
    lines = [f"# togather-deploy stack {stack}: installed by `pulumi up`, removed by `pulumi destroy`.",
             "# Edits are overwritten; change togather:backup or togather:tls instead.",
             "SHELL=/bin/sh", f"PATH={PATH}", ""]
    for job in jobs:
        lines += [f"# {job.name}: {job.description}",
                  cron_line(job, project_dir=project_dir, lock_dir=f"{state_dir}/{job.lock_dir}",
                            log_dir=f"{state_dir}/{job.log_dir}")]
    return "\n".join(lines) + "\n"  # cron ignores a last line without its newline


def next_run(schedule: str, after: datetime) -> datetime:
    """The first minute strictly after ``after`` that ``schedule`` matches (local, naive ok)."""
    minute, hour, dom, month, dow = schedule.split()

    def hit(field: str, value: int, modulo: int = 0) -> bool:
        return field == "*" or any((int(n) % modulo if modulo else int(n)) == value for n in field.split(","))

    t = after.replace(second=0, microsecond=0) + timedelta(minutes=1)
    for _ in range(366 * 24 * 60):
        cron_dow = (t.weekday() + 1) % 7  # cron: 0 (or 7) is Sunday
        if (hit(minute, t.minute) and hit(hour, t.hour) and hit(dom, t.day) and hit(month, t.month)
                and hit(dow, cron_dow, 7)):
            return t
        t += timedelta(minutes=1)
    raise ConfigError(f"schedule {schedule!r} never fires", key="schedule")
