"""``TrafficSwitch`` with real nginx and two demo-app processes (blue, green) on loopback.

The provider is called over the wire (gRPC, protobuf Structs) exactly as the engine calls it.
"""

from __future__ import annotations

import http.client
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from components.providers.traffic_switch import TrafficSwitchProvider, restored_on_failure, switch_summary
from tests.support.demo_app import DemoApp, prepare_database, start_demo_app
from tests.support.nginx import NginxRouter, nginx_available, start_router
from tests.support.ports import free_port
from tests.support.provider_wire import UNKNOWN, ProviderCallError, ProviderWire
from togather_deploy import ROOT
from togather_deploy.ops import router_files

pytestmark = [pytest.mark.nginx, pytest.mark.postgres,
              pytest.mark.skipif(not nginx_available(), reason="nginx + njs not installed: scripts/test")]
FAST_LIMITS = {"RATE_LIMIT_PUBLIC": "100000"}  # many switches per minute in one test


@dataclass
class World:
    blue: DemoApp
    green: DemoApp
    router: NginxRouter
    database_url: str

    def props(self, color: str, version: str, **over: Any) -> dict[str, Any]:
        slot = self.blue if color == "blue" else self.green
        return {"router_dir": self.router.conf_dir, "public_url": self.router.url,
                "active_color": color, "version": version, "target_url": slot.url,
                "health_path": "/health", "allow_degraded": False, "verify_path": "/version",
                "verify_timeout": 3, "stop_idle_slot": False, "idle_container": "",
                "drain_seconds": 0, "change": "", **over}

    def public(self) -> tuple[int, str | None, str | None]:
        conn = http.client.HTTPConnection("127.0.0.1", self.router.params.listen_port, timeout=10)
        try:
            conn.request("GET", "/api/v1/events")
            resp = conn.getresponse()
            resp.read()
            return resp.status, resp.getheader("X-Togather-Slot"), resp.getheader("X-Togather-Version")
        finally:
            conn.close()


@pytest.fixture
def world(database_url: str, workdir: str) -> Iterator[World]:
    prepare_database(database_url)
    blue = start_demo_app(port=free_port(), version="v1.4.0", slot="blue", database_url=database_url,
                          env=FAST_LIMITS)
    green = start_demo_app(port=free_port(), version="v1.5.0", slot="green", database_url=database_url,
                           env=FAST_LIMITS)
    world: World | None = None
    try:
        with start_router({"blue": f"127.0.0.1:{blue.port}", "green": f"127.0.0.1:{green.port}"},
                          os.path.join(workdir, "router")) as router:
            world = World(blue, green, router, database_url)
            yield world
    finally:
        # a test may have replaced a colour's process (world.green = …): stop what runs now
        for app in [blue, green, *((world.blue, world.green) if world else ())]:  # stop() is idempotent
            app.stop()


def test_summary_reads_like_the_issue() -> None:
    summary = switch_summary("blue", "v1.4.0", "green", "v1.5.0")
    assert summary == "activeColor: blue → green (v1.4.0 → v1.5.0)"


def test_diff_is_pure_and_only_colour_or_version_flip() -> None:
    p = TrafficSwitchProvider()
    base = {"router_dir": "/nonexistent", "public_url": "u", "active_color": "blue", "version": "v1",
            "target_url": "t"}
    assert not p.diff("s", base, {**base, "gate_checked_at": "later", "change": "x"}).changes
    assert p.diff("s", base, {**base, "active_color": "green"}).changes
    assert p.diff("s", base, {**base, "version": "v2"}).changes
    assert not os.path.exists("/nonexistent")


def test_switch_and_switch_back_without_reload(world: World, wire: ProviderWire) -> None:
    master = world.router.proc.pid
    first = wire.create(TrafficSwitchProvider(), world.props("blue", "v1.4.0")).outs
    assert world.public() == (200, "blue", "v1.4.0")
    out = wire.update(TrafficSwitchProvider(), "traffic-switch", first,
                       world.props("green", "v1.5.0")).outs
    assert (out["previous_color"], out["active_color"]) == ("blue", "green")
    assert out["latency_ms"] < 3000  # bounded by verify_timeout; speed lives in the benchmark
    assert world.public() == (200, "green", "v1.5.0")
    back = wire.update(TrafficSwitchProvider(), "traffic-switch", out,
                        world.props("blue", "v1.4.0")).outs
    assert back["previous_color"] == "green" and world.public() == (200, "blue", "v1.4.0")
    assert world.router.proc.pid == master and "reconfiguring" not in world.router.error_log()


@pytest.mark.parametrize("misbehaviour", ["unhealthy", "degraded", "wrong-version", "not-listening"])
def test_never_switches_to_a_bad_target(world: World, misbehaviour: str, wire: ProviderWire) -> None:
    wire.create(TrafficSwitchProvider(), world.props("blue", "v1.4.0"))
    props = world.props("green", "v1.5.0")
    if misbehaviour in ("unhealthy", "degraded"):
        world.green.set_control(health=misbehaviour)
    elif misbehaviour == "wrong-version":
        props["version"] = "v9.9.9"
    else:
        world.green.stop()
    with pytest.raises(ProviderCallError) as info:
        wire.update(TrafficSwitchProvider(), "traffic-switch", {}, props)
    assert info.value.type_name == "SwitchError" and "not switching to green" in info.value.message
    assert router_files.read_active_color(world.router.conf_dir) == "blue"
    assert world.public() == (200, "blue", "v1.4.0")


def test_a_verification_failure_is_rolled_back(world: World, workdir: str, wire: ProviderWire) -> None:
    # a router whose "green" points at blue: the slot is fine, the public path is not
    with start_router({"blue": f"127.0.0.1:{world.blue.port}", "green": f"127.0.0.1:{world.blue.port}"},
                      os.path.join(workdir, "misrouted")) as bad:
        props = {**world.props("green", "v1.5.0"), "router_dir": bad.conf_dir, "public_url": bad.url,
                 "verify_timeout": 1}
        with pytest.raises(ProviderCallError) as info:
            wire.update(TrafficSwitchProvider(), "traffic-switch", {}, props)
        assert "not verified" in info.value.message and "restored blue" in info.value.message
        assert router_files.read_active_color(bad.conf_dir) == "blue"


def _hammer(world: World, stop: threading.Event, errors: list[str], ok: list[int]) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", world.router.params.listen_port, timeout=10)
    deadline = time.monotonic() + 60
    while not stop.is_set() and time.monotonic() < deadline:
        try:
            conn.request("GET", "/api/v1/events")
            resp = conn.getresponse()
            resp.read()
            if resp.status != 200:
                errors.append(f"HTTP {resp.status}")
            ok.append(1)
        except (OSError, http.client.HTTPException) as exc:  # a keep-alive client that never retries
            errors.append(repr(exc))
            break
    conn.close()


@pytest.mark.slow
def test_replacing_the_idle_process_under_traffic_loses_no_request(world: World, wire: ProviderWire) -> None:
    wire.create(TrafficSwitchProvider(), world.props("blue", "v1.4.0"))
    stop, errors, ok = threading.Event(), [], []  # type: ignore[var-annotated]
    clients = [threading.Thread(target=_hammer, args=(world, stop, errors, ok)) for _ in range(4)]
    for c in clients:
        c.start()
    try:
        time.sleep(0.5)
        port = world.green.port
        world.green.stop()  # the idle colour is replaced: new process, same address, new version
        world.green = start_demo_app(port=port, version="v1.6.0", slot="green",
                                     database_url=world.database_url, env=FAST_LIMITS)
        wire.update(TrafficSwitchProvider(), "traffic-switch", {},
                     world.props("green", "v1.6.0"))
        time.sleep(0.5)
        wire.update(TrafficSwitchProvider(), "traffic-switch", {},
                     world.props("blue", "v1.4.0"))
        time.sleep(0.3)
    finally:
        stop.set()
        for c in clients:
            c.join(30)
    assert errors == [] and len(ok) > 50


_KILLED_SWITCH = """
import sys
from components.providers.traffic_switch import switch
props = eval(sys.argv[1])
print("ready", flush=True)
i = 0
while True:
    color = ("green", "blue")[i % 2]
    switch({**props[color]})
    i += 1
"""


@pytest.mark.slow
def test_a_switch_killed_with_sigkill_leaves_one_colour_served(world: World) -> None:
    props = {"blue": world.props("blue", "v1.4.0", verify_path="/api/v1/events"),
             "green": world.props("green", "v1.5.0", verify_path="/api/v1/events")}
    rng = random.Random(7)
    for _ in range(12):
        child = subprocess.Popen([sys.executable, "-c", _KILLED_SWITCH, repr(props)], cwd=ROOT,
                                 env={**os.environ, "PYTHONPATH": ROOT}, stdout=subprocess.PIPE)
        assert child.stdout is not None and child.stdout.readline().strip() == b"ready"
        time.sleep(rng.uniform(0.05, 0.4))
        child.send_signal(signal.SIGKILL)
        child.wait(10)
        child.stdout.close()
        color = router_files.read_active_color(world.router.conf_dir)
        assert color in ("blue", "green")
        version = "v1.4.0" if color == "blue" else "v1.5.0"
        assert world.public() == (200, color, version)


def _fake_docker(workdir: str, *, fail: bool = False) -> tuple[dict[str, str], str]:
    """A recording ``docker`` on PATH (no engine can run in the unit tests; the rehearsal uses one)."""
    bindir = os.path.join(workdir, "bin")
    os.makedirs(bindir, exist_ok=True)
    log = os.path.join(workdir, "docker.log")
    with open(os.path.join(bindir, "docker"), "w") as fh:
        fh.write(f"#!/bin/sh\necho \"$*\" >> {log}\n"
                 "[ \"$1\" = inspect ] && echo true\n"
                 f"exit {1 if fail else 0}\n")
    os.chmod(os.path.join(bindir, "docker"), 0o755)
    return {"PATH": f"{bindir}:{os.environ['PATH']}"}, log


@pytest.mark.parametrize("fail", [False, True])
def test_after_a_verified_switch_the_old_colour_is_stopped_not_removed(world: World, workdir: str, fail: bool,
                                                                       wire: ProviderWire) -> None:
    env, log = _fake_docker(workdir, fail=fail)
    wire.create(TrafficSwitchProvider(), world.props("blue", "v1.4.0"))
    props = world.props("green", "v1.5.0", stop_idle_slot=True, idle_container="dev-app-blue")
    out = wire.update(TrafficSwitchProvider(), "traffic-switch", {}, props, env=env).outs
    with open(log) as fh:
        assert fh.read().splitlines() == ["stop --time 15 -- dev-app-blue"]  # never rm
    assert out["idle_stopped"] is (not fail)
    assert (out.get("idle_stop_error") is not None) is fail  # recorded, and the switch still stands
    assert world.public() == (200, "green", "v1.5.0")


def test_any_failure_inside_a_switch_puts_the_previous_colour_back(workdir: str) -> None:
    router_files.write_active_color(workdir, "blue")
    with pytest.raises(KeyboardInterrupt), restored_on_failure(workdir, "blue"):
        router_files.write_active_color(workdir, "green")
        raise KeyboardInterrupt  # e.g. the operator's Ctrl-C while verifying
    assert router_files.read_active_color(workdir) == "blue"


def test_preview_with_an_unknown_gate_time_is_no_flip(preview_wire: ProviderWire) -> None:
    """The gate's ``checked_at`` is unknown in preview: it orders the switch, it does not trigger it."""
    p = TrafficSwitchProvider()
    olds = {"router_dir": "/nonexistent", "public_url": "u", "active_color": "blue", "version": "v1",
            "target_url": "t", "verify_timeout": 3, "gate_checked_at": "earlier"}
    news = {**olds, "gate_checked_at": UNKNOWN}
    assert preview_wire.check(p, olds, news).failures == []
    assert preview_wire.diff(p, "traffic-switch", olds, news).changes is False
    flip = preview_wire.diff(p, "traffic-switch", olds, {**news, "active_color": UNKNOWN})
    assert flip.changes is True
    assert not os.path.exists("/nonexistent")


def test_a_failed_switch_stops_the_colour_it_tried(world: World, workdir: str, wire: ProviderWire) -> None:
    """stopIdleSlot after a failed flip: the old colour is back and the new one is stopped, so one
    colour runs (hardening item 16); without a previous colour nothing is stopped."""
    env, log = _fake_docker(workdir)
    wire.create(TrafficSwitchProvider(), world.props("blue", "v1.4.0"))
    world.green.set_control(health="unhealthy")
    props = world.props("green", "v1.5.0", stop_idle_slot=True, idle_container="dev-app-blue",
                        target_container="dev-app-green")
    with pytest.raises(ProviderCallError) as info:
        wire.update(TrafficSwitchProvider(), "traffic-switch", {}, props, env=env)
    with open(log) as fh:
        assert [ln for ln in fh.read().splitlines() if ln.startswith("stop")] == [
            "stop --time 15 -- dev-app-green"]
    assert "stopped dev-app-green" in info.value.message
    assert world.public() == (200, "blue", "v1.4.0")
