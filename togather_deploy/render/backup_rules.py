"""The off-host backup alerts, appended to the catalogue of ``togather_deploy.render.alert_rules``.

They read the textfile ``<stateDir>/metrics/togather_backup.prom`` the scheduled jobs write
(``togather_deploy.ops.backup_jobs``); without a backup configured the series do not exist and
the rules stay silent. A job that never succeeded publishes a last-success time of 0, so
BackupTooOld fires for it too. Pure data.
"""

from __future__ import annotations

from collections.abc import Mapping

MAX_AGE_HOURS = 36
"""A daily job: one missed run (24 h) plus 12 h of slack before anyone is paged."""

DURATIONS: Mapping[str, str] = {
    "BackupTooOld": "30m",
    "BackupFailed": "5m",
    "RestoreDrillFailed": "5m",
}

# (name, expr, severity, summary, description)
RULES: tuple[tuple[str, str, str, str, str], ...] = (
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
