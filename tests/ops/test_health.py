"""The health probe and gate against a real HTTP server on loopback."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from testkit.ports import closed_port
from testkit.stub_app import StubApp
from togather_deploy.errors import EXIT_HEALTH, HealthError
from togather_deploy.ops import health


@pytest.fixture
def app(monkeypatch: pytest.MonkeyPatch) -> Iterator[StubApp]:
    monkeypatch.setattr(health, "HEALTH_MIN_SPACING_S", 0.05)  # keep the tests quick
    with StubApp(slot="green", version="v1.5.0") as stub:
        yield stub


def test_probe_reads_status_version_slot_and_failing_checks(app: StubApp) -> None:
    app.state.status = "degraded"
    p = health.probe(app.url)
    assert (p.status_code, p.status, p.version, p.slot) == (200, "degraded", "v1.5.0", "green")
    assert p.failing_checks == {"job_queue": "warn: river_job table missing"}
    assert p.error is None


def test_probe_reads_the_503_body(app: StubApp) -> None:
    app.state.status = "unhealthy"
    p = health.probe(app.url)
    assert (p.status_code, p.status) == (503, "unhealthy")
    assert p.failing_checks == {"database": "fail: connection refused"}


def test_probe_describes_refused_bad_json_and_429(app: StubApp) -> None:
    with closed_port() as port:
        refused = health.probe(f"http://127.0.0.1:{port}", timeout=1)
    assert refused.status_code is None and refused.error and "refused" in refused.error.lower()
    app.state.bad_json = True
    assert health.probe(app.url).error == "response is not JSON"
    app.state.bad_json, app.state.rate_limited = False, True
    limited = health.probe(app.url)
    assert limited.status_code == 429 and limited.error == "rate limited (429)"


def test_probe_of_a_grpc_server_names_the_failure_instead_of_raising() -> None:
    """CI once met the provider wire's own gRPC server on a "free" port: the
    probe raised ``BadStatusLine`` carrying the binary HTTP/2 SETTINGS frame."""
    from concurrent import futures

    import grpc

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=1))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        p = health.probe(f"http://127.0.0.1:{port}", timeout=5)
    finally:
        server.stop(None)
    assert p.status_code is None and p.error is not None
    assert p.error.endswith("the port does not answer HTTP/1.x") and "\\x00" not in repr(p.error)


def test_wait_healthy_returns_after_consecutive_passes(app: StubApp) -> None:
    p = health.wait_healthy(app.url, version="v1.5.0", consecutive=3, timeout_s=10, interval_s=0.05)
    assert (p.status, p.version) == ("healthy", "v1.5.0")
    assert app.state.hits["/readyz"] >= 3
    # /health confirms the first and last round only; /readyz carries the streak.
    assert app.state.hits["/health"] == 2


@pytest.mark.parametrize("status,allow,why", [
    ("unhealthy", True, "HTTP 503"),
    ("degraded", False, "status 'degraded'"),
])
def test_wait_healthy_fails_with_status_checks_and_version(app: StubApp, status: str, allow: bool,
                                                           why: str) -> None:
    app.state.status = status
    with pytest.raises(HealthError) as info:
        health.wait_healthy(app.url, version="v1.5.0", allow_degraded=allow, timeout_s=0.6,
                            interval_s=0.05)
    err = info.value
    assert err.exit_code == EXIT_HEALTH
    assert why in str(err)
    assert "version seen: v1.5.0" in str(err)
    assert "check " in str(err)


def test_degraded_passes_when_allowed(app: StubApp) -> None:
    app.state.status = "degraded"
    p = health.wait_healthy(app.url, version="v1.5.0", allow_degraded=True, consecutive=2,
                            timeout_s=5, interval_s=0.05)
    assert p.status == "degraded"


def test_wrong_version_never_passes(app: StubApp) -> None:
    with pytest.raises(HealthError, match="version 'v1.5.0' \\(want 'v9'\\)"):
        health.wait_healthy(app.url, version="v9", timeout_s=0.5, interval_s=0.05)


def test_not_listening_fails_with_the_connection_error() -> None:
    with closed_port() as port, pytest.raises(HealthError, match="did not become healthy") as info:
        health.wait_healthy(f"http://127.0.0.1:{port}", version="v1", timeout_s=0.5,
                            interval_s=0.05)
    assert "last HTTP status: None" in str(info.value)


def test_not_ready_asks_health_once_at_the_end_to_name_the_failing_check(app: StubApp) -> None:
    """/readyz only says not_ready: the error must still say *which* check fails."""
    app.state.ready, app.state.status = False, "unhealthy"
    with pytest.raises(HealthError, match="HTTP 503") as info:
        health.wait_healthy(app.url, version="v1.5.0", timeout_s=0.5, interval_s=0.05)
    assert app.state.hits["/health"] == 1  # once, not once per /readyz round (rate limit)
    assert "check database: fail: connection refused" in str(info.value)
    assert "last status: unhealthy" in str(info.value)


def test_the_final_health_fetch_keeps_the_spacing(app: StubApp, monkeypatch: pytest.MonkeyPatch) -> None:
    """Not ready right after a /health: the last fetch waits out the spacing first."""
    monkeypatch.setattr(health, "HEALTH_MIN_SPACING_S", 0.6)
    app.state.status = "unhealthy"  # ready but unhealthy: /health is asked in the loop...
    stamps: list[float] = []

    def seen(p: health.Probe) -> None:
        if p.url.endswith("/health"):
            stamps.append(time.monotonic())
            app.state.ready = False  # ...then /readyz fails until the timeout

    with pytest.raises(HealthError, match="database: fail"):
        health.wait_healthy(app.url, version="v1", timeout_s=0.3, interval_s=0.01, on_probe=seen)
    assert len(stamps) == 2
    assert stamps[1] - stamps[0] >= 0.55


def test_a_slot_that_recovers_passes_and_a_break_resets_the_streak(app: StubApp) -> None:
    app.state.status = "unhealthy"
    seen: list[health.Probe] = []
    timer = threading.Timer(0.4, lambda: setattr(app.state, "status", "healthy"))
    timer.start()
    try:
        p = health.wait_healthy(app.url, version="v1.5.0", consecutive=2, timeout_s=10,
                                interval_s=0.05, on_probe=seen.append)
    finally:
        timer.cancel()
    assert p.status == "healthy"
    assert any(s.status == "unhealthy" for s in seen)


def test_429_backs_off_instead_of_failing(app: StubApp, monkeypatch: pytest.MonkeyPatch) -> None:
    app.state.rate_limited = True
    threading.Timer(0.3, lambda: setattr(app.state, "rate_limited", False)).start()
    p = health.wait_healthy(app.url, version="v1.5.0", consecutive=1, timeout_s=10, interval_s=0.05)
    assert p.status == "healthy"


def test_health_is_never_asked_faster_than_the_spacing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(health, "HEALTH_MIN_SPACING_S", 0.5)
    with StubApp(version="v1") as stub:
        stub.state.status = "unhealthy"
        start = time.monotonic()
        with pytest.raises(HealthError):
            health.wait_healthy(stub.url, version="v1", timeout_s=1.6, interval_s=0.01)
        elapsed = time.monotonic() - start
        # a count bound, not a timing assertion: at most one /health per spacing window
        assert stub.state.hits["/health"] <= int(elapsed / 0.5) + 1
