"""Renewal policy and the expiry metric (the schedule: tests/render/test_schedule.py)."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from typing import Any

import pytest

from testkit.tls import TestCA
from togather_deploy.config.model import DeployConfig, load_config
from togather_deploy.ops.tls import files, renewal


def _cfg(tmp_path: Any, stack: str = "production", **tls: object) -> DeployConfig:
    return load_config({"image": "ghcr.io/x/server", "blue": {"version": "v1"}, "environment": "production",
                        "domain": "events.example.org", "stateDir": str(tmp_path / "state"), "tls": tls,
                        "appEnv": {"CORS_ALLOWED_ORIGINS": "https://events.example.org"}},
                       project="togather-deploy", stack=stack, project_dir=str(tmp_path))


@pytest.mark.parametrize(("days", "names", "due"), [
    (60, ("events.example.org",), False),
    (29, ("events.example.org",), True),
    (60, ("other.example.org",), True),
])
def test_due_30_days_before_expiry_or_when_a_name_is_missing(tmp_path: Any, days: int,
                                                              names: tuple[str, ...], due: bool) -> None:
    cfg = _cfg(tmp_path)
    assert renewal.status(cfg).due and renewal.status(cfg).reason == "no certificate yet"
    key = files.new_key_pem()
    files.install(cfg.state_dir, cfg.router_dir, TestCA().issue(names, key, days=days), key, worker_uid=None)
    st = renewal.status(cfg)
    assert st.due is due and st.served_names == names
    assert st.days_left is not None and days - 1 < st.days_left <= days


def test_the_metric_file_is_valid_exposition_format(tmp_path: Any) -> None:
    expiry = dt.datetime(2031, 1, 2, tzinfo=dt.UTC)
    path = renewal.write_metrics(str(tmp_path), not_after=expiry, domain="events.example.org",
                                 success=False, now=1.7e9)
    text = open(path, encoding="utf-8").read()  # noqa: SIM115
    assert f'togather_tls_certificate_expiry_timestamp_seconds{{domain="events.example.org"}} ' \
           f"{expiry.timestamp():.0f}" in text
    assert "togather_tls_renewal_last_success 0" in text
    if shutil.which("promtool"):
        check = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True,
                               text=True, check=False)
        assert check.returncode == 0, check.stdout + check.stderr
