"""Where the raw ``togather:`` config comes from: the Pulumi runtime or a stack file.

Both paths end in ``components.config.load_config``; this module only collects.
"""

from __future__ import annotations

import json
import os
from typing import Any

import yaml

from components.config import DeployConfig, load_config
from components.errors import ConfigError

NAMESPACE = "togather"
PROJECT = "togather-deploy"


def _strip(key: str) -> str | None:
    prefix = NAMESPACE + ":"
    return key[len(prefix):] if key.startswith(prefix) else None


def from_pulumi_runtime() -> DeployConfig:
    """Inside ``pulumi up``/``preview`` (or the mocks): the engine's decrypted config."""
    import pulumi
    from pulumi.runtime import config as rc

    merged: dict[str, Any] = {**rc.get_config_env(), **rc.CONFIG.get()}
    raw: dict[str, Any] = {}
    secret: set[str] = set()
    secret_full = set(rc.get_config_secret_keys_env())
    for full, value in merged.items():
        key = _strip(full)
        if key is None:
            continue
        raw[key] = value
        if full in secret_full or rc.is_config_secret(full):
            secret.add(key)
    return load_config(raw, project=pulumi.get_project(), stack=pulumi.get_stack(),
                       project_dir=os.getcwd(), secret_keys=secret)


def read_stack_file(project_dir: str, stack: str) -> tuple[dict[str, Any], set[str]]:
    """The ``togather:`` keys of ``Pulumi.<stack>.yaml``; encrypted values, at any
    depth, are left out (operator scripts read them from the engine when they need them) and
    their dotted paths reported in the second element."""
    path = os.path.join(project_dir, f"Pulumi.{stack}.yaml")
    try:
        with open(path, encoding="utf-8") as fh:
            doc = yaml.safe_load(fh) or {}
    except FileNotFoundError:
        raise ConfigError(f"no stack file for stack {stack!r}", file=path,
                          fix=f"pulumi stack init {stack} (or check the stack name)") from None
    except yaml.YAMLError as exc:
        raise ConfigError("stack file is not valid YAML", file=path, cause=exc) from None
    config = doc.get("config") or {}
    if not isinstance(config, dict):
        raise ConfigError("`config:` must be a mapping", file=path)
    raw: dict[str, Any] = {}
    encrypted: set[str] = set()
    for full, value in config.items():
        key = _strip(str(full))
        if key is None:
            continue
        if _is_secure(value):
            encrypted.add(key)
            continue
        value = _without_secure(key, value, encrypted)
        raw[key] = json.dumps(value) if isinstance(value, (dict, list)) else value
    return raw, encrypted


def _is_secure(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {"secure"}


def _without_secure(path: str, value: Any, encrypted: set[str]) -> Any:
    """``value`` with every ``{secure: ...}`` leaf (``pulumi config set --secret --path``) left
    out, at any depth; their dotted paths are added to ``encrypted``."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            sub = f"{path}.{k}"
            if _is_secure(v):
                encrypted.add(sub)
            else:
                out[k] = _without_secure(sub, v, encrypted)
        return out
    if isinstance(value, list):
        kept = []
        for i, v in enumerate(value):
            if _is_secure(v):
                encrypted.add(f"{path}[{i}]")
            else:
                kept.append(_without_secure(f"{path}[{i}]", v, encrypted))
        return kept
    return value


def from_stack_file(project_dir: str, stack: str) -> DeployConfig:
    """For the operator scripts: the stack's plain config, validated the same way."""
    raw, encrypted = read_stack_file(project_dir, stack)
    try:
        return load_config(raw, project=PROJECT, stack=stack, project_dir=project_dir,
                           secret_keys=encrypted)
    except ConfigError as exc:
        exc.file = exc.file or os.path.join(project_dir, f"Pulumi.{stack}.yaml")
        raise
