"""The program with and without togather:backup and ACME: the cron file and the secret files."""

from __future__ import annotations

from testkit.program import is_secret, reveal, run_program, stack_config

PASSWORD = "a restic password that is long"


def test_no_backup_section_declares_nothing() -> None:
    result = run_program("dev")
    assert not result.of_type("togather:deploy:BackupSecrets")
    assert not result.of_type("togather:deploy:HostJobs")  # dev has no backup and no ACME


def test_backup_declares_cron_file_and_secret_files() -> None:
    raw = stack_config("dev")
    result = run_program("dev", raw, secrets={"backup": {"repository": "rest:http://127.0.0.1:8000/",
                                                          "password": PASSWORD, "time": "02:10"}})
    assert len(result.of_type("togather:deploy:BackupSecrets")) == 1
    cron = result.named("schedule-cron")
    secrets = result.named("backup-secrets")
    assert cron.inputs["path"] == "/etc/cron.d/togather-dev"
    text = cron.inputs["text"]
    assert "scripts/backup snapshot --stack dev" in text and "scripts/backup run --stack dev" in text
    assert "scripts/backup drill --stack dev" in text and PASSWORD not in text
    assert is_secret(secrets.inputs["files"])
    files = reveal(secrets.inputs["files"])
    assert files["password"] == PASSWORD and secrets.inputs["mode"] == 0o600
    assert files["database-url"].startswith("postgres://togather:") and files["database-url"].endswith("\n")
    configured = result.named("backup-configured")  # what BackupNeverRan watches
    assert configured.inputs["directory"].endswith("/metrics") and configured.inputs["mode"] == 0o644
    assert reveal(configured.inputs["files"]) == {"togather_backup_config.prom": (
        "# TYPE togather_backup_configured gauge\ntogather_backup_configured 1\n")}


def test_acme_without_backup_still_schedules_the_certificate_renewal() -> None:
    raw = {**stack_config("dev"), "environment": "production", "domain": "events.example.org",
           "tls": {"mode": "acme", "email": "ops@example.org"},
           "appEnv": {"CORS_ALLOWED_ORIGINS": "https://events.example.org"}}
    result = run_program("dev", raw)
    assert not result.of_type("togather:deploy:BackupSecrets")
    text = result.named("schedule-cron").inputs["text"]
    assert "scripts/cert renew dev" in text and "scripts/backup" not in text
