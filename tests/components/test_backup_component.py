"""The program with and without togather:backup: the cron file and the secret files it declares."""

from __future__ import annotations

from tests.support.program import is_secret, reveal, run_program, stack_config

PASSWORD = "a restic password that is long"


def test_no_backup_section_declares_nothing() -> None:
    result = run_program("dev")
    assert not result.of_type("togather:deploy:BackupSchedule")


def test_backup_declares_cron_file_and_secret_files() -> None:
    raw = stack_config("dev")
    result = run_program("dev", raw, secrets={"backup": {"repository": "rest:http://127.0.0.1:8000/",
                                                          "password": PASSWORD, "time": "02:10"}})
    component = result.of_type("togather:deploy:BackupSchedule")
    assert len(component) == 1
    cron = result.named("backup-cron")
    secrets = result.named("backup-secrets")
    assert cron.parent == secrets.parent
    assert cron.inputs["path"] == "/etc/cron.d/togather-dev"
    text = cron.inputs["text"]
    assert "scripts/backup snapshot --stack dev" in text and "scripts/backup run --stack dev" in text
    assert "scripts/backup drill --stack dev" in text and PASSWORD not in text
    assert is_secret(secrets.inputs["files"])
    files = reveal(secrets.inputs["files"])
    assert files["password"] == PASSWORD and secrets.inputs["mode"] == 0o600
    assert files["database-url"].startswith("postgres://togather:") and files["database-url"].endswith("\n")
