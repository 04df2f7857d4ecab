"""The ``togather_deploy_*`` textfile: exact names, atomic writes, real ``promtool check metrics``."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from datetime import UTC, datetime

import pytest
from prometheus_client.parser import text_string_to_metric_families

from togather_deploy.config.model import load_config
from togather_deploy.db.snapshots import store as snapshots
from togather_deploy.errors import ConfigError
from togather_deploy.ops import audit
from togather_deploy.ops import metrics as deploy_metrics

pytestmark = pytest.mark.monitoring


def _promtool_check(text: str) -> subprocess.CompletedProcess[str]:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.fail("promtool is not installed: run scripts/test, which installs prometheus")
    return subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True,
                          text=True, timeout=60, check=False)


def _samples(text: str) -> dict[str, float]:
    """``name{label="v",...}`` → value, read back with prometheus_client's own parser."""
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            labels = ",".join(f'{k}="{v}"' for k, v in sorted(s.labels.items()))
            out[s.name + (f"{{{labels}}}" if labels else "")] = s.value
    return out


def _cfg(tmp_path):
    raw = {"environment": "development", "image": "togather", "activeColor": "green",
           "blue": {"version": "v1.4.0"}, "green": {"version": "v1.5.0"},
           "stateDir": str(tmp_path / "state")}
    return load_config(raw, project="togather-deploy", stack="t", project_dir=str(tmp_path))


def test_render_has_every_contract_name_and_passes_promtool():
    m = deploy_metrics.DeployMetrics(
        last_timestamp=1_700_000_000.5, last_success=True, active_color="green",
        versions={"blue": "v1.4.0", "green": 'v1.5.0'},
        snapshot=deploy_metrics.SnapshotFacts("/s/x.dump", 1_699_999_000, 123456),
        events={"deployment.completed": 3, "deployment.started": 4})
    text = deploy_metrics.render(m)
    assert _samples(text) == {
        "togather_deploy_last_timestamp_seconds": 1_700_000_000.5,
        "togather_deploy_last_success": 1,
        'togather_deploy_active_color{color="green"}': 1,
        'togather_deploy_active_color{color="blue"}': 0,
        'togather_deploy_version_info{color="blue",version="v1.4.0"}': 1,
        'togather_deploy_version_info{color="green",version="v1.5.0"}': 1,
        "togather_deploy_last_snapshot_timestamp_seconds": 1_699_999_000,
        "togather_deploy_last_snapshot_size_bytes": 123456,
        'togather_deploy_events_total{event="deployment.completed"}': 3,
        'togather_deploy_events_total{event="deployment.started"}': 4}
    assert "# TYPE togather_deploy_events_total counter" in text
    result = _promtool_check(text)
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_would_catch_a_broken_file():
    # proves the check above can fail: a counter without the _total suffix is linted
    broken = "# HELP x_events events\n# TYPE x_events counter\nx_events 1\n"
    assert _promtool_check(broken).returncode != 0


def test_missing_version_and_snapshot_are_left_out():
    text = deploy_metrics.render(deploy_metrics.DeployMetrics(
        last_timestamp=1, last_success=False, active_color="blue", versions={"blue": "v1", "green": None}))
    assert _samples(text)["togather_deploy_last_success"] == 0
    assert 'color="green",version' not in text
    assert "snapshot" not in text
    assert _promtool_check(text).returncode == 0


def _snapshot(directory: str, ts: int, size: int) -> str:
    """A file named as togather_deploy.db.snapshots.store names complete snapshots."""
    os.makedirs(directory, exist_ok=True)
    when = datetime.fromtimestamp(ts, UTC)
    path = os.path.join(directory, snapshots.snapshot_name("togather", when, "v1.4.0"))
    with open(path, "wb") as fh:
        fh.write(b"x" * size)
    return path


def _at(t: float):
    return lambda: t


def test_publish_writes_atomically_with_snapshot_and_audit_counts(tmp_path):
    cfg = _cfg(tmp_path)
    _snapshot(cfg.snapshots.dir, 1_800_000_000, 10)
    _snapshot(cfg.snapshots.dir, 1_800_000_600, 20)
    for kind, at in (("deployment.started", 100.0), ("deployment.completed", 200.0),
                     ("deployment.started", 300.0)):
        audit.append(cfg.state_dir, audit.make_event(kind, stack="t", version="v1.5.0",
                                                     from_color="blue", to_color="green",
                                                     clock=_at(at)))
    old_umask = os.umask(0o077)  # a strict umask must not hide the file from node-exporter
    try:
        path = deploy_metrics.publish(cfg)
    finally:
        os.umask(old_umask)
    assert path == os.path.join(cfg.state_dir, "metrics", "togather_deploy.prom")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o644
    assert os.listdir(os.path.dirname(path)) == ["togather_deploy.prom"]  # no temp file left
    with open(path) as fh:
        text = fh.read()
    got = _samples(text)
    assert got["togather_deploy_last_snapshot_timestamp_seconds"] == 1_800_000_600
    # the last *finished* deploy (a later one is still running), the colours from the stack config
    assert got["togather_deploy_last_timestamp_seconds"] == 200
    assert got["togather_deploy_last_success"] == 1
    assert got['togather_deploy_active_color{color="green"}'] == 1
    assert got['togather_deploy_version_info{color="blue",version="v1.4.0"}'] == 1
    assert got["togather_deploy_last_snapshot_size_bytes"] == 20
    assert got['togather_deploy_events_total{event="deployment.started"}'] == 2
    assert _promtool_check(text).returncode == 0


def test_no_snapshot_directory_means_no_snapshot_metrics(tmp_path):
    assert deploy_metrics.latest_snapshot(str(tmp_path / "none")) is None


def test_a_failed_last_deploy_reads_as_failure(tmp_path):
    cfg = _cfg(tmp_path)
    for kind in ("deployment.completed", "deployment.rolled_back"):
        audit.append(cfg.state_dir, audit.make_event(kind, stack="t", version="v2",
                                                     from_color="green", to_color="blue"))
    m = deploy_metrics.gather(cfg)
    assert m.last_success is False and m.events == {"deployment.completed": 1,
                                                    "deployment.rolled_back": 1}


def test_a_metrics_directory_symlinked_elsewhere_by_another_user_is_refused(tmp_path):
    cfg = _cfg(tmp_path)
    os.makedirs(cfg.state_dir, mode=0o700)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    link = os.path.join(cfg.state_dir, "metrics")
    os.symlink(elsewhere, link)
    os.lchown(link, 65534, 65534)
    with pytest.raises(ConfigError, match="is a symlink owned by uid 65534"):
        deploy_metrics.publish(cfg)
    assert os.listdir(elsewhere) == []
