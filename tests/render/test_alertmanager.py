"""alertmanager.yml: checked by ``amtool check-config``; grouping and receivers per the issue."""

from __future__ import annotations

import shutil
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml

from togather_deploy.commands.runner import run
from togather_deploy.render.alertmanager import (
    NTFY_MESSAGE,
    NTFY_TITLE,
    alertmanager_config,
    ntfy_webhook_url,
    render_alertmanager_config,
)

pytestmark = pytest.mark.monitoring


def _amtool(tmp_path: Any, text: str) -> Any:
    assert shutil.which("amtool"), "amtool missing: run scripts/test (prometheus-alertmanager)"
    path = tmp_path / "alertmanager.yml"
    path.write_text(text)
    return run(["amtool", "check-config", str(path)], check=False, timeout=60)


@pytest.mark.parametrize("ntfy,hook", [
    ("https://ntfy.sh/togather-alerts", None),
    (None, "https://hooks.example.org/alerts?token=x"),
    ("https://ntfy.example.org/t?auth=abc", "http://127.0.0.1:9999/hook"),
    (None, None),
])
def test_renders_pass_amtool(tmp_path: Any, ntfy: str | None, hook: str | None) -> None:
    result = _amtool(tmp_path, render_alertmanager_config(ntfy, hook))
    assert result.ok, result.stdout + result.stderr


def test_amtool_rejects_a_broken_config(tmp_path: Any) -> None:
    text = render_alertmanager_config(None, "http://x/hook").replace("receiver: togather", "receiver: nobody")
    assert not _amtool(tmp_path, text).ok


def test_grouping_and_timings_from_the_issue() -> None:
    route = alertmanager_config(None, None)["route"]
    assert route == {"receiver": "togather", "group_by": ["alertname", "severity"],
                     "group_wait": "30s", "group_interval": "5m", "repeat_interval": "4h"}


def test_both_receivers_send_resolved() -> None:
    doc = yaml.safe_load(render_alertmanager_config("https://ntfy.sh/t", "https://h.example/x"))
    hooks = doc["receivers"][0]["webhook_configs"]
    assert [h["send_resolved"] for h in hooks] == [True, True]
    assert hooks[1]["url"] == "https://h.example/x"


def test_ntfy_url_carries_the_templates_and_keeps_its_own_query() -> None:
    url = ntfy_webhook_url("https://ntfy.example.org/alerts?auth=abc")
    parts = urlsplit(url)
    assert (parts.netloc, parts.path) == ("ntfy.example.org", "/alerts")
    query = parse_qs(parts.query)
    assert query["auth"] == ["abc"] and query["tpl"] == ["yes"]
    assert query["t"] == [NTFY_TITLE] and query["m"] == [NTFY_MESSAGE]


def test_no_url_means_no_integrations() -> None:
    assert alertmanager_config(None, None)["receivers"] == [{"name": "togather"}]
