"""togather:backup: defaults, secrets that must be encrypted, and every bad value named with its fix."""

from __future__ import annotations

from typing import Any

import pytest

from togather_deploy.config.model import load_config
from togather_deploy.errors import EXIT_CONFIG, ConfigError

MINIMAL = {"image": "ghcr.io/togather-foundation/server", "blue": {"version": "v1.0.0"},
           "environment": "development"}
PASSWORD = "correct horse battery staple"


def load(backup: Any, secret_keys: tuple[str, ...] = ("backup",)) -> Any:
    return load_config({**MINIMAL, "backup": backup}, project="togather-deploy", stack="t",
                       project_dir="/srv/deploy", secret_keys=secret_keys).backup


def error(backup: Any, secret_keys: tuple[str, ...] = ("backup",)) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load(backup, secret_keys)
    assert info.value.exit_code == EXIT_CONFIG
    assert info.value.key and info.value.key.startswith("backup")
    assert info.value.fix
    return info.value


def test_absent_means_no_backup() -> None:
    assert load_config(MINIMAL, project="p", stack="t", project_dir="/srv").backup is None
    assert load({}) is None
    assert load({"password": PASSWORD}) is None  # set before the repository: not configured yet


def test_defaults_and_relative_local_path() -> None:
    b = load({"repository": "backups/repo", "password": PASSWORD})
    assert b.repository == "/srv/deploy/backups/repo" and b.is_local
    assert (b.time, b.hour_minute, b.keep_daily, b.keep_weekly, b.keep_monthly) == ("03:30", (3, 30), 7, 4, 6)
    assert b.verify_every == "weekly" and b.required_before_release is False
    assert PASSWORD not in repr(b)


def test_remote_backend_with_credentials_strings_from_pulumi() -> None:
    b = load({"repository": "s3:https://s3.example.org/bucket/togather", "password": PASSWORD,
              "credentials": {"AWS_ACCESS_KEY_ID": "id", "AWS_SECRET_ACCESS_KEY": "key"},
              "time": "22:05", "keepDaily": "3", "verifyEvery": "daily", "requiredBeforeRelease": "true"})
    assert not b.is_local and b.credentials["AWS_ACCESS_KEY_ID"] == "id"
    assert (b.hour_minute, b.keep_daily, b.verify_every) == ((22, 5), 3, "daily")
    assert b.required_before_release is True
    assert "key" not in repr(b).replace("keep", "")


def test_password_encrypted_in_the_stack_file_may_be_absent() -> None:
    """An operator script reads the stack file without the engine: the encrypted leaf is left out."""
    b = load({"repository": "rest:http://127.0.0.1:8000/"}, secret_keys=("backup.password",))
    assert b.password is None and "backup.password" in b.encrypted


def test_plain_text_password_is_refused_without_echoing_it() -> None:
    e = error({"repository": "/srv/repo", "password": PASSWORD}, secret_keys=())
    assert e.key == "backup.password" and PASSWORD not in str(e) and "--secret" in (e.fix or "")


def test_plain_text_credential_is_refused() -> None:
    e = error({"repository": "/srv/repo", "password": PASSWORD,
               "credentials": {"B2_ACCOUNT_KEY": "k3y-value"}}, secret_keys=("backup.password",))
    assert e.key == "backup.credentials.B2_ACCOUNT_KEY" and "k3y-value" not in str(e)


@pytest.mark.parametrize(("backup", "key", "words"), [
    ({"password": PASSWORD, "time": "03:00"}, "backup.repository", "required"),
    ({"repository": "/srv/repo"}, "backup.password", "required"),
    ({"repository": "/srv/repo", "password": "short"}, "backup.password", "12 characters"),
    ({"repository": "ftp:host/x", "password": PASSWORD}, "backup.repository", "unknown restic backend"),
    ({"repository": "s3:", "password": PASSWORD}, "backup.repository", "no location"),
    ({"repository": "--no-lock", "password": PASSWORD}, "backup.repository", "restic repository"),
    ({"repository": "/srv/repo", "password": PASSWORD, "time": "3:30"}, "backup.time", "HH:MM"),
    ({"repository": "/srv/repo", "password": PASSWORD, "time": "24:00"}, "backup.time", "HH:MM"),
    ({"repository": "/srv/repo", "password": PASSWORD, "keepDaily": 0}, "backup.keepDaily", "≥ 1"),
    ({"repository": "/srv/repo", "password": PASSWORD, "verifyEvery": "hourly"}, "backup.verifyEvery",
     "daily | weekly"),
    ({"repository": "/srv/repo", "password": PASSWORD, "credentials": {"RESTIC_PASSWORD": "x"}},
     "backup.credentials.RESTIC_PASSWORD", "backend variable"),
    ({"repository": "/srv/repo", "password": PASSWORD, "keepYearly": 2}, "backup.keepYearly", "unknown key"),
])
def test_bad_values_name_key_and_fix(backup: dict[str, Any], key: str, words: str) -> None:
    e = error(backup)
    assert e.key == key and words in str(e)
    assert PASSWORD not in str(e)
