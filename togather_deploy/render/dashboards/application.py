"""The Application health dashboard: traffic, errors, latency, in-flight, DB pool (per slot)."""

from __future__ import annotations

from typing import Any

from togather_deploy.render.dashboards.common import dashboard, timeseries

UID = "togather-application"

_REQ = "togather_http_requests_total"
_LAT = "togather_http_request_duration_seconds_bucket"


def _quantile(q: str) -> tuple[str, str]:
    return (f"histogram_quantile({q}, sum by (slot, le) (rate({_LAT}[5m])))", f"p{q[2:]:0<2} {{{{slot}}}}")


def build() -> dict[str, Any]:
    panels = [
        timeseries("Request rate", [(f"sum by (slot) (rate({_REQ}[5m]))", "{{slot}}")], unit="reqps"),
        timeseries("Error rate (5xx %)", [(
            f'100 * sum by (slot) (rate({_REQ}{{status=~"5.."}}[5m]))'
            f" / sum by (slot) (rate({_REQ}[5m]))", "{{slot}}")], unit="percent",
            description="Share of requests answered with a 5xx; HighErrorRate fires above 5%."),
        timeseries("Latency p50 / p95 / p99", [_quantile("0.5"), _quantile("0.95"), _quantile("0.99")],
                   unit="s", description="HighLatency fires when p95 stays above 1s."),
        timeseries("Requests by status", [(f"sum by (status) (rate({_REQ}[5m]))", "{{status}}")],
                   unit="reqps"),
        timeseries("In-flight requests", [("togather_http_requests_in_flight", "{{slot}}")]),
        timeseries("Database pool", [
            ("togather_db_connections_in_use", "in use {{slot}}"),
            ("togather_db_connections_idle", "idle {{slot}}"),
            ("togather_db_connections_open", "open {{slot}}"),
            ("togather_db_connections_max_open", "max {{slot}}")],
            description="When in use reaches max, requests queue for a connection."),
    ]
    return dashboard(UID, "Togather / Application health", panels, tags=["application"])
