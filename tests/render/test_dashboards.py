"""Dashboards and Grafana provisioning: valid JSON, one datasource uid, PromQL that parses.

That every metric name they query is really exported is proven against the
real exporters in ``tests/integration/test_monitoring_e2e.py``.
"""

from __future__ import annotations

import json
import shutil
from typing import Any

import pytest
import yaml

from togather_deploy.commands.runner import run
from togather_deploy.render.dashboards.common import DATASOURCE_UID, metric_names, queries_of
from togather_deploy.render.grafana import (
    DASHBOARDS_SUBDIR,
    PROVISIONING_DIR,
    dashboards,
    provisioning_files,
)

FILES = provisioning_files("http://prometheus:9090")
MODELS = {name: json.loads(FILES[f"{DASHBOARDS_SUBDIR}/{name}.json"]) for name in dashboards()}


def test_four_dashboards_with_unique_uids() -> None:
    assert sorted(MODELS) == ["application", "database", "deployment", "infrastructure"]
    uids = [m["uid"] for m in MODELS.values()]
    assert len(set(uids)) == 4 and all(u.startswith("togather-") for u in uids)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_every_panel_and_query_uses_the_provisioned_datasource(name: str) -> None:
    model = MODELS[name]
    assert model["panels"], name
    for panel in model["panels"]:
        assert panel["datasource"] == {"type": "prometheus", "uid": DATASOURCE_UID}, panel["title"]
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == DATASOURCE_UID
    for ann in model["annotations"]["list"]:
        if "expr" in ann:
            assert ann["datasource"]["uid"] == DATASOURCE_UID


def test_datasource_has_the_fixed_uid_and_is_read_only() -> None:
    doc = yaml.safe_load(FILES["datasources/togather.yml"])
    (ds,) = doc["datasources"]
    assert ds["uid"] == DATASOURCE_UID and ds["type"] == "prometheus"
    assert ds["url"] == "http://prometheus:9090" and ds["editable"] is False


def test_dashboard_provider_points_at_the_json_directory() -> None:
    (provider,) = yaml.safe_load(FILES["dashboards/togather.yml"])["providers"]
    assert provider["options"]["path"] == f"{PROVISIONING_DIR}/{DASHBOARDS_SUBDIR}"
    assert provider["allowUiUpdates"] is False


@pytest.mark.monitoring
def test_every_expression_parses_with_promtool(tmp_path: Any) -> None:
    """promtool parses no bare expression, so each becomes a throwaway recording rule."""
    assert shutil.which("promtool"), "promtool missing: run scripts/test"
    rules = [{"record": f"check:{name}:{i}", "expr": expr}
             for name, model in MODELS.items() for i, expr in enumerate(queries_of(model))]
    path = tmp_path / "exprs.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboards", "rules": rules}]}))
    result = run(["promtool", "check", "rules", str(path)], check=False, timeout=60)
    assert result.ok, result.stdout + result.stderr
    assert f"{len(rules)} rules found" in result.stdout


@pytest.mark.monitoring
def test_a_broken_expression_is_caught(tmp_path: Any) -> None:
    path = tmp_path / "exprs.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "d", "rules": [
        {"record": "check:x", "expr": "sum by (slot (rate(x[5m]))"}]}]}))
    assert not run(["promtool", "check", "rules", str(path)], check=False, timeout=60).ok


def test_the_issue_s_panels_are_there() -> None:
    exprs = {name: " ".join(queries_of(m)) for name, m in MODELS.items()}
    assert "togather_deploy_active_color" in exprs["deployment"]
    assert "togather_deploy_version_info" in exprs["deployment"]
    assert "togather_health_status" in exprs["deployment"]
    assert any("togather_deploy_events_total" in a.get("expr", "")
               for a in MODELS["deployment"]["annotations"]["list"])
    for needle in ("histogram_quantile(0.5,", "histogram_quantile(0.95,", "histogram_quantile(0.99,",
                   "togather_http_requests_in_flight", "togather_db_connections_in_use", '"5.."'):
        assert needle in exprs["application"], needle
    for needle in ("node_cpu_seconds_total", "node_memory_MemAvailable_bytes",
                   "node_filesystem_avail_bytes", "node_network_receive_bytes_total"):
        assert needle in exprs["infrastructure"], needle
    for needle in ("pg_stat_database_numbackends", "pg_stat_database_blks_hit",
                   "pg_stat_database_xact_commit", "pg_table_size_bytes"):
        assert needle in exprs["database"], needle


def test_metric_names_skips_functions_labels_and_keywords() -> None:
    expr = ('sum by (slot, le) (rate(a_bucket{status=~"5..",x="y"}[5m])) / on (slot) group_left (color) '
            'label_replace(b == 1, "slot", "$1", "color", "(.+)") and time() - c offset 5m > 0.5')
    assert metric_names(expr) == {"a_bucket", "b", "c"}
    assert metric_names("topk(20, pg_table_size_bytes)") == {"pg_table_size_bytes"}
