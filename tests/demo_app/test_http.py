"""HTTP behaviour of the demo server: keep-alive, rate limits, metrics, methods, refusal to start."""

from __future__ import annotations

import http.client
import os
import shutil
import subprocess
import sys

import pytest

from testkit.demo_app import JWT_SECRET, SERVER, get_json
from tests.demo_app.conftest import StartApp

pytestmark = pytest.mark.postgres

METRIC_NAMES = (
    "togather_app_info", "togather_health_status", "togather_health_check_status",
    "togather_health_check_latency_ms", "togather_http_requests_total",
    "togather_http_request_duration_seconds_bucket", "togather_http_requests_in_flight",
    "togather_db_connections_open", "togather_db_connections_in_use", "togather_db_connections_idle",
    "togather_db_connections_max_open", "togather_river_jobs_in_flight",
    "process_start_time_seconds", "process_resident_memory_bytes",
)


def test_keep_alive_serves_many_requests_on_one_connection(start_app: StartApp) -> None:
    app = start_app()
    conn = http.client.HTTPConnection("127.0.0.1", app.port, timeout=5)
    conn.connect()
    first_socket = conn.sock
    for i in range(30):
        path = "/api/v1/events" if i % 2 else "/healthz"
        conn.request("GET", path)
        resp = conn.getresponse()
        assert resp.status == 200
        assert resp.getheader("X-Togather-Slot") == "blue"
        resp.read()
        assert not resp.will_close
    assert conn.sock is first_socket  # http.client would have reconnected after a close
    conn.close()


def test_public_tier_is_rate_limited_per_client(start_app: StartApp) -> None:
    app = start_app(env={"RATE_LIMIT_PUBLIC": "5"})
    statuses = [get_json(app.url + "/version")[0] for _ in range(8)]
    assert statuses[:5] == [200] * 5
    assert statuses[5:] == [429] * 3
    # Probes and the API are not in the public tier.
    assert {get_json(app.url + "/healthz")[0] for _ in range(20)} == {200}
    assert {get_json(app.url + "/readyz")[0] for _ in range(20)} == {200}
    assert get_json(app.url + "/health")[0] == 429


def _get(port: int, path: str, forwarded_for: str) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    conn.request("GET", path, headers={"X-Forwarded-For": forwarded_for})
    status = conn.getresponse().status
    conn.close()
    return status


def test_forwarded_for_is_honoured_only_from_trusted_proxies(start_app: StartApp) -> None:
    untrusted = start_app(env={"RATE_LIMIT_PUBLIC": "2"})
    assert [_get(untrusted.port, "/version", f"203.0.113.{i}") for i in range(3)] == [200, 200, 429]
    trusted = start_app(env={"RATE_LIMIT_PUBLIC": "2", "TRUSTED_PROXY_CIDRS": "127.0.0.0/8"})
    assert [_get(trusted.port, "/version", f"203.0.113.{i}") for i in range(3)] == [200, 200, 200]
    assert [_get(trusted.port, "/version", "198.51.100.7") for _ in range(3)] == [200, 200, 429]


def test_metrics_have_the_contract_names(start_app: StartApp) -> None:
    app = start_app()
    get_json(app.url + "/api/v1/events")
    conn = http.client.HTTPConnection("127.0.0.1", app.port, timeout=5)
    conn.request("GET", "/metrics")
    resp = conn.getresponse()
    text = resp.read().decode()
    conn.close()
    assert resp.status == 200
    assert resp.getheader("Content-Type", "").startswith("text/plain")
    names = {line.split("{")[0].split(" ")[0] for line in text.splitlines() if not line.startswith("#")}
    assert set(METRIC_NAMES) <= names
    assert 'togather_http_requests_total{method="GET",path="/api/v1/events",status="200"} 1' in text
    assert 'togather_health_status{slot="blue"} 2' in text


@pytest.mark.monitoring
def test_metrics_pass_promtool(start_app: StartApp) -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.fail("promtool is not installed: run scripts/test, which installs prometheus")
    app = start_app()
    get_json(app.url + "/api/v1/slow?ms=1")
    conn = http.client.HTTPConnection("127.0.0.1", app.port, timeout=5)
    conn.request("GET", "/metrics")
    text = conn.getresponse().read().decode()
    conn.close()
    proc = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True,
                          timeout=30, check=False)
    # Exit 1 with "error while linting" is a parse error; 3 is lint only, and the one lint
    # complaint allowed is the contract's own name (latency in "_ms").
    output = proc.stderr + proc.stdout
    assert proc.returncode in (0, 3), output
    lint = [ln for ln in output.splitlines() if ln.strip()]
    assert all(ln.startswith("togather_health_check_latency_ms ") for ln in lint), output


def test_methods_slow_bounds_and_unknown_paths(start_app: StartApp) -> None:
    app = start_app()
    conn = http.client.HTTPConnection("127.0.0.1", app.port, timeout=10)
    conn.request("HEAD", "/api/v1/events")
    resp = conn.getresponse()
    assert (resp.status, resp.read()) == (200, b"")
    assert int(resp.getheader("Content-Length", "0")) > 0
    conn.request("POST", "/api/v1/events", body=b"{}")
    resp = conn.getresponse()
    resp.read()
    assert (resp.status, resp.getheader("Allow")) == (405, "GET, HEAD")
    conn.close()
    assert get_json(app.url + "/api/v1/slow?ms=6000")[0] == 400
    assert get_json(app.url + "/api/v1/slow?ms=abc")[0] == 400
    assert get_json(app.url + "/api/v1/slow?ms=20")[1]["slept_ms"] == 20
    assert get_json(app.url + "/nowhere")[0] == 404


@pytest.mark.parametrize(("env", "named"), [
    ({"JWT_SECRET": JWT_SECRET}, "DATABASE_URL"),
    ({"DATABASE_URL": "postgres://x@127.0.0.1/x"}, "JWT_SECRET"),
    ({"DATABASE_URL": "postgres://x@127.0.0.1/x", "JWT_SECRET": "short"}, "JWT_SECRET"),
    ({"DATABASE_URL": "postgres://x@127.0.0.1/x", "JWT_SECRET": JWT_SECRET, "CSRF_KEY": "short"},
     "CSRF_KEY"),
    ({"DATABASE_URL": "postgres://x@127.0.0.1/x", "JWT_SECRET": JWT_SECRET,
      "ENVIRONMENT": "production"}, "CORS_ALLOWED_ORIGINS"),
    ({"DATABASE_URL": "postgres://x@127.0.0.1/x", "JWT_SECRET": JWT_SECRET,
      "TRUSTED_PROXY_CIDRS": "not-a-cidr"}, "TRUSTED_PROXY_CIDRS"),
])
def test_refuses_to_start_without_required_env(env: dict[str, str], named: str) -> None:
    proc = subprocess.run([sys.executable, SERVER, "serve"], env={"PATH": os.environ["PATH"], **env},
                          capture_output=True, text=True, timeout=30, check=False)
    assert proc.returncode == 1
    assert named in proc.stderr
    assert "refusing to start" in proc.stderr


def test_unknown_command_is_a_usage_error() -> None:
    proc = subprocess.run([sys.executable, SERVER, "migrate"], capture_output=True, text=True,
                          timeout=30, check=False)
    assert proc.returncode == 2
