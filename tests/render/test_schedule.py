"""The host scheduler as data: job validation, jitter, the cron.d text, next run (pure)."""

from __future__ import annotations

import shlex
from datetime import datetime
from typing import Any

import pytest

from togather_deploy.config.model import load_config
from togather_deploy.errors import ConfigError
from togather_deploy.render.schedule import (
    ScheduledJob,
    backup_jobs,
    cert_jobs,
    cron_file_name,
    jitter_minutes,
    next_run,
    render_cron,
    stack_jobs,
)


def cfg(stack: str = "production", **backup: Any) -> Any:
    raw = {"image": "ghcr.io/togather-foundation/server", "blue": {"version": "v1.0.0"},
           "environment": "development",
           "backup": {"repository": "/srv/repo", "password": "x" * 20, **backup}}
    return load_config(raw, project="togather-deploy", stack=stack, project_dir="/opt/td",
                       secret_keys=("backup",))


def test_backup_jobs_follow_time_jitter_and_cadence() -> None:
    j = jitter_minutes("production")
    assert 0 <= j < 30 and j == jitter_minutes("production")
    assert len({jitter_minutes(s) for s in ("a", "b", "c", "d", "e", "f", "production", "staging")}) > 1
    jobs = {job.name: job for job in backup_jobs(cfg(time="23:50"))}
    assert set(jobs) == {"snapshot", "backup", "drill"}
    total = 23 * 60 + 50 + j
    snap_min, snap_hour = (int(x) for x in jobs["snapshot"].schedule.split()[:2])
    assert snap_hour * 60 + snap_min == total % 1440  # past midnight wraps
    assert jobs["drill"].schedule.endswith("* * 0")  # weekly: Sundays
    assert jobs["backup"].argv == ("scripts/backup", "run", "--stack", "production")
    assert [j.name for j in backup_jobs(cfg(verifyEvery="never"))] == ["snapshot", "backup"]
    assert backup_jobs(cfg(verifyEvery="monthly"))[-1].schedule.split()[2:] == ["1", "*", "*"]


def test_cron_text_quotes_locks_logs_and_escapes_percent() -> None:
    job = ScheduledJob("odd", "5 4 * * *", ("scripts/x", "it's 100%", "a b"), "quoting")
    text = render_cron("prod", [job], project_dir="/opt/my project", state_dir="/var/lib/td/prod")
    line = [ln for ln in text.splitlines() if ln.startswith("5 4 ")][0]
    assert line.startswith("5 4 * * * root cd '/opt/my project' && "
                           "flock -n /var/lib/td/prod/backup/odd.lock ")
    assert "\\%" in line and ">> /var/lib/td/prod/backup/logs/odd.log 2>&1" in line
    command = line.split(" root ", 1)[1].replace("\\%", "%")
    assert shlex.split(command)[6:9] == ["scripts/x", "it's 100%", "a b"]
    assert text.endswith("\n") and "SHELL=/bin/sh" in text and "PATH=/usr/local/sbin" in text


@pytest.mark.parametrize(("name", "schedule", "argv"), [
    ("Bad Name", "* * * * *", ("x",)), ("ok", "60 * * * *", ("x",)), ("ok", "* * * *", ("x",)),
    ("ok", "*/5 * * * *", ("x",)), ("ok", "* * * * *", ()), ("ok", "* * * * *", ("a\nb",)),
    ("ok", "0 3,24 * * *", ("x",)), ("ok", "0 3, * * *", ("x",)),
])
def test_bad_jobs_are_refused(name: str, schedule: str, argv: tuple[str, ...]) -> None:
    with pytest.raises(ConfigError):
        ScheduledJob(name, schedule, argv, "d")


def test_file_name_is_one_cron_reads() -> None:
    assert cron_file_name("prod.eu-1") == "togather-prod_eu-1"


def test_next_run() -> None:
    t = datetime(2026, 12, 2, 3, 30)  # a Wednesday
    assert next_run("30 3 * * *", t) == datetime(2026, 12, 3, 3, 30)
    assert next_run("31 3 * * *", t) == datetime(2026, 12, 2, 3, 31)
    assert next_run("0 4 * * 0", t) == datetime(2026, 12, 6, 4, 0)
    assert next_run("0 4 * * 7", t) == datetime(2026, 12, 6, 4, 0)
    assert next_run("15 2 1 * *", t) == datetime(2027, 1, 1, 2, 15)
    # the HTTPS renewal's twice-daily shape shares this scheduler
    assert next_run("7 3,15 * * *", t) == datetime(2026, 12, 2, 15, 7)
    job = ScheduledJob("togather-deploy-production-cert-renew", "7 3,15 * * *",
                       ("scripts/cert", "renew"), "tls")
    assert "7 3,15 * * * root " in render_cron("production", [job], project_dir="/opt/td", state_dir="/s")


def tls_cfg(stack: str = "production", mode: str = "acme", backup: bool = False) -> Any:
    raw = {"image": "ghcr.io/togather-foundation/server", "blue": {"version": "v1.0.0"},
           "environment": "production", "domain": "events.example.org", "stateDir": "/var/lib/td",
           "tls": {"mode": mode}, "appEnv": {"CORS_ALLOWED_ORIGINS": "https://events.example.org"}}
    if backup:
        raw["backup"] = {"repository": "/srv/repo", "password": "x" * 20}
    return load_config(raw, project="togather-deploy", stack=stack, project_dir="/opt/td",
                       secret_keys=("backup",))


def test_cert_renew_runs_twice_daily_at_a_stable_per_stack_time_only_with_acme() -> None:
    assert cert_jobs(tls_cfg(mode="off")) == []
    (job,) = cert_jobs(tls_cfg())
    assert cert_jobs(tls_cfg()) == [job]  # deterministic
    minute, hours, *rest = job.schedule.split()
    assert rest == ["*", "*", "*"] and 0 <= int(minute) < 60
    h1, h2 = (int(h) for h in hours.split(","))
    assert h2 == h1 + 12 and 0 <= h1 < 12
    assert job.argv == ("scripts/cert", "renew", "production")
    spread = {cert_jobs(tls_cfg(stack=f"s{i}"))[0].schedule for i in range(20)}
    assert len(spread) > 10  # stacks do not all knock at the CA at the same minute


def test_one_cron_file_holds_the_backup_and_the_renewal_each_logging_where_its_dir_exists() -> None:
    c = tls_cfg(backup=True)
    assert [j.name for j in stack_jobs(c)] == ["snapshot", "backup", "drill", "cert-renew"]
    text = render_cron("production", stack_jobs(c), project_dir="/opt/td", state_dir="/var/lib/td")
    lines = {line.split(" root ")[1]: line for line in text.splitlines() if " root " in line}
    renew = next(v for k, v in lines.items() if "scripts/cert renew production" in k)
    # <stateDir>/logs and /locks exist from the first `pulumi up` (HostDirs), backup or not
    assert "flock -n /var/lib/td/locks/cert-renew.lock" in renew
    assert renew.endswith(">> /var/lib/td/logs/cert-renew.log 2>&1")
    snap = next(v for k, v in lines.items() if "scripts/backup snapshot" in k)
    assert "/var/lib/td/backup/logs/snapshot.log" in snap
    assert stack_jobs(tls_cfg(mode="off")) == []
