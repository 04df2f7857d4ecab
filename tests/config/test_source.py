"""``Pulumi.<stack>.yaml`` as the operator scripts read it: encrypted values at any depth."""

from __future__ import annotations

import json

import pytest

from testkit.fake_pulumi import write_stack
from togather_deploy.config.source import from_stack_file, read_stack_file
from togather_deploy.errors import ConfigError

BASE = {"environment": "development", "image": "ghcr.io/togather-foundation/server",
        "blue": {"version": "v1.0.0"}}
CIPHER = {"secure": "v1:AAABAJlJb0hMdyq8yqJ0c2VjcmV0"}


def test_secure_values_are_recognised_at_any_depth(tmp_path) -> None:
    # what `pulumi config set --secret --path togather:appSecrets.SMTP_PASSWORD ...` writes
    write_stack(str(tmp_path), "t", {**BASE, "jwtSecret": CIPHER,
                                     "appSecrets": {"SMTP_PASSWORD": CIPHER},
                                     "notify": {"ntfyUrl": CIPHER, "retries": 1},
                                     "monitoring": {"ntfyUrl": CIPHER}})
    raw, encrypted = read_stack_file(str(tmp_path), "t")
    assert encrypted == {"jwtSecret", "appSecrets.SMTP_PASSWORD", "notify.ntfyUrl",
                         "monitoring.ntfyUrl"}
    assert "secure" not in str(raw)
    cfg = from_stack_file(str(tmp_path), "t")
    assert cfg.notify.retries == 1 and cfg.notify.ntfy_url is None
    assert dict(cfg.secrets.app_secrets) == {}


def test_a_plain_value_next_to_an_encrypted_one_is_still_refused(tmp_path) -> None:
    write_stack(str(tmp_path), "t", {**BASE, "appSecrets": {"A": CIPHER, "B": "plain-text"}})
    with pytest.raises(ConfigError, match="appSecrets: values must be stored as secrets"):
        from_stack_file(str(tmp_path), "t")


def test_the_engine_supplies_the_secret_values(tmp_path) -> None:
    from togather_deploy.config.source import with_engine_secrets

    write_stack(str(tmp_path), "t", {**BASE, "appSecrets": {"SMTP_PASSWORD": CIPHER},
                                     "notify": {"ntfyUrl": CIPHER, "retries": 1}})
    engine = json.dumps({  # what `pulumi config --show-secrets --json` prints
        "togather:appSecrets": {"value": '{"SMTP_PASSWORD":"smtp-pw-1234"}', "secret": True,
                                "objectValue": {"SMTP_PASSWORD": "smtp-pw-1234"}},
        "togather:notify": {"value": '{"ntfyUrl":"https://ntfy.sh/t0p1c-secret","retries":1}',
                            "secret": True},
        "togather:image": {"value": "ignored-plain-values-come-from-the-file", "secret": False}})
    cfg, values = with_engine_secrets(str(tmp_path), "t", engine)
    assert cfg.secrets.app_secrets == {"SMTP_PASSWORD": "smtp-pw-1234"}
    assert cfg.notify.ntfy_url == "https://ntfy.sh/t0p1c-secret" and cfg.notify.retries == 1
    assert cfg.image == BASE["image"]
    assert {"smtp-pw-1234", "https://ntfy.sh/t0p1c-secret"} <= set(values)
    with pytest.raises(ConfigError, match="did not print a JSON object"):
        with_engine_secrets(str(tmp_path), "t", "")
