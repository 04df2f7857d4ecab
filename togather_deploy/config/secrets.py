"""Which config values are secrets, how they are read, and how a complaint about one is worded.

A value is secret when its key, or any key above it, is one of ``SECRET_KEYS``,
``appSecrets``, or a key the stack holds encrypted (``secret_keys``: the engine
reports top-level keys, ``pulumi config set --secret --path`` encrypts a nested
one). Such a value is never shown: a complaint about it says ``<secret>``,
names the key and gives the fix, so neither the terminal nor ``audit.log`` ever
sees it.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field

from togather_deploy.config import fields as f
from togather_deploy.errors import ConfigError, InvalidValue

SECRET_KEYS = ("jwtSecret", "csrfKey", "databasePassword", "grafanaAdminPassword")
APP_SECRETS = "appSecrets"


@dataclass(frozen=True)
class Secrets:
    """Operator-provided secrets; ``None`` means "generate one with pulumi_random"."""

    jwt_secret: str | None = field(default=None, repr=False)
    csrf_key: str | None = field(default=None, repr=False)
    database_password: str | None = field(default=None, repr=False)
    grafana_admin_password: str | None = field(default=None, repr=False)
    app_secrets: Mapping[str, str] = field(default_factory=dict, repr=False)


def is_secret(key: str | None, secret_keys: Collection[str] = ()) -> bool:
    """True when ``key`` (dotted) is, or sits under, a secret key."""
    if not key:
        return False
    for secret in (*SECRET_KEYS, APP_SECRETS, *secret_keys):
        if key == secret or key.startswith(secret + ".") or key.startswith(secret + "["):
            return True
    return False


@contextmanager
def concealing(secret_keys: Collection[str]) -> Iterator[None]:
    """Re-raise a complaint about a secret value without the value."""
    try:
        yield
    except InvalidValue as exc:
        if is_secret(exc.key, secret_keys):
            raise exc.concealed(_set_fix(exc.key or "")) from None
        raise


def _set_fix(key: str) -> str:
    path = " --path" if "." in key or key == APP_SECRETS else ""
    name = f"{key}.NAME" if key == APP_SECRETS else key
    return f"pulumi config set --secret{path} togather:{name} VALUE"


def read_secrets(top: f.Section, secret_keys: Collection[str], reserved: frozenset[str]) -> Secrets:
    values: dict[str, str | None] = {}
    for key in SECRET_KEYS:
        value = f.optional_string(key, top.get(key))
        if value is not None and key not in secret_keys:
            raise ConfigError(f"{key}: is a secret but was stored in plain text", key=key,
                              fix=f"pulumi config set --secret togather:{key} VALUE")
        values[key] = value
    for key in ("jwtSecret", "csrfKey"):
        value = values[key]
        if value is not None and len(value) < 32:
            raise ConfigError(f"{key}: must be at least 32 characters, got {len(value)}", key=key,
                              fix=f"pulumi config set --secret togather:{key} \"$(openssl rand -hex 32)\"")
    app_secrets = f.env_map(APP_SECRETS, top.get(APP_SECRETS), reserved=reserved)
    if app_secrets and APP_SECRETS not in secret_keys:
        raise ConfigError("appSecrets: values must be stored as secrets", key=APP_SECRETS,
                          fix=_set_fix(APP_SECRETS))
    return Secrets(
        jwt_secret=values["jwtSecret"],
        csrf_key=values["csrfKey"],
        database_password=values["databasePassword"],
        grafana_admin_password=values["grafanaAdminPassword"],
        app_secrets=app_secrets,
    )
