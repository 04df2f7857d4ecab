"""The off-host backup alerts, appended to the catalogue of ``togather_deploy.render.alert_rules``.

They read the textfile ``<stateDir>/metrics/togather_backup.prom`` the scheduled jobs write
(``togather_deploy.ops.backup_jobs``); without a backup configured the series do not exist and
the rules stay silent. A job that never succeeded publishes a last-success time of 0, so
BackupTooOld fires for it too; a job that never ran at all publishes nothing, so
BackupNeverRan watches ``togather_backup_configured`` (written by ``pulumi up``). Pure data.
"""

from __future__ import annotations

from collections.abc import Mapping

MAX_AGE_HOURS = 36
"""A daily job: one missed run (24 h) plus 12 h of slack before anyone is paged."""

NEVER_RAN_HOURS = 26
"""The first daily copy comes within 24 h 45 min of ``pulumi up`` (``render.schedule``)."""
CONFIGURED_FILE = "togather_backup_config.prom"
"""``<stateDir>/metrics/…``: ``togather_backup_configured 1``, written by ``pulumi up`` while
``togather:backup`` is set (``components.backup``), removed with it."""
CONFIGURED_METRIC = "togather_backup_configured"

DURATIONS: Mapping[str, str] = {
    "BackupNeverRan": f"{NEVER_RAN_HOURS}h",
    "BackupTooOld": "30m",
    "BackupFailed": "5m",
    "RestoreDrillFailed": "5m",
}

# (name, expr, severity, summary, description)
RULES: tuple[tuple[str, str, str, str, str], ...] = (
    ("BackupNeverRan",
     f"{CONFIGURED_METRIC} == 1"
     ' unless on() togather_backup_last_run_timestamp_seconds{backup_job="backup"}',
     "warning", f"A backup is configured but its job has not run once in {NEVER_RAN_HOURS} hours",
     "`pulumi up` installed the schedule, yet no off-host copy has run (not even a failing one): "
     "cron is not running, or /etc/cron.d/togather-STACK is missing. Check `systemctl status "
     "cron` and `scripts/status STACK`, then run `scripts/backup run --stack STACK` by hand."),
    ("BackupTooOld",
     'time() - togather_backup_last_success_timestamp_seconds{backup_job="backup"}'
     f" > {MAX_AGE_HOURS * 3600}",
     "warning", f"No successful off-host backup in the last {MAX_AGE_HOURS} hours",
     "The last copy to the restic repository that succeeded is {{ $value | humanizeDuration }} old. "
     "Run `scripts/backup run --stack STACK` and read its message; check the repository "
     "(network, credentials, space) and <stateDir>/backup/logs/backup.log."),
    ("BackupFailed",
     'togather_backup_last_run_success{backup_job=~"backup|snapshot"} == 0',
     "warning", "The scheduled {{ $labels.backup_job }} job failed",
     "Its last run failed; the local snapshot is kept and the next run catches up. "
     "`scripts/status STACK` shows the error, `scripts/backup check --stack STACK` tests the "
     "repository; see <stateDir>/backup/logs/{{ $labels.backup_job }}.log."),
    ("RestoreDrillFailed",
     'togather_backup_last_run_success{backup_job="drill"} == 0',
     "critical", "The restore drill could not restore the newest off-host copy",
     "The newest copy in the repository did not restore identically into a scratch database: "
     "it may be unusable when you need it. Run `scripts/backup drill --stack STACK` to see which "
     "table or checksum differs, then take and upload a fresh snapshot (docs/alerts.md)."),
)
