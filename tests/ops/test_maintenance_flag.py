"""The maintenance switch: the file's contract, and a real nginx under wrk load while it toggles."""

from __future__ import annotations

import os
import stat
import time

import pytest

from testkit import wrk_status
from testkit.nginx import NginxRouter, nginx_available, private_dir, start_router
from testkit.stub_app import StubApp
from togather_deploy.errors import ConfigError
from togather_deploy.ops import maintenance_flag

TOGGLES = 20


def test_on_off_are_idempotent_atomic_and_readable_by_nginx(tmp_path) -> None:
    d = str(tmp_path / "router")
    assert maintenance_flag.read(d) is None and maintenance_flag.turn_off(d) is False
    assert maintenance_flag.turn_on(d, "  Upgrading  ") == "Upgrading"
    assert maintenance_flag.read(d) == "Upgrading"
    assert stat.S_IMODE(os.stat(maintenance_flag.flag_path(d)).st_mode) == 0o644
    assert maintenance_flag.turn_on(d) == "Back shortly." and maintenance_flag.read(d) == "Back shortly."
    assert maintenance_flag.turn_off(d) is True and maintenance_flag.read(d) is None
    assert [n for n in os.listdir(d) if n.endswith(".tmp")] == []


@pytest.mark.parametrize("bad", ["x" * 501, "two\nlines", "bell\a"])
def test_a_bad_message_is_refused_before_anything_changes(tmp_path, bad: str) -> None:
    d = str(tmp_path / "router")
    with pytest.raises(ConfigError, match="--message") as exc:
        maintenance_flag.turn_on(d, bad)
    assert exc.value.fix and not os.path.exists(d)


def test_apply_keeps_an_operators_message(tmp_path) -> None:
    d = str(tmp_path / "router")
    maintenance_flag.turn_on(d, "Moving servers")
    maintenance_flag.apply(d, True)
    assert maintenance_flag.read(d) == "Moving servers"
    maintenance_flag.apply(d, False)
    assert maintenance_flag.read(d) is None


@pytest.mark.nginx
@pytest.mark.skipif(not nginx_available(), reason="nginx + njs not installed: scripts/test")
def test_toggling_under_keep_alive_load_fails_no_request() -> None:
    """wrk clients that never retry, slow requests in flight, 20 toggles: every answer is the
    app or the maintenance page; no 502, no socket error, no reload."""
    with private_dir() as d, StubApp(slot="blue", version="v1") as app:
        up = f"127.0.0.1:{app.port}"
        with start_router({"blue": up, "green": up}, os.path.join(d, "r"), worker_processes="2") as r:
            fast = wrk_status.start(r.url + "/api/v1/events", connections=16, duration=12, threads=2)
            slow = wrk_status.start(r.url + "/slow?ms=500", connections=4, duration=12)
            time.sleep(1.0)
            for i in range(TOGGLES):
                if i % 2 == 0:
                    maintenance_flag.turn_on(r.conf_dir, f"toggle {i}")
                else:
                    maintenance_flag.turn_off(r.conf_dir)
                time.sleep(0.4)
            fast_counts, slow_counts = wrk_status.finish(fast), wrk_status.finish(slow)
            _assert_clean(r, fast_counts, slow_counts)


def _assert_clean(r: NginxRouter, fast: dict, slow: dict) -> None:
    assert fast["failed"] == 0 and slow["failed"] == 0, (fast, slow)
    assert fast["ok"] > 0 and fast["maintenance"] > 0  # both states were really served
    assert slow["ok"] + slow["maintenance"] > 0
    assert "reload" not in r.error_log().lower()
