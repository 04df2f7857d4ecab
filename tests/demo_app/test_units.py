"""The demo app's pure pieces: client address behind proxies, the token bucket, the
control file, settings and overall-status rules (no server, no database)."""

from __future__ import annotations

import ipaddress
import json
import os
from typing import Any

import pytest
from app_checks import overall
from app_config import Control, ControlFile, SettingsError, parse_control, read_settings
from app_ratelimit import RateLimiter, client_ip

PROXIES = (ipaddress.ip_network("10.0.0.0/8"),)
BASE = {"DATABASE_URL": "postgres://u:p@db/x", "JWT_SECRET": "j" * 32}


@pytest.mark.parametrize(("peer", "xff", "expected"), [
    ("203.0.113.9", "198.51.100.1", "203.0.113.9"),         # untrusted peer: header ignored
    ("10.0.0.2", "198.51.100.1", "198.51.100.1"),           # trusted proxy: the client it saw
    ("10.0.0.2", "6.6.6.6, 198.51.100.1", "198.51.100.1"),  # left entries are forgeable
    ("10.0.0.2", "198.51.100.1, 10.0.0.3", "198.51.100.1"),  # skip trusted hops from the right
    ("10.0.0.2", None, "10.0.0.2"),
])
def test_client_ip(peer: str, xff: str | None, expected: str) -> None:
    assert client_ip(peer, xff, PROXIES) == expected


def test_token_bucket_refills_over_time() -> None:
    now = [100.0]
    limiter = RateLimiter(60, clock=lambda: now[0])
    assert all(limiter.allow("a") for _ in range(60))
    assert not limiter.allow("a")
    assert limiter.allow("b")  # per client
    now[0] += 1.0  # one token per second at 60/min
    assert limiter.allow("a")
    assert not limiter.allow("a")
    assert all(RateLimiter(0).allow("a") for _ in range(1000))  # 0 disables


def test_overall_status_rules() -> None:
    assert overall({"a": {"status": "pass"}, "b": {"status": "pass"}}) == "healthy"
    assert overall({"a": {"status": "pass"}, "b": {"status": "warn"}}) == "degraded"
    assert overall({"a": {"status": "warn"}, "b": {"status": "fail"}}) == "unhealthy"


def test_parse_control_is_lenient_and_bounded() -> None:
    assert parse_control({"health": "bogus", "delay_ms": 10**9}) == Control(delay_ms=30_000)
    assert parse_control(["not", "a", "dict"]) == Control()
    assert parse_control({"ready": False, "version": "v9"}) == Control(version="v9", ready=False)


def test_control_file_rereads_on_change_and_survives_garbage(tmp_path: Any) -> None:
    path = tmp_path / "control.json"
    control = ControlFile(str(path), forced_health="degraded")
    assert control.current() == Control(health="degraded")  # no file yet: the env default

    def write(doc: object) -> None:
        tmp = tmp_path / "c.tmp"
        tmp.write_text(json.dumps(doc) if not isinstance(doc, str) else doc)
        os.replace(tmp, path)

    write({"delay_ms": 5})
    assert control.current() == Control(health="degraded", delay_ms=5)
    write({"health": "unhealthy"})
    assert control.current().health == "unhealthy"
    write("{half-written")
    assert control.current() == Control(health="degraded")


def test_settings_defaults_and_slot_precedence() -> None:
    s = read_settings({**BASE, "SLOT": "blue", "DEPLOYMENT_SLOT": "green"})
    assert (s.host, s.port, s.slot, s.environment, s.rate_limit_public) == \
        ("0.0.0.0", 8080, "green", "development", 60)
    assert "p@db" not in repr(s)
    with pytest.raises(SettingsError, match="SERVER_PORT"):
        read_settings({**BASE, "SERVER_PORT": "eighty"})
    with pytest.raises(SettingsError, match="DEMO_HEALTH"):
        read_settings({**BASE, "DEMO_HEALTH": "sick"})
