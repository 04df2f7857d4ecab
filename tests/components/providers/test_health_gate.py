"""``HealthGate`` provider, called over the wire exactly as the engine calls it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from components.providers.health_gate import HealthGateProvider, needs_run
from testkit.ports import closed_port
from testkit.provider_wire import UNKNOWN, ProviderCallError, ProviderWire
from testkit.stub_app import StubApp
from togather_deploy.commands.runner import running_argv


@pytest.fixture
def app() -> Iterator[StubApp]:
    with StubApp(slot="green", version="v1.5.0") as stub:
        yield stub


def _props(url: str, **over: Any) -> dict[str, Any]:
    return {"color": "green", "base_url": url, "version": "v1.5.0", "container": "",
            "container_id": "c1", "active": False, "path": "/health", "interval_seconds": 1,
            "timeout_seconds": 20, "consecutive": 2, "allow_degraded": False, **over}


def test_check_refuses_bad_colour_and_missing_version() -> None:
    result = HealthGateProvider().check({}, _props("http://x", color="red", version=""))
    assert sorted(f.property for f in result.failures) == ["color", "version"]


def test_create_records_the_verdict(app: StubApp, wire: ProviderWire) -> None:
    out = wire.create(HealthGateProvider(), _props(app.url)).outs
    assert (out["status"], out["version_seen"], out["started"]) == ("healthy", "v1.5.0", False)
    assert out["checked_at"].endswith("Z")


@pytest.mark.parametrize("status,allow", [("unhealthy", True), ("degraded", False)])
def test_create_fails_with_health_error(app: StubApp, status: str, allow: bool, wire: ProviderWire) -> None:
    app.state.status = status
    with pytest.raises(ProviderCallError) as info:
        wire.create(HealthGateProvider(),
                    _props(app.url, timeout_seconds=1, allow_degraded=allow))
    assert info.value.type_name == "HealthError"
    assert "version seen: v1.5.0" in info.value.message and "slot: green" in info.value.message


def test_wrong_version_and_not_listening_fail(wire: ProviderWire) -> None:
    with closed_port() as port, pytest.raises(ProviderCallError, match="did not become healthy"):
        wire.create(HealthGateProvider(),
                    _props(f"http://127.0.0.1:{port}", timeout_seconds=1))


def test_update_runs_only_when_the_slot_changed_or_starts_serving(app: StubApp, wire: ProviderWire) -> None:
    first = wire.create(HealthGateProvider(), _props(app.url)).outs
    hits = app.state.hits["/health"]
    same = wire.update(HealthGateProvider(), "gate-green", first,
                        _props(app.url, timeout_seconds=99)).outs
    assert same["checked_at"] == first["checked_at"] and same["timeout_seconds"] == 99
    assert app.state.hits["/health"] == hits  # an idle, maybe stopped, colour is left alone
    app.state.version = "v1.6.0"
    moved = wire.update(HealthGateProvider(), "gate-green", first,
                         _props(app.url, version="v1.6.0", container_id="c2")).outs
    assert moved["version_seen"] == "v1.6.0" and app.state.hits["/health"] > hits


def test_needs_run_rules() -> None:
    old = {**_props("u"), "checked_at": "t"}
    assert not needs_run(old, _props("u", consecutive=5))
    assert needs_run(old, _props("u", container_id="c9"))
    assert needs_run(old, _props("u", active=True))  # rollback: start → gate → switch
    assert not needs_run({**old, "active": True}, _props("u", active=False))
    assert needs_run(None, _props("u"))


def test_docker_argv_builders() -> None:
    assert running_argv("c")[:2] == ("docker", "inspect")


def test_a_stopped_slot_is_started_before_the_gate(app: StubApp, workdir: str, wire: ProviderWire) -> None:
    bindir = os.path.join(workdir, "bin")
    os.makedirs(bindir)
    log = os.path.join(workdir, "docker.log")
    with open(os.path.join(bindir, "docker"), "w") as fh:  # recording fake: no engine in unit tests
        fh.write(f"#!/bin/sh\necho \"$*\" >> {log}\n[ \"$1\" = inspect ] && echo false\nexit 0\n")
    os.chmod(os.path.join(bindir, "docker"), 0o755)
    out = wire.create(HealthGateProvider(), _props(app.url, container="dev-app-green"),
                       env={"PATH": f"{bindir}:{os.environ['PATH']}"}).outs
    assert out["started"] is True
    with open(log) as fh:
        assert fh.read().splitlines() == ["inspect --format {{.State.Running}} dev-app-green",
                                          "start -- dev-app-green"]


def test_preview_with_an_unknown_container_id_is_an_update_not_a_crash(preview_wire: ProviderWire) -> None:
    """A replaced slot container has no id yet in preview: the gate will run again."""
    olds = {**_props("http://127.0.0.1:1"), "status": "healthy", "checked_at": "2026-01-01T00:00:00Z"}
    news = _props("http://127.0.0.1:1", container_id=UNKNOWN)
    assert preview_wire.check(HealthGateProvider(), olds, news).failures == []
    assert preview_wire.diff(HealthGateProvider(), "gate-green", olds, news).changes is True
    same = preview_wire.diff(HealthGateProvider(), "gate-green", olds, _props("http://127.0.0.1:1"))
    assert same.changes is False


def test_the_engine_s_float_settings_are_ints_again(wire: ProviderWire) -> None:
    checked = wire.check(HealthGateProvider(), {}, _props("http://x", consecutive=3.0, container=None))
    assert checked.failures == [] and checked.inputs["consecutive"] == 3
    bad = wire.check(HealthGateProvider(), {}, _props("http://x", consecutive=2.5))
    assert [(f.property, "2.5" in f.reason) for f in bad.failures] == [("consecutive", True)]


def _recording_docker(tmp: str) -> tuple[dict[str, str], str]:
    """A ``docker`` on PATH that records its argv and says the container runs."""
    bindir, log = os.path.join(tmp, "bin"), os.path.join(tmp, "docker.log")
    os.makedirs(bindir, exist_ok=True)
    with open(os.path.join(bindir, "docker"), "w") as fh:
        fh.write(f'#!/bin/sh\necho "$*" >> {log}\ncase "$1" in inspect) echo true;; esac\nexit 0\n')
    os.chmod(os.path.join(bindir, "docker"), 0o755)
    return {"PATH": f"{bindir}:{os.environ['PATH']}"}, log


@pytest.mark.parametrize("stop", [True, False])
def test_a_failed_gate_stops_a_colour_that_does_not_serve(app: StubApp, tmp_path: Any, stop: bool,
                                                          wire: ProviderWire) -> None:
    """stopIdleSlot holds after a failed release too: the new-version colour that never became
    healthy is stopped, so two job workers never run different code (hardening item 16)."""
    env, log = _recording_docker(str(tmp_path))
    app.state.status = "unhealthy"
    with pytest.raises(ProviderCallError) as info:
        wire.create(HealthGateProvider(), _props(app.url, container="dev-app-green", timeout_seconds=1,
                                                 stop_on_failure=stop), env=env)
    lines = Path(log).read_text().splitlines() if os.path.exists(log) else []
    stops = [ln for ln in lines if ln.startswith("stop")]
    assert stops == (["stop --time 15 -- dev-app-green"] if stop else [])
    assert ("stopped dev-app-green" in info.value.message) is stop


def test_what_serves_now_is_no_change_by_itself(app: StubApp, wire: ProviderWire) -> None:
    first = wire.create(HealthGateProvider(), _props(app.url)).outs
    assert wire.diff(HealthGateProvider(), "gate-green", first,
                     _props(app.url, stop_on_failure=True)).changes is False


@pytest.mark.parametrize(("running", "gate"), [("true", False), ("false", True)])
def test_becoming_active_re_gates_only_a_stopped_colour(tmp_path: Any, monkeypatch: pytest.MonkeyPatch,
                                                        running: str, gate: bool) -> None:
    """A flip to a running colour proven at this version leaves the probe to the switch (the
    flip-only ``pulumi up`` was 16 s under load against a 15 s goal); a stopped one (a rollback
    with stopIdleSlot) is started and gated again."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "docker").write_text(f'#!/bin/sh\necho {running}\n')
    (bindir / "docker").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bindir}:{os.environ['PATH']}")
    old = {**_props("u", container="dev-app-green"), "checked_at": "t"}
    assert needs_run(old, _props("u", container="dev-app-green", active=True)) is gate
