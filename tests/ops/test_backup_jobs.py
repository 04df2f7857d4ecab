"""Job results → status, textfile metrics, audit and a real notification; restic argv; dump digests."""

from __future__ import annotations

import gzip
import os
import stat
from pathlib import Path
from typing import Any

from testkit.receiver import Receiver
from togather_deploy.commands import restic
from togather_deploy.config.model import load_config
from togather_deploy.db.snapshots import contents
from togather_deploy.ops import audit, backup_jobs, backup_status
from togather_deploy.ops import backup_files as files

PASSWORD = "restic password never shown"


def cfg(state: str, webhook: str | None = None) -> Any:
    raw = {"image": "ghcr.io/togather-foundation/server", "blue": {"version": "v1.0.0"},
           "environment": "development", "stateDir": state,
           "backup": {"repository": "rest:https://user:hunter2hunter2@backup.example.org/",
                      "password": PASSWORD, "verifyEvery": "daily"},
           **({"notify": {"webhookUrl": webhook, "retries": 0}} if webhook else {})}
    return load_config(raw, project="togather-deploy", stack="t", project_dir="/opt/td",
                       secret_keys=("backup",))


def test_a_failure_then_a_success_drive_metrics_status_audit_and_notify(tmp_path: Any) -> None:
    state = str(tmp_path / "state")
    with Receiver() as rec:
        c = cfg(state, rec.url + "/hook")
        backup_jobs.finish(c, "backup", started=100.0, ok=False, detail="repository unreachable", exit_code=1)
        assert len(rec.requests) == 1 and "backup failed" in str(rec.requests[0]["body"])
    text = Path(backup_jobs.metrics_path(state)).read_text()
    assert 'togather_backup_last_run_success{backup_job="backup"} 0' in text
    assert 'togather_backup_last_success_timestamp_seconds{backup_job="backup"} 0' in text
    assert "togather_backup_last_bytes_added" not in text
    backup_jobs.finish(cfg(state), "backup", started=files.now() - 2, ok=True, detail="uploaded",
                       facts={"bytes_added": 1234, "bytes_processed": 99999})
    backup_jobs.finish(cfg(state), "backup", started=files.now(), ok=False, detail="down again", exit_code=1)
    text = Path(backup_jobs.metrics_path(state)).read_text()
    assert 'togather_backup_last_run_success{backup_job="backup"} 0' in text
    assert 'last_success_timestamp_seconds{backup_job="backup"} 0\n' not in text  # remembered
    assert stat.S_IMODE(os.stat(files.job_path(state, "backup")).st_mode) == 0o600
    assert [e["event"] for e in audit.read_events(state)] == [
        "backup.job_failed", "backup.job_succeeded", "backup.job_failed"]
    jobs = {j["job"]: j for j in backup_status.jobs(cfg(state), files.now())}
    assert jobs["backup"]["result"] == "FAILED" and jobs["backup"]["detail"] == "down again"
    assert jobs["drill"]["detail"] == "never ran" and jobs["drill"]["next_run"]


def test_restic_argv_never_carries_a_secret() -> None:
    repo = restic.Repo("rest:https://user:hunter2hunter2@host/", "/s/password", {"B2_ACCOUNT_KEY": "k3y"},
                       "/s/cache", "prod")
    argvs = [restic.backup_argv(repo, ["/a", "/b"], host="h", excludes=[".*.tmp"]), restic.init_argv(),
             restic.snapshots_argv(repo), restic.find_argv(repo, "x.sql.gz"), restic.dump_argv("abc", "/a/x"),
             restic.forget_argv(repo, daily=7, weekly=4, monthly=6), restic.check_argv("1/10"),
             restic.restore_argv("abc", "/t", ["/a"]), restic.cat_config_argv()]
    for argv in argvs:
        assert not any("hunter2" in a or "k3y" in a for a in argv), argv
    env = restic.environment(repo)
    assert env["RESTIC_REPOSITORY"].startswith("rest:") and env["RESTIC_PASSWORD_FILE"] == "/s/password"
    assert env["B2_ACCOUNT_KEY"] == "k3y" and "RESTIC_PASSWORD" not in env
    assert restic.snapshots_argv(repo)[-2:] == ("--tag", "togather,stack=prod")
    try:
        restic.backup_argv(repo, ["--dry-run"], host="h")
        raise AssertionError("a relative path must be refused")
    except ValueError:
        pass


DUMP = b"""--
COPY public.events (id, title) FROM stdin;
1\tone
2\ttwo
\\.
COPY public.empty (id) FROM stdin;
\\.
"""


def test_digests_ignore_row_order_and_see_one_changed_byte(tmp_path: Any) -> None:
    a = contents.digest_lines(DUMP.split(b"\n"))
    assert a["public.events"]["rows"] == 2 and a["public.empty"]["rows"] == 0
    swapped = contents.digest_lines(DUMP.replace(b"1\tone\n2\ttwo", b"2\ttwo\n1\tone").split(b"\n"))
    assert swapped == a
    changed = contents.digest_lines(DUMP.replace(b"two", b"twO").split(b"\n"))
    assert contents.differences(a, changed) == ["public.events: same row count (2) but different contents"]
    path = tmp_path / "x.sql.gz"
    path.write_bytes(gzip.compress(DUMP))
    assert contents.digest_file(str(path)) == a
    assert contents.differences(a, {}) == ["public.empty: missing after restore",
                                           "public.events: missing after restore"]


def test_release_gate_only_with_required_before_release(tmp_path: Any) -> None:
    import pytest

    from togather_deploy.errors import DeployError

    state = str(tmp_path / "state")
    backup_status.release_gate(cfg(state), files.now())  # not required: never blocks
    raw_cfg = cfg(state)
    import dataclasses
    required = dataclasses.replace(raw_cfg, backup=dataclasses.replace(raw_cfg.backup,
                                                                       required_before_release=True))
    with pytest.raises(DeployError, match="never succeeded"):
        backup_status.release_gate(required, files.now())
    backup_jobs.finish(required, "backup", started=files.now(), ok=True, detail="uploaded")
    backup_status.release_gate(required, files.now())
    with pytest.raises(DeployError, match="h old"):
        backup_status.release_gate(required, files.now() + 40 * 3600)
    backup_jobs.finish(required, "backup", started=files.now(), ok=False, detail="server down")
    with pytest.raises(DeployError, match="server down"):
        backup_status.release_gate(required, files.now())
