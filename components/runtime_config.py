"""The stack config as the Pulumi engine hands it to the program: ``from_pulumi_runtime``.

The one place config meets the engine; everything after it is ``togather_deploy.config``.
"""

from __future__ import annotations

import os
from typing import Any

import pulumi
from pulumi.runtime import config as rc

from togather_deploy.config.model import DeployConfig, load_config
from togather_deploy.config.source import strip_namespace
from togather_deploy.errors import ConfigError


def from_pulumi_runtime() -> DeployConfig:
    """Inside ``pulumi up``/``preview`` (or the mocks): the engine's decrypted config."""
    merged: dict[str, Any] = {**rc.get_config_env(), **rc.CONFIG.get()}
    raw: dict[str, Any] = {}
    secret: set[str] = set()
    secret_full = set(rc.get_config_secret_keys_env())
    for full, value in merged.items():
        key = strip_namespace(full)
        if key is None:
            continue
        raw[key] = value
        if full in secret_full or rc.is_config_secret(full):
            secret.add(key)
    try:
        return load_config(raw, project=pulumi.get_project(), stack=pulumi.get_stack(),
                           project_dir=os.getcwd(), secret_keys=secret)
    except ConfigError as exc:
        # RunError: the engine shows the message (key, value or <secret>, fix) and no traceback
        raise pulumi.RunError(str(exc)) from None
