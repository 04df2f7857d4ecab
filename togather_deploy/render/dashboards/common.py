"""Panel and dashboard builders shared by the four dashboards (pure, plain dicts).

Every panel and every query names the provisioned Prometheus datasource by its
fixed uid, so the dashboards work on a fresh Grafana without any clicking.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

DATASOURCE_UID = "togather-prometheus"
DATASOURCE: dict[str, str] = {"type": "prometheus", "uid": DATASOURCE_UID}
SCHEMA_VERSION = 39
PANEL_WIDTH = 12
PANEL_HEIGHT = 8

Target = tuple[str, str]
"""A query and its legend (``{{slot}}``-style Grafana template)."""


def _targets(queries: Sequence[Target], *, instant: bool = False,
             fmt: str = "time_series") -> list[dict[str, Any]]:
    return [{"datasource": DATASOURCE, "refId": chr(ord("A") + i), "expr": expr,
             "legendFormat": legend, "instant": instant, "range": not instant, "format": fmt}
            for i, (expr, legend) in enumerate(queries)]


def timeseries(title: str, queries: Sequence[Target], *, unit: str = "short",
               description: str = "") -> dict[str, Any]:
    return {"type": "timeseries", "title": title, "description": description,
            "datasource": DATASOURCE, "targets": _targets(queries),
            "fieldConfig": {"defaults": {"unit": unit}, "overrides": []}}


def stat(title: str, queries: Sequence[Target], *, unit: str = "short", description: str = "",
         mappings: Sequence[dict[str, Any]] = ()) -> dict[str, Any]:
    return {"type": "stat", "title": title, "description": description,
            "datasource": DATASOURCE, "targets": _targets(queries, instant=True),
            "options": {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
                        "textMode": "value_and_name"},
            "fieldConfig": {"defaults": {"unit": unit, "mappings": list(mappings)}, "overrides": []}}


def table(title: str, queries: Sequence[Target], *, unit: str = "short",
          description: str = "") -> dict[str, Any]:
    return {"type": "table", "title": title, "description": description,
            "datasource": DATASOURCE, "targets": _targets(queries, instant=True, fmt="table"),
            "fieldConfig": {"defaults": {"unit": unit}, "overrides": []}}


def value_text(mapping: dict[str, tuple[str, str]]) -> dict[str, Any]:
    """A Grafana value mapping: number → (text, colour)."""
    return {"type": "value", "options": {k: {"text": t, "color": c, "index": i}
                                         for i, (k, (t, c)) in enumerate(mapping.items())}}


def annotation(name: str, expr: str, title: str) -> dict[str, Any]:
    """A Prometheus annotation query: a marker wherever ``expr`` has a sample."""
    return {"name": name, "datasource": DATASOURCE, "enable": True, "iconColor": "orange",
            "expr": expr, "step": "60s", "titleFormat": title, "useValueForTime": False}


def dashboard(uid: str, title: str, panels: Sequence[dict[str, Any]], *,
              annotations: Sequence[dict[str, Any]] = (), tags: Sequence[str] = ()) -> dict[str, Any]:
    """A complete dashboard; panels are laid out two per row in the given order."""
    laid_out = []
    for i, panel in enumerate(panels):
        laid_out.append({**panel, "id": i + 1, "gridPos": {
            "x": (i % 2) * PANEL_WIDTH, "y": (i // 2) * PANEL_HEIGHT,
            "w": PANEL_WIDTH, "h": PANEL_HEIGHT}})
    builtin = {"builtIn": 1, "datasource": {"type": "grafana", "uid": "-- Grafana --"},
               "enable": True, "hide": True, "iconColor": "rgba(0, 211, 255, 1)",
               "name": "Annotations & Alerts", "type": "dashboard"}
    return {"uid": uid, "title": title, "tags": ["togather", *tags], "editable": False,
            "schemaVersion": SCHEMA_VERSION, "version": 1, "time": {"from": "now-6h", "to": "now"},
            "refresh": "30s", "timezone": "browser",
            "annotations": {"list": [builtin, *annotations]}, "panels": laid_out}


def queries_of(dash: dict[str, Any]) -> list[str]:
    """Every PromQL expression in a dashboard (panels and annotations)."""
    exprs = [t["expr"] for p in dash["panels"] for t in p.get("targets", [])]
    exprs += [a["expr"] for a in dash["annotations"]["list"] if "expr" in a]
    return exprs


_KEYWORDS = frozenset({"and", "or", "unless", "by", "without", "on", "ignoring", "group_left",
                       "group_right", "offset", "bool", "inf", "nan", "atan2"})


def metric_names(expr: str) -> set[str]:
    """Metric names a PromQL expression selects (what must exist for a panel to show data).

    A small lexer, enough for the expressions we write: strings, label matchers,
    ranges and grouping clauses are dropped, then every identifier that is not a
    function call or a keyword is a metric name.
    """
    text = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'', '""', expr)
    text = re.sub(r"\{[^}]*\}", "{}", text)
    text = re.sub(r"\[[^\]]*\]", "", text)
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)
    names = re.findall(r"(?<![\w.:])([A-Za-z_:][\w:]*)(?![\w:])(?!\s*\()", text)
    return {n for n in names if n.lower() not in _KEYWORDS}
