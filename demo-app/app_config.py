"""The demo server's settings from its environment, and the test-control file.

``read_settings`` validates the environment the way the real server does
(app contract: required ``DATABASE_URL``, ``JWT_SECRET`` >= 32 characters,
``CORS_ALLOWED_ORIGINS`` outside development/test) and raises ``SettingsError``
naming the variable, so the process can refuse to start with one clear line.
"""

from __future__ import annotations

import ipaddress
import json
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

HEALTH_STATES = ("healthy", "degraded", "unhealthy")
IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class SettingsError(Exception):
    """Bad or missing environment; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    host: str
    port: int
    version: str
    git_commit: str
    build_date: str
    slot: str
    environment: str
    database_url: str = field(repr=False)
    rate_limit_public: int
    trusted_proxies: tuple[IpNetwork, ...]
    max_open_connections: int
    control_file: str | None
    startup_delay_s: float
    forced_health: str | None
    log_requests: bool


def _int(env: Mapping[str, str], name: str, default: int, minimum: int = 0) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name}: must be an integer, got {raw!r}") from None
    if value < minimum:
        raise SettingsError(f"{name}: must be at least {minimum}, got {value}")
    return value


def _networks(raw: str) -> tuple[IpNetwork, ...]:
    out = []
    for item in (p.strip() for p in raw.split(",")):
        if not item:
            continue
        try:
            out.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise SettingsError(f"TRUSTED_PROXY_CIDRS: {item!r} is not a CIDR like 10.0.0.0/8") from None
    return tuple(out)


def read_settings(env: Mapping[str, str]) -> Settings:
    environment = env.get("ENVIRONMENT", "development").strip() or "development"
    database_url = env.get("DATABASE_URL", "").strip()
    if not database_url:
        raise SettingsError("DATABASE_URL: required (postgres://user:password@host:5432/db)")
    jwt = env.get("JWT_SECRET", "")
    if len(jwt) < 32:
        raise SettingsError(f"JWT_SECRET: required, at least 32 characters (got {len(jwt)})")
    csrf = env.get("CSRF_KEY")
    if csrf is not None and csrf != "" and len(csrf) < 32:
        raise SettingsError(f"CSRF_KEY: must be at least 32 characters when set (got {len(csrf)})")
    if environment not in ("development", "test") and not env.get("CORS_ALLOWED_ORIGINS", "").strip():
        raise SettingsError(f"CORS_ALLOWED_ORIGINS: required when ENVIRONMENT={environment}")
    forced = env.get("DEMO_HEALTH", "").strip() or None
    if forced is not None and forced not in HEALTH_STATES:
        raise SettingsError(f"DEMO_HEALTH: one of {', '.join(HEALTH_STATES)}, got {forced!r}")
    try:
        startup_delay = float(env.get("DEMO_STARTUP_DELAY_S", "0") or 0)
    except ValueError:
        raise SettingsError("DEMO_STARTUP_DELAY_S: must be a number of seconds") from None
    return Settings(
        host=env.get("SERVER_HOST", "0.0.0.0").strip() or "0.0.0.0",  # noqa: S104 - a server
        port=_int(env, "SERVER_PORT", 8080, minimum=0),
        version=env.get("VERSION", "dev").strip() or "dev",
        git_commit=env.get("GIT_COMMIT", "unknown"),
        build_date=env.get("BUILD_DATE", "unknown"),
        slot=(env.get("DEPLOYMENT_SLOT") or env.get("SLOT") or "").strip(),
        environment=environment,
        database_url=database_url,
        rate_limit_public=_int(env, "RATE_LIMIT_PUBLIC", 60),
        trusted_proxies=_networks(env.get("TRUSTED_PROXY_CIDRS", "")),
        max_open_connections=_int(env, "DATABASE_MAX_CONNECTIONS", 25, minimum=1),
        control_file=env.get("DEMO_CONTROL_FILE") or None,
        startup_delay_s=startup_delay,
        forced_health=forced,
        log_requests=env.get("LOG_LEVEL", "").lower() == "debug",
    )


@dataclass(frozen=True)
class Control:
    """Misbehaviour asked for by a test (see README.md)."""

    health: str | None = None
    delay_ms: int = 0
    version: str | None = None
    ready: bool | None = None
    live: bool | None = None


def parse_control(doc: Any) -> Control:
    if not isinstance(doc, dict):
        return Control()
    health = doc.get("health")
    return Control(
        health=health if health in HEALTH_STATES else None,
        delay_ms=max(0, min(int(doc.get("delay_ms") or 0), 30_000)),
        version=str(doc["version"]) if doc.get("version") else None,
        ready=bool(doc["ready"]) if "ready" in doc else None,
        live=bool(doc["live"]) if "live" in doc else None,
    )


class ControlFile:
    """Re-reads the control file only when its mtime or size changes (cheap per request)."""

    def __init__(self, path: str | None, forced_health: str | None) -> None:
        self.path = path
        self.default = Control(health=forced_health)
        self._stamp: tuple[int, int, int] | None = None
        self._value = self.default
        self._lock = threading.Lock()

    def current(self) -> Control:
        if not self.path:
            return self.default
        try:
            st = os.stat(self.path)
        except OSError:
            return self.default
        stamp = (st.st_ino, st.st_mtime_ns, st.st_size)  # a rename changes the inode
        with self._lock:
            if stamp != self._stamp:
                try:
                    with open(self.path, encoding="utf-8") as fh:
                        control = parse_control(json.load(fh))
                except (OSError, ValueError):
                    control = self.default  # half-written file: keep defaults until it settles
                    stamp = (0, 0, 0)
                if control.health is None:
                    control = Control(self.default.health, control.delay_ms, control.version,
                                      control.ready, control.live)
                self._stamp, self._value = stamp, control
            return self._value
