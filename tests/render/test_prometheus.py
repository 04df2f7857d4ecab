"""prometheus.yml: checked by ``promtool check config`` together with the rendered rules."""

from __future__ import annotations

import shutil
from typing import Any

import pytest
import yaml

from togather_deploy.commands.runner import run
from togather_deploy.render.alert_rules import DEFAULT_DURATIONS, render_alert_rules
from togather_deploy.render.prometheus import (
    APP_JOB,
    PrometheusSettings,
    ScrapeTargets,
    container_targets,
    prometheus_config,
    render_prometheus_config,
)

pytestmark = pytest.mark.monitoring


def _write(tmp_path: Any, text: str) -> str:
    (tmp_path / "rules").mkdir(exist_ok=True)
    (tmp_path / "rules" / "togather.yml").write_text(render_alert_rules(2))
    path = tmp_path / "prometheus.yml"
    path.write_text(text)
    return str(path)


def test_container_config_passes_promtool(tmp_path: Any) -> None:
    assert shutil.which("promtool"), "promtool missing: run scripts/test"
    path = _write(tmp_path, render_prometheus_config(container_targets()))
    result = run(["promtool", "check", "config", path], check=False, timeout=60)
    assert result.ok, result.stdout + result.stderr
    assert "1 rule files found" in result.stdout and f"{len(DEFAULT_DURATIONS)} rules found" in result.stdout


def test_broken_rules_fail_promtool(tmp_path: Any) -> None:
    """The check above can fail: a rule file promtool rejects makes the config check fail."""
    path = _write(tmp_path, render_prometheus_config(container_targets()))
    broken = "groups: [{name: x, rules: [{alert: A, expr: 'up =='}]}]"
    (tmp_path / "rules" / "togather.yml").write_text(broken)
    assert not run(["promtool", "check", "config", path], check=False, timeout=60).ok


def test_both_colours_scraped_with_a_slot_label() -> None:
    cfg = prometheus_config(container_targets())
    app = next(j for j in cfg["scrape_configs"] if j["job_name"] == APP_JOB)  # type: ignore[attr-defined]
    groups = {g["labels"]["slot"]: g["targets"] for g in app["static_configs"]}
    assert groups == {"blue": ["app-blue:8080"], "green": ["app-green:8080"]}


def test_every_component_is_scraped_and_alerts_go_to_alertmanager() -> None:
    cfg = prometheus_config(container_targets())
    jobs = {j["job_name"] for j in cfg["scrape_configs"]}  # type: ignore[attr-defined]
    assert jobs == {"togather", "node", "postgres", "alertmanager", "prometheus"}
    assert cfg["alerting"] == {"alertmanagers": [{"static_configs": [{"targets": ["alertmanager:9093"]}]}]}
    assert cfg["rule_files"] == ["rules/*.yml"]


def test_targets_and_timings_are_parameters() -> None:
    targets = ScrapeTargets(apps={"blue": "127.0.0.1:1"}, node_exporter="127.0.0.1:2",
                            postgres_exporter="127.0.0.1:3", alertmanager="127.0.0.1:4",
                            prometheus="127.0.0.1:5")
    doc = yaml.safe_load(render_prometheus_config(targets, PrometheusSettings(scrape_interval="1s")))
    assert doc["global"]["scrape_interval"] == "1s"
    assert "127.0.0.1:3" in str(doc["scrape_configs"])
    assert render_prometheus_config(targets) == render_prometheus_config(targets)  # deterministic
