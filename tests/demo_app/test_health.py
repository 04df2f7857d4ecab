"""/health, /healthz, /readyz and /version of the demo server against a real PostgreSQL."""

from __future__ import annotations

import pytest

from testkit.demo_app import get_json, prepare_database
from testkit.ports import closed_port
from tests.demo_app.conftest import StartApp

pytestmark = pytest.mark.postgres


def test_healthy_when_migrated_and_job_queue_present(start_app: StartApp) -> None:
    app = start_app(version="v2.1.0", slot="green")
    status, body, headers = get_json(app.url + "/health")
    assert status == 200
    assert body["status"] == "healthy"
    assert (body["version"], body["slot"], body["git_commit"]) == ("v2.1.0", "green", "commit-v2.1.0")
    assert {name: c["status"] for name, c in body["checks"].items()} == \
        {"database": "pass", "migrations": "pass", "job_queue": "pass"}
    assert isinstance(body["checks"]["database"]["latency_ms"], int)
    assert body["timestamp"].endswith("Z")
    assert (headers["X-Togather-Slot"], headers["X-Togather-Version"]) == ("green", "v2.1.0")


def test_missing_job_queue_is_degraded_but_200(start_app: StartApp, database_url: str) -> None:
    app = start_app()
    prepare_database(database_url, job_queue=False)
    status, body, _ = get_json(app.url + "/health")
    assert (status, body["status"]) == (200, "degraded")
    assert body["checks"]["job_queue"] == {"status": "warn", "message": "river_job table missing"}
    assert get_json(app.url + "/readyz")[:2] == (200, {"status": "ready"})


def test_missing_schema_migrations_is_unhealthy(start_app: StartApp) -> None:
    app = start_app(migrated=False)
    status, body, _ = get_json(app.url + "/health")
    assert (status, body["status"]) == (503, "unhealthy")
    assert body["checks"]["migrations"]["status"] == "fail"
    assert "missing" in body["checks"]["migrations"]["message"]
    assert get_json(app.url + "/readyz")[:2] == (503, {"status": "not_ready"})


def test_dirty_migration_is_unhealthy(start_app: StartApp, database_url: str) -> None:
    app = start_app()
    prepare_database(database_url, version=7, dirty=True)
    status, body, _ = get_json(app.url + "/health")
    assert (status, body["status"]) == (503, "unhealthy")
    assert "7 is dirty" in body["checks"]["migrations"]["message"]
    assert get_json(app.url + "/readyz")[0] == 503


def test_database_down_is_unhealthy_but_alive(start_app: StartApp) -> None:
    with closed_port() as port:
        app = start_app(migrated=False,
                        database_url=f"postgres://postgres:x@127.0.0.1:{port}/postgres")
        status, body, _ = get_json(app.url + "/health")
        assert (status, body["status"]) == (503, "unhealthy")
        assert body["checks"]["database"]["status"] == "fail"
        assert get_json(app.url + "/healthz")[:2] == (200, {"status": "ok"})
        assert get_json(app.url + "/readyz")[0] == 503


def test_version_endpoint(start_app: StartApp) -> None:
    app = start_app(version="v3.0.0")
    status, body, _ = get_json(app.url + "/version")
    assert status == 200
    assert set(body) == {"version", "git_commit", "build_date", "go_version"}
    assert body["version"] == "v3.0.0"


def test_control_file_forces_status_version_readiness_and_delay(start_app: StartApp) -> None:
    import time

    app = start_app()
    app.set_control(health="unhealthy")
    status, body, _ = get_json(app.url + "/health")
    assert (status, body["status"]) == (503, "unhealthy")
    assert body["checks"]["demo_control"]["status"] == "fail"
    app.set_control(health="degraded", version="v9-wrong")
    status, body, headers = get_json(app.url + "/health")
    assert (status, body["status"], body["version"]) == (200, "degraded", "v9-wrong")
    assert headers["X-Togather-Version"] == "v9-wrong"
    assert get_json(app.url + "/version")[1]["version"] == "v9-wrong"
    app.set_control(ready=False, live=False)
    assert get_json(app.url + "/readyz")[:2] == (503, {"status": "not_ready"})
    assert get_json(app.url + "/healthz")[0] == 503
    app.set_control(delay_ms=300)
    started = time.monotonic()
    assert get_json(app.url + "/api/v1/events")[0] == 200
    assert time.monotonic() - started >= 0.29  # a lower bound only: sleeping never ends early
    app.set_control()
    assert get_json(app.url + "/health")[1]["status"] == "healthy"


def test_demo_health_env_sets_the_initial_status(start_app: StartApp) -> None:
    app = start_app(env={"DEMO_HEALTH": "degraded"})
    assert get_json(app.url + "/health")[1]["status"] == "degraded"
