"""What every scheduled backup job does when it ends: result file, metrics, audit, notification.

``finish`` records the job's result (``<stateDir>/backup/jobs/<job>.json``, read by
``scripts/status``), rewrites ``<stateDir>/metrics/togather_backup.prom`` from all the jobs'
results, appends ``backup.job_succeeded`` / ``backup.job_failed`` to the audit log and, on a
failure, notifies (ntfy/webhook; best effort, never raises). The metric names are a contract
with ``togather_deploy.render.backup_rules``:

    togather_backup_last_run_timestamp_seconds{backup_job}
    togather_backup_last_run_success{backup_job}                1 | 0
    togather_backup_last_success_timestamp_seconds{backup_job}  0 when it never succeeded
    togather_backup_last_duration_seconds{backup_job}
    togather_backup_last_bytes_added                            the last upload's new bytes
    togather_backup_last_bytes_processed                        what it read

The label is ``backup_job``: Prometheus owns ``job`` (the scrape job, ``node``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from togather_deploy.config.model import DeployConfig
from togather_deploy.hostfs import paths as host_paths
from togather_deploy.hostfs.atomic import atomic_write
from togather_deploy.ops import audit, notify
from togather_deploy.ops import backup_files as files

FILENAME = "togather_backup.prom"


def metrics_path(state_dir: str) -> str:
    return os.path.join(state_dir, "metrics", FILENAME)


def render(results: Mapping[str, files.JobResult | None], last_success: Mapping[str, float | None]) -> str:
    """The textfile for node-exporter (pure)."""
    lines: list[str] = []

    def family(name: str, help_text: str, samples: list[tuple[str, float]]) -> None:
        if not samples:
            return
        lines.extend([f"# HELP {name} {help_text}", f"# TYPE {name} gauge"])
        lines.extend(f"{name}{labels} {value:g}" if value != int(value) else f"{name}{labels} {int(value)}"
                     for labels, value in samples)

    done = {job: r for job, r in results.items() if r is not None}
    family("togather_backup_last_run_timestamp_seconds", "End of the job's last run.",
           [(f'{{backup_job="{j}"}}', r.finished_at) for j, r in done.items()])
    family("togather_backup_last_run_success", "1 when the job's last run succeeded.",
           [(f'{{backup_job="{j}"}}', 1.0 if r.ok else 0.0) for j, r in done.items()])
    family("togather_backup_last_success_timestamp_seconds", "Last success of the job (0: never).",
           [(f'{{backup_job="{j}"}}', last_success.get(j) or 0.0) for j in done])
    family("togather_backup_last_duration_seconds", "How long the job's last run took.",
           [(f'{{backup_job="{j}"}}', round(r.finished_at - r.started_at, 3)) for j, r in done.items()])
    upload = done.get("backup")
    facts = (upload.facts or {}) if upload and upload.ok else {}
    if "bytes_added" in facts:
        family("togather_backup_last_bytes_added", "New bytes the last successful upload sent.",
               [("", float(facts["bytes_added"]))])
        family("togather_backup_last_bytes_processed", "Bytes the last successful upload read.",
               [("", float(facts.get("bytes_processed", 0)))])
    return "\n".join(lines) + "\n"


def publish(state_dir: str) -> str:
    results = {job: files.last(state_dir, job) for job in files.JOBS}
    successes = {job: files.last_success(state_dir, job) for job in files.JOBS}
    path = metrics_path(state_dir)
    host_paths.ensure_dir(os.path.dirname(path), 0o755)  # the tool's own (a planted symlink is refused)
    atomic_write(path, render(results, successes), mode=0o644)  # node-exporter runs as another user
    return path


def finish(cfg: DeployConfig, job: str, *, started: float, ok: bool, detail: str, exit_code: int = 0,
           facts: Mapping[str, Any] | None = None, secrets: Sequence[str] = (),
           send: Any = notify.send) -> files.JobResult:
    """Record, publish, audit and (on failure) notify; returns the recorded result."""
    now = files.now()
    previous = files.last_success(cfg.state_dir, job)
    facts = {**(facts or {}), "last_success": now if ok else previous}
    result = files.JobResult(job=job, ok=ok, started_at=started, finished_at=now,
                             detail=audit.redact_text(detail, secrets), exit_code=exit_code, facts=facts)
    files.record(cfg.state_dir, result)
    publish(cfg.state_dir)
    event = audit.make_event("backup.job_succeeded" if ok else "backup.job_failed", stack=cfg.stack,
                             version=None, from_color=None, to_color=None,
                             error=None if ok else result.detail, exit_code=exit_code, job=job,
                             facts={k: v for k, v in facts.items() if k != "last_success"})
    audit.append(cfg.state_dir, event, secrets=secrets)
    if not ok:
        send(cfg.notify, notify.Notification(
            title=f"togather {cfg.stack}: scheduled {job} failed",
            message=f"{result.detail}\nThe local snapshots are kept; the next run catches up. "
                    f"scripts/status {cfg.stack} shows the jobs.",
            event=audit.redact(event, secrets), priority=4, tags=("warning", "floppy_disk")))
    return result
