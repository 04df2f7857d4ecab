"""``TrafficSwitch`` with real nginx and two demo-app processes (blue, green) on loopback.

The provider is called over the wire (gRPC, protobuf Structs) exactly as the engine calls it.
"""

from __future__ import annotations

import os

import pytest

from components.providers.traffic_switch import TrafficSwitchProvider, restored_on_failure, switch_summary
from testkit.nginx import nginx_available, start_router
from testkit.provider_wire import UNKNOWN, ProviderCallError, ProviderWire
from tests.components.providers.conftest import World
from togather_deploy.ops import router_files
from togather_deploy.render.active_file import ACTIVE_FILE

pytestmark = [pytest.mark.nginx, pytest.mark.postgres,
              pytest.mark.skipif(not nginx_available(), reason="nginx + njs not installed: scripts/test")]


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


def test_refresh_sees_a_lost_or_hand_flipped_colour_and_the_next_update_restores_it(
        world: World, wire: ProviderWire) -> None:
    """A targeted refresh (``read``) records the colour the host's file names by word and mode
    alike, never writes; the pure ``diff`` sees it, and ``update`` flips back, verified."""
    p, props, d = TrafficSwitchProvider(), world.props("blue", "v1.4.0"), world.router.conf_dir
    path = os.path.join(d, ACTIVE_FILE)
    created = wire.create(p, props).outs
    assert wire.read(p, "traffic-switch", created).outs == created
    router_files.write_active_color(d, "green")  # flipped by hand, word and mode
    flipped = wire.read(p, "traffic-switch", created).outs
    assert flipped["active_color"] == "green" and wire.diff(p, "traffic-switch", flipped, props).changes
    restored = wire.update(p, "traffic-switch", flipped, props).outs
    assert restored["previous_color"] == "green" and world.public() == (200, "blue", "v1.4.0")
    os.unlink(path)  # every request now gets 503
    lost = wire.read(p, "traffic-switch", restored).outs
    assert lost["active_color"] == "" and not os.path.exists(path)  # read never writes
    assert world.public()[0] == 503
    back = wire.update(p, "traffic-switch", lost, props).outs
    assert world.public() == (200, "blue", "v1.4.0")
    os.chmod(path, 0o644)  # still says blue, but the mode routes green
    mixed = wire.read(p, "traffic-switch", back).outs
    assert mixed["active_color"] == "" and world.public()[1] == "green"
    again = wire.update(p, "traffic-switch", mixed, props).outs
    assert router_files.routed_color(d) == "blue" and world.public() == (200, "blue", "v1.4.0")
    assert not wire.diff(p, "traffic-switch", wire.read(p, "traffic-switch", again).outs, props).changes


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
        assert not [f for f in os.listdir(bad.conf_dir) if "active_color." in f]  # no staged leftover


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
