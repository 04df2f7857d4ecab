"""``Pulumi.<stack>.yaml`` as the operator scripts read it: encrypted values at any depth."""

from __future__ import annotations

import pytest

from components.errors import ConfigError
from components.stack_config import from_stack_file, read_stack_file
from tests.support.fake_pulumi import write_stack

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
