"""A value under a secret key is never shown by a config complaint: ``<secret>``, the key, the fix."""

from __future__ import annotations

from typing import Any

import pytest

from togather_deploy.config.model import load_config
from togather_deploy.config.secrets import is_secret
from togather_deploy.errors import EXIT_CONFIG, ConfigError

MINIMAL = {"image": "ghcr.io/togather-foundation/server", "blue": {"version": "v1.0.0"},
           "environment": "development"}
SECRET = "hunter2-Smtp-Pa55word"


def refused(raw: dict[str, Any], secret_keys: tuple[str, ...]) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load_config({**MINIMAL, **raw}, project="togather-deploy", stack="t", project_dir="/srv",
                    secret_keys=secret_keys)
    assert info.value.exit_code == EXIT_CONFIG
    return info.value


@pytest.mark.parametrize(("raw", "secret_keys", "key", "fix"), [
    # `pulumi config set --secret togather:appSecrets SMTP_PASSWORD=...` (forgot --path)
    ({"appSecrets": f"SMTP_PASSWORD={SECRET}"}, ("appSecrets",), "appSecrets",
     "pulumi config set --secret --path togather:appSecrets.NAME VALUE"),
    ({"appSecrets": {"SMTP_PASSWORD": [SECRET]}}, ("appSecrets",), "appSecrets.SMTP_PASSWORD",
     "--path togather:appSecrets.SMTP_PASSWORD"),
    ({"jwtSecret": [SECRET * 2]}, ("jwtSecret",), "jwtSecret", "--secret togather:jwtSecret"),
    # the engine marks the whole top-level key secret when a nested value is
    ({"notify": {"ntfyUrl": f"ftp://ntfy.sh/{SECRET}"}}, ("notify",), "notify.ntfyUrl",
     "--secret --path togather:notify.ntfyUrl"),
    ({"monitoring": {"ntfyUrl": f"ntfy.sh/{SECRET}"}}, ("monitoring.ntfyUrl",), "monitoring.ntfyUrl",
     "togather:monitoring.ntfyUrl"),
    ({"notify": f"{{not json {SECRET}"}, ("notify",), "notify", "togather:notify"),
])
def test_a_rejected_secret_value_is_never_shown(raw, secret_keys, key, fix) -> None:
    e = refused(raw, secret_keys)
    text = str(e)
    assert SECRET not in text and SECRET not in repr(e)
    assert f"{key}: must be" in text and "got <secret>" in text
    assert e.key == key and fix in text
    assert e.__cause__ is None and e.__suppress_context__


def test_a_plain_value_is_still_shown() -> None:
    e = refused({"notify": {"ntfyUrl": "ftp://ntfy.sh/topic"}}, ())
    assert "got 'ftp://ntfy.sh/topic'" in str(e)


@pytest.mark.parametrize(("key", "secret"), [
    ("jwtSecret", True), ("appSecrets.X", True), ("appSecretsX", False), ("notify.ntfyUrl", True),
    ("notify", False), ("notify.webhookUrl", False), ("a[0]", True), (None, False)])
def test_is_secret_covers_keys_below_a_secret(key, secret) -> None:
    assert is_secret(key, {"notify.ntfyUrl", "a"}) is secret
