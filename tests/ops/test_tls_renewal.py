"""Renewal policy, the schedule entry handed to the host scheduler, and the expiry metric."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
from typing import Any

import pytest

from tests.support.tls import TestCA
from togather_deploy.config.model import DeployConfig, load_config
from togather_deploy.ops.tls import files, renewal


def _cfg(tmp_path: Any, stack: str = "production", **tls: object) -> DeployConfig:
    return load_config({"image": "ghcr.io/x/server", "blue": {"version": "v1"}, "environment": "production",
                        "domain": "events.example.org", "stateDir": str(tmp_path / "state"), "tls": tls,
                        "appEnv": {"CORS_ALLOWED_ORIGINS": "https://events.example.org"}},
                       project="togather-deploy", stack=stack, project_dir=str(tmp_path))


def test_renewal_job_only_for_acme_twice_daily_at_a_stable_per_stack_time(tmp_path: Any) -> None:
    assert renewal.renewal_job(_cfg(tmp_path, mode="off")) is None
    job = renewal.renewal_job(_cfg(tmp_path))
    assert job is not None and job == renewal.renewal_job(_cfg(tmp_path))  # deterministic
    minute, hours, *rest = job.schedule.split()
    assert rest == ["*", "*", "*"] and 0 <= int(minute) < 60
    h1, h2 = (int(h) for h in hours.split(","))
    assert h2 == h1 + 12 and 0 <= h1 < 12
    assert job.argv[1:] == ("renew", "production") and os.access(job.argv[0], os.X_OK)
    spread = {renewal.renewal_job(_cfg(tmp_path, stack=f"s{i}")).schedule for i in range(20)}  # type: ignore[union-attr]
    assert len(spread) > 10  # stacks do not all knock at the CA at the same minute


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
