"""Typed readers for one config value each, used only by ``togather_deploy.config.model``.

Each reader takes the dotted key (``health.timeoutSeconds``), the raw value and
returns the typed value or raises ``ConfigError`` naming the key, what is
allowed and what was given. Pulumi hands scalar config to programs as strings
(``"8080"``, ``"true"``), so every reader accepts the string spelling too.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from togather_deploy.config.image_ref import check_image
from togather_deploy.errors import ConfigError, invalid

_MISSING: Any = object()


class Section:
    """A config object being read: remembers its path and rejects unknown keys."""

    def __init__(self, path: str, raw: Any) -> None:
        self.path = path
        if raw is None or raw is _MISSING:
            raw = {}
        if isinstance(raw, str):
            raw = _json_object(path, raw)
        if not isinstance(raw, Mapping):
            raise invalid(path or "togather", raw, "an object")
        self.raw: Mapping[str, Any] = raw
        self.seen: set[str] = set()

    def key(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name

    def get(self, name: str) -> Any:
        self.seen.add(name)
        return self.raw.get(name, _MISSING)

    def section(self, name: str) -> Section:
        return Section(self.key(name), self.get(name))

    def done(self) -> None:
        """Reject keys nobody asked for: a typo must not be silently ignored."""
        unknown = sorted(str(k) for k in self.raw if k not in self.seen)
        if unknown:
            allowed = ", ".join(sorted(self.seen))
            raise ConfigError(
                f"{self.key(unknown[0])}: unknown key (allowed here: {allowed})",
                key=self.key(unknown[0]),
                fix="remove it or correct its spelling: `pulumi config rm --path "
                f"togather:{self.key(unknown[0])}`",
            )


def _json_object(path: str, text: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        raise invalid(path or "togather", text, "an object") from None


def present(value: Any) -> bool:
    return value is not _MISSING and value is not None


def string(
    key: str, value: Any, default: str | None = None, *, pattern: str | None = None,
    allowed: str = "a non-empty string",
) -> str:
    if not present(value):
        if default is None:
            raise ConfigError(f"{key}: is required ({allowed})", key=key,
                              fix=f"pulumi config set togather:{key} VALUE")
        return default
    if not isinstance(value, str) or not value.strip() or "\x00" in value:
        raise invalid(key, value, allowed)
    if pattern is not None and not re.fullmatch(pattern, value):
        raise invalid(key, value, allowed)
    return value


def optional_string(key: str, value: Any, *, pattern: str | None = None,
                    allowed: str = "a non-empty string") -> str | None:
    if not present(value) or value == "":
        return None
    return string(key, value, pattern=pattern, allowed=allowed)


def choice(key: str, value: Any, options: tuple[str, ...], default: str) -> str:
    if not present(value):
        return default
    if value not in options:
        raise invalid(key, value, "one of " + " | ".join(options))
    return str(value)


def integer(key: str, value: Any, default: int, *, minimum: int = 0,
            maximum: int | None = None) -> int:
    allowed = f"an integer ≥ {minimum}" + (f" and ≤ {maximum}" if maximum is not None else "")
    if not present(value):
        return default
    if isinstance(value, bool):
        raise invalid(key, value, allowed)
    if isinstance(value, str) and re.fullmatch(r"\s*-?[0-9]{1,12}\s*", value):
        value = int(value)
    if not isinstance(value, int):
        raise invalid(key, value, allowed)
    if value < minimum or (maximum is not None and value > maximum):
        raise invalid(key, value, allowed)
    return value


def boolean(key: str, value: Any, default: bool) -> bool:
    if not present(value):
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise invalid(key, value, "true or false")


def port(key: str, value: Any, default: int) -> int:
    return integer(key, value, default, minimum=1, maximum=65535)


ENV_NAME = r"[A-Za-z_][A-Za-z0-9_]*"


def env_map(key: str, value: Any, *, reserved: frozenset[str] = frozenset()) -> dict[str, str]:
    """A map of environment variables: names like ``LOG_LEVEL``, scalar values."""
    section = Section(key, value)
    out: dict[str, str] = {}
    for name, raw in section.raw.items():
        name_key = f"{key}.{name}"
        if not isinstance(name, str) or not re.fullmatch(ENV_NAME, name):
            raise invalid(name_key, name, f"an environment variable name matching {ENV_NAME}")
        if name in reserved:
            raise ConfigError(
                f"{name_key}: {name} is set by togather-deploy itself and cannot be overridden here",
                key=name_key, fix=f"pulumi config rm --path togather:{name_key}")
        if isinstance(raw, bool):
            raw = "true" if raw else "false"
        if isinstance(raw, (int, float)):
            raw = str(raw)
        if not isinstance(raw, str) or "\x00" in raw:
            raise invalid(name_key, raw, "a string, number or boolean")
        out[name] = raw
    return out


def pinned_image(key: str, value: Any, default: str) -> str:
    """A registry reference pinned by tag or digest, never ``latest`` (see ``config.image_ref``)."""
    image = string(key, value, default, allowed="an image pinned by tag, like postgis/postgis:16-3.4")
    return check_image(key, image)


def argv(key: str, value: Any, default: tuple[str, ...]) -> tuple[str, ...]:
    """A command as a list of strings (JSON array in stack config)."""
    if not present(value):
        return default
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except (ValueError, RecursionError):
            raise invalid(key, value, "a list of strings like [\"CMD\", \"true\"]") from None
    if (not isinstance(value, list) or not value
            or not all(isinstance(v, str) and v and "\x00" not in v for v in value)):
        raise invalid(key, value, "a non-empty list of strings like [\"CMD\", \"true\"]")
    return tuple(value)
