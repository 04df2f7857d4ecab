"""Alert rules: checked by ``promtool check rules`` and unit-tested with ``promtool test rules``.

Every alert has a case that must fire and a case that must stay silent; the
catalogue and the cases are compared so a new alert cannot ship untested.
"""

from __future__ import annotations

import os
import shutil
from typing import Any

import pytest
import yaml

from togather_deploy.commands.runner import run
from togather_deploy.errors import DeployError
from togather_deploy.render.alert_rules import DEFAULT_DURATIONS, alert_rules, render_alert_rules

pytestmark = pytest.mark.monitoring

ACTIVE_BLUE = [
    {"series": 'togather_deploy_active_color{job="node",instance="n",color="blue"}', "values": "1x40"},
    {"series": 'togather_deploy_active_color{job="node",instance="n",color="green"}', "values": "0x40"},
]
APP = 'job="togather",instance="app-blue:8080",slot="blue"'
FS = 'job="node",instance="n",device="/dev/sda1",fstype="ext4",mountpoint="/"'
TMPFS = 'job="node",instance="n",fstype="tmpfs",mountpoint="/dev/shm"'


def _disk(labels: str, avail: str, size: str) -> list[dict[str, str]]:
    return [_s(f"node_filesystem_avail_bytes{{{labels}}}", avail),
            _s(f"node_filesystem_size_bytes{{{labels}}}", size)]


def _s(series: str, values: str) -> dict[str, str]:
    return {"series": series, "values": values}


def _buckets(le_values: dict[str, str]) -> list[dict[str, str]]:
    return [_s(f'togather_http_request_duration_seconds_bucket{{{APP},method="GET",path="/x",le="{le}"}}',
               v) for le, v in le_values.items()]


# alert -> (series that must fire it, labels it fires with, series that must not)
CASES: dict[str, tuple[list[dict[str, str]], dict[str, str], list[dict[str, str]]]] = {
    "HighErrorRate": (
        [_s(f'togather_http_requests_total{{{APP},method="GET",path="/x",status="500"}}', "0+10x40"),
         _s(f'togather_http_requests_total{{{APP},method="GET",path="/x",status="200"}}', "0+100x40")],
        {"slot": "blue", "severity": "critical"},
        [_s(f'togather_http_requests_total{{{APP},method="GET",path="/x",status="500"}}', "0+1x40"),
         _s(f'togather_http_requests_total{{{APP},method="GET",path="/x",status="200"}}', "0+100x40")]),
    "DatabaseDown": (
        [_s('pg_up{job="postgres",instance="pe"}', "0x40")],
        {"job": "postgres", "instance": "pe", "severity": "critical"},
        [_s('pg_up{job="postgres",instance="pe"}', "1x40"),
         _s('up{job="postgres",instance="pe"}', "1x40")]),
    "DiskSpaceLow": (
        _disk(FS, "5x40", "100x40"),
        {**dict(kv.split("=") for kv in FS.replace('"', "").split(",")), "severity": "warning"},
        # a nearly full tmpfs says nothing about the disk
        [*_disk(FS, "50x40", "100x40"), *_disk(TMPFS, "1x40", "100x40")]),
    "HighMemoryUsage": (
        [_s('node_memory_MemAvailable_bytes{job="node",instance="n"}', "10x40"),
         _s('node_memory_MemTotal_bytes{job="node",instance="n"}', "100x40")],
        {"job": "node", "instance": "n", "severity": "warning"},
        [_s('node_memory_MemAvailable_bytes{job="node",instance="n"}', "50x40"),
         _s('node_memory_MemTotal_bytes{job="node",instance="n"}', "100x40")]),
    "ServiceUnhealthy": (
        [*ACTIVE_BLUE, _s(f"togather_health_status{{{APP}}}", "0x40")],
        {"job": "togather", "instance": "app-blue:8080", "slot": "blue", "severity": "critical"},
        # the idle colour being unhealthy (or stopped) is not an incident
        [*ACTIVE_BLUE, _s(f"togather_health_status{{{APP}}}", "2x40"),
         _s('togather_health_status{job="togather",instance="app-green:8080",slot="green"}', "0x40")]),
    "HighLatency": (
        _buckets({"0.5": "0x40", "1": "0x40", "5": "0+10x40", "+Inf": "0+10x40"}),
        {"slot": "blue", "severity": "warning"},
        _buckets({"0.5": "0+10x40", "1": "0+10x40", "5": "0+10x40", "+Inf": "0+10x40"})),
    "TargetDown": (
        [*ACTIVE_BLUE, _s(f"up{{{APP}}}", "0x40")],
        {"job": "togather", "instance": "app-blue:8080", "slot": "blue", "severity": "critical"},
        # the stopped idle colour is down on purpose
        [*ACTIVE_BLUE, _s(f"up{{{APP}}}", "1x40"),
         _s('up{job="togather",instance="app-green:8080",slot="green"}', "0x40"),
         _s('up{job="node",instance="n"}', "1x40")]),
    "SnapshotTooOld": (
        # promtool's clock starts at 0: at 3d a snapshot taken at 0 is 3 days old (> 2)
        [_s('togather_deploy_last_snapshot_timestamp_seconds{job="node",instance="n"}', "0x4400")],
        {"job": "node", "instance": "n", "severity": "warning"},
        [_s('togather_deploy_last_snapshot_timestamp_seconds{job="node",instance="n"}', "100000x4400")]),
    "DeployMetricsMissing": (
        [_s('up{job="node",instance="n"}', "1x40")],
        {"severity": "warning"},
        ACTIVE_BLUE),
    "ConfigReloadFailed": (
        [_s('prometheus_config_last_reload_successful{job="prometheus",instance="localhost:9090"}', "0x40")],
        {"job": "prometheus", "instance": "localhost:9090", "severity": "warning"},
        [_s('prometheus_config_last_reload_successful{job="prometheus",instance="localhost:9090"}', "1x40"),
         _s('alertmanager_config_last_reload_successful{job="alertmanager",instance="am:9093"}', "1x40")]),
    "CertificateExpiresSoon": (
        # promtool's clock starts at 0: notAfter at 1e6 s is 11.6 days away (< 14), 5e6 is 58
        [_s('togather_tls_certificate_expiry_timestamp_seconds{job="node",instance="n",domain="e.org"}',
            "1000000x200")],
        {"job": "node", "instance": "n", "domain": "e.org", "severity": "critical"},
        [_s('togather_tls_certificate_expiry_timestamp_seconds{job="node",instance="n",domain="e.org"}',
            "5000000x200")]),
    "CertificateRenewalFailed": (
        [_s('togather_tls_renewal_last_success{job="node",instance="n"}', "0x40")],
        {"job": "node", "instance": "n", "severity": "warning"},
        [_s('togather_tls_renewal_last_success{job="node",instance="n"}', "1x40")]),
    # a backup configured by `pulumi up` 27 h ago whose job never ran: cron is not running
    "BackupNeverRan": (
        [_s('togather_backup_configured{job="node",instance="n"}', "1x1700")],
        {"job": "node", "instance": "n", "severity": "warning"},
        [_s('togather_backup_configured{job="node",instance="n"}', "1x1700"),
         _s('togather_backup_last_run_timestamp_seconds{job="node",instance="n",backup_job="backup"}',
            "0x1700")]),
    # promtool's clock starts at 0: at 2d a backup that last succeeded at 0 is 48 h old (> 36)
    "BackupTooOld": (
        [_s('togather_backup_last_success_timestamp_seconds{job="node",instance="n",backup_job="backup"}',
            "0x3000")],
        {"job": "node", "instance": "n", "backup_job": "backup", "severity": "warning"},
        [_s('togather_backup_last_success_timestamp_seconds{job="node",instance="n",backup_job="backup"}',
            "100000x3000"),
         _s('togather_backup_last_success_timestamp_seconds{job="node",instance="n",backup_job="drill"}',
            "0x3000")]),
    "BackupFailed": (
        [_s('togather_backup_last_run_success{job="node",instance="n",backup_job="backup"}', "0x40")],
        {"job": "node", "instance": "n", "backup_job": "backup", "severity": "warning"},
        [_s('togather_backup_last_run_success{job="node",instance="n",backup_job="backup"}', "1x40"),
         _s('togather_backup_last_run_success{job="node",instance="n",backup_job="drill"}', "0x40")]),
    "RestoreDrillFailed": (
        [_s('togather_backup_last_run_success{job="node",instance="n",backup_job="drill"}', "0x40")],
        {"job": "node", "instance": "n", "backup_job": "drill", "severity": "critical"},
        [_s('togather_backup_last_run_success{job="node",instance="n",backup_job="drill"}', "1x40"),
         _s('togather_backup_last_run_success{job="node",instance="n",backup_job="backup"}', "0x40")]),
}
EVAL_TIME = {"SnapshotTooOld": "3d", "CertificateExpiresSoon": "2h", "BackupTooOld": "2d",
             "BackupNeverRan": "27h"}


def _promtool(*args: str, cwd: str) -> Any:
    if shutil.which("promtool") is None:
        pytest.fail("promtool is not installed: run scripts/test (Debian package prometheus)")
    return run(["promtool", *args], check=False, timeout=120, env={"PWD": cwd})


def _test_file(tmp_path: Any, tests: list[dict[str, Any]], rules_text: str) -> str:
    (tmp_path / "rules.yml").write_text(rules_text)
    doc = {"rule_files": [str(tmp_path / "rules.yml")], "evaluation_interval": "1m", "tests": tests}
    path = tmp_path / "tests.yml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return str(path)


def test_every_alert_has_a_firing_and_a_silent_case() -> None:
    assert set(CASES) == set(DEFAULT_DURATIONS)
    names = [r["alert"] for r in alert_rules(2)["groups"][0]["rules"]]  # type: ignore[index]
    assert sorted(names) == sorted(CASES)


def test_rendered_rules_pass_promtool_check(tmp_path: Any) -> None:
    path = tmp_path / "togather.yml"
    path.write_text(render_alert_rules(2))
    result = _promtool("check", "rules", str(path), cwd=str(tmp_path))
    assert result.ok, result.stdout + result.stderr
    assert f"{len(DEFAULT_DURATIONS)} rules found" in result.stdout


def test_every_rule_tells_the_operator_what_to_do() -> None:
    for rule in alert_rules(2)["groups"][0]["rules"]:  # type: ignore[index]
        assert rule["labels"]["severity"] in ("critical", "warning")
        assert rule["annotations"]["summary"]
        assert len(rule["annotations"]["description"]) > 60


def test_research_durations() -> None:
    fors = {r["alert"]: r["for"] for r in alert_rules(2)["groups"][0]["rules"]}  # type: ignore[index]
    assert fors["HighErrorRate"] == "2m" and fors["DatabaseDown"] == "1m"
    assert fors["DiskSpaceLow"] == "5m" and fors["HighMemoryUsage"] == "10m"


def test_unknown_duration_override_is_refused() -> None:
    with pytest.raises(DeployError, match="HighErorRate"):
        alert_rules(2, {"HighErorRate": "1s"})


@pytest.mark.parametrize("alert", sorted(CASES))
def test_alert_fires_and_stays_silent(tmp_path: Any, alert: str) -> None:
    firing, labels, silent = CASES[alert]
    at = EVAL_TIME.get(alert, "30m")
    tests = [
        {"interval": "1m", "input_series": firing,
         "alert_rule_test": [{"eval_time": at, "alertname": alert, "exp_alerts": [{"exp_labels": labels}]}]},
        {"interval": "1m", "input_series": silent,
         "alert_rule_test": [{"eval_time": at, "alertname": alert, "exp_alerts": []}]},
    ]
    path = _test_file(tmp_path, tests, render_alert_rules(2, annotations=False))
    result = _promtool("test", "rules", path, cwd=str(tmp_path))
    assert result.ok, result.stdout + result.stderr


def test_for_duration_holds_back_a_short_blip(tmp_path: Any) -> None:
    """DatabaseDown needs 1m: a single failed scrape evaluation must not page."""
    tests = [{"interval": "1m", "input_series": [_s('pg_up{job="postgres",instance="pe"}', "1 0 1 1 1")],
              "alert_rule_test": [{"eval_time": "1m", "alertname": "DatabaseDown", "exp_alerts": []},
                                  {"eval_time": "2m", "alertname": "DatabaseDown", "exp_alerts": []}]}]
    path = _test_file(tmp_path, tests, render_alert_rules(2, annotations=False))
    result = _promtool("test", "rules", path, cwd=str(tmp_path))
    assert result.ok, result.stdout + result.stderr


def test_annotations_expand_with_labels_and_values(tmp_path: Any) -> None:
    series = [*ACTIVE_BLUE, _s(f"togather_health_status{{{APP}}}", "0x40")]
    tests = [{"interval": "1m", "input_series": series,
              "alert_rule_test": [{"eval_time": "30m", "alertname": "ServiceUnhealthy", "exp_alerts": [{
                  "exp_labels": CASES["ServiceUnhealthy"][1],
                  "exp_annotations": {
                      "summary": "The active slot (blue) reports itself not healthy",
                      "description": next(
                          r["annotations"]["description"] for r in alert_rules(2)["groups"][0]["rules"]  # type: ignore[index]
                          if r["alert"] == "ServiceUnhealthy").replace("{{ $value }}", "0")}}]}]}]
    path = _test_file(tmp_path, tests, render_alert_rules(2))
    result = _promtool("test", "rules", path, cwd=str(tmp_path))
    assert result.ok, result.stdout + result.stderr
    assert os.path.exists(path)


@pytest.mark.parametrize("allow_degraded,fires", [(False, True), (True, False)])
def test_degraded_pages_unless_the_stack_allows_degraded(tmp_path: Any, allow_degraded: bool,
                                                        fires: bool) -> None:
    series = [*ACTIVE_BLUE, _s(f"togather_health_status{{{APP}}}", "1x40")]
    expected = [{"exp_labels": CASES["ServiceUnhealthy"][1]}] if fires else []
    tests = [{"interval": "1m", "input_series": series, "alert_rule_test": [
        {"eval_time": "30m", "alertname": "ServiceUnhealthy", "exp_alerts": expected}]}]
    text = render_alert_rules(2, annotations=False, allow_degraded=allow_degraded)
    result = _promtool("test", "rules", _test_file(tmp_path, tests, text), cwd=str(tmp_path))
    assert result.ok, result.stdout + result.stderr


def test_unhealthy_pages_even_when_degraded_is_allowed(tmp_path: Any) -> None:
    series = [*ACTIVE_BLUE, _s(f"togather_health_status{{{APP}}}", "0x40")]
    tests = [{"interval": "1m", "input_series": series, "alert_rule_test": [
        {"eval_time": "30m", "alertname": "ServiceUnhealthy",
         "exp_alerts": [{"exp_labels": CASES["ServiceUnhealthy"][1]}]}]}]
    text = render_alert_rules(2, annotations=False, allow_degraded=True)
    result = _promtool("test", "rules", _test_file(tmp_path, tests, text), cwd=str(tmp_path))
    assert result.ok, result.stdout + result.stderr
