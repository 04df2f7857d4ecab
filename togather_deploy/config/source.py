"""Where the raw ``togather:`` config comes from: the Pulumi runtime or a stack file.

Both paths end in ``togather_deploy.config.model.load_config``; this module only collects.
"""

from __future__ import annotations

import json
import os
from typing import Any

import yaml

from togather_deploy.config.model import DeployConfig, load_config
from togather_deploy.errors import ConfigError

NAMESPACE = "togather"
PROJECT = "togather-deploy"


def strip_namespace(key: str) -> str | None:
    prefix = NAMESPACE + ":"
    return key[len(prefix):] if key.startswith(prefix) else None


def read_stack_file(project_dir: str, stack: str) -> tuple[dict[str, Any], set[str]]:
    """The ``togather:`` keys of ``Pulumi.<stack>.yaml``; encrypted values, at any
    depth, are left out (operator scripts read them from the engine when they need them) and
    their dotted paths reported in the second element."""
    path = os.path.join(project_dir, f"Pulumi.{stack}.yaml")
    try:
        with open(path, encoding="utf-8") as fh:
            doc = yaml.safe_load(fh) or {}
    except FileNotFoundError:
        raise unknown_stack(project_dir, stack) from None
    except yaml.YAMLError as exc:
        raise ConfigError("stack file is not valid YAML", file=path, cause=exc) from None
    config = doc.get("config") or {}
    if not isinstance(config, dict):
        raise ConfigError("`config:` must be a mapping", file=path)
    raw: dict[str, Any] = {}
    encrypted: set[str] = set()
    for full, value in config.items():
        key = strip_namespace(str(full))
        if key is None:
            continue
        if _is_secure(value):
            encrypted.add(key)
            continue
        value = _without_secure(key, value, encrypted)
        raw[key] = json.dumps(value) if isinstance(value, (dict, list)) else value
    return raw, encrypted


def known_stacks(project_dir: str) -> list[str]:
    """The stacks this project has a ``Pulumi.<stack>.yaml`` for, sorted."""
    try:
        names = os.listdir(project_dir)
    except OSError:
        return []
    return sorted(n[len("Pulumi."):-len(".yaml")] for n in names
                  if n.startswith("Pulumi.") and n.endswith(".yaml") and n != "Pulumi.yaml")


def unknown_stack(project_dir: str, stack: str) -> ConfigError:
    """A mistyped stack name is the usual cause: name the stacks there are (creating a new stack
    would be the wrong advice, ``scripts/up`` says the same)."""
    stacks = known_stacks(project_dir)
    return ConfigError(
        f"no stack file for stack {stack!r}", file=os.path.join(project_dir, f"Pulumi.{stack}.yaml"),
        fix=(f"use one of the stacks here: {', '.join(stacks)}" if stacks else
             f"no Pulumi.<stack>.yaml in {project_dir}: run from the project directory "
             "(or pass --project-dir)"))


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


def engine_config_argv(project_dir: str, stack: str) -> tuple[str, ...]:
    """``pulumi config --show-secrets --json``: the engine decrypts the stack's secrets for the
    release verbs (they hold the passphrase anyway, to run ``pulumi up``)."""
    return ("pulumi", "config", "--show-secrets", "--json", "--stack", stack, "--cwd", project_dir,
            "--non-interactive")


def with_engine_secrets(project_dir: str, stack: str,
                        engine_json: str) -> tuple[DeployConfig, tuple[str, ...]]:
    """The stack file's config, with the secret keys as the engine decrypted them
    (``engine_json``: the output of ``engine_config_argv``), and every secret string in them
    (to redact by value; a secret ``notify.ntfyUrl`` is then usable and redacted)."""
    try:
        doc = json.loads(engine_json)
    except ValueError:
        doc = None
    if not isinstance(doc, dict):
        raise ConfigError("`pulumi config --show-secrets --json` did not print a JSON object",
                          file=os.path.join(project_dir, f"Pulumi.{stack}.yaml"),
                          fix="check that `pulumi config --stack STACK` works here (passphrase, backend)")
    raw, encrypted = read_stack_file(project_dir, stack)
    secret: set[str] = set(encrypted)
    values: list[str] = []
    for full, entry in doc.items():
        key = strip_namespace(str(full))
        if key is None or not isinstance(entry, dict) or not entry.get("secret"):
            continue
        if "value" in entry:  # the engine's decrypted value: a string, JSON text for objects
            raw[key] = entry["value"]
            values.extend(_strings(entry.get("objectValue", entry["value"])))
        secret.add(key)
    return _load(raw, project_dir, stack, secret), tuple(values)


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except ValueError:
            return [value]
        return _strings(parsed) if isinstance(parsed, (dict, list)) else [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def from_stack_file(project_dir: str, stack: str) -> DeployConfig:
    """For the operator scripts: the stack's plain config, validated the same way."""
    raw, encrypted = read_stack_file(project_dir, stack)
    return _load(raw, project_dir, stack, encrypted)


def _load(raw: dict[str, Any], project_dir: str, stack: str, secret_keys: set[str]) -> DeployConfig:
    try:
        return load_config(raw, project=PROJECT, stack=stack, project_dir=project_dir,
                           secret_keys=secret_keys)
    except ConfigError as exc:
        exc.file = exc.file or os.path.join(project_dir, f"Pulumi.{stack}.yaml")
        raise
