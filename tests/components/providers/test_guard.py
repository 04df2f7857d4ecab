"""The live-slot guard, called over the wire exactly as the engine calls it."""

from __future__ import annotations

import json

import pytest

from components.providers.guard import LiveSlotGuardProvider
from testkit.program import is_secret, reveal, run_program, stack_config
from testkit.provider_wire import UNKNOWN, ProviderWire
from togather_deploy.ops.router_files import write_active_color


def guard_inputs_of(raw: dict, secrets: dict | None = None) -> dict:
    """What the real program registers for the guard with this stack config."""
    reg = run_program("dev", raw, secrets=secrets).named("live-slot-guard")
    assert is_secret(reg.inputs["secrets_fingerprint"])  # a hash of secrets stays encrypted
    return {k: reveal(v) for k, v in reg.inputs.items() if k != "__provider"}


@pytest.fixture(scope="module")
def base() -> dict:
    return stack_config("dev")  # blue v1.0.0 live, green v1.1.0 idle


def check(wire: ProviderWire, olds: dict, news: dict) -> list[str]:
    result = wire.check(LiveSlotGuardProvider(), olds, news)
    return [f.reason for f in result.failures]


def test_first_deploy_is_allowed(base, wire: ProviderWire) -> None:
    assert check(wire, {}, guard_inputs_of(base)) == []


def test_changing_the_idle_colour_is_allowed(base, wire: ProviderWire) -> None:
    olds = guard_inputs_of(base)
    news = guard_inputs_of({**base, "green": json.dumps({"version": "v1.2.0"})})
    assert check(wire, olds, news) == []


def test_flipping_to_a_deployed_colour_is_allowed(base, wire: ProviderWire) -> None:
    olds = guard_inputs_of(base)
    assert check(wire, olds, guard_inputs_of({**base, "activeColor": "green"})) == []


def test_a_new_version_on_the_live_colour_is_refused_with_the_right_move(base, wire: ProviderWire) -> None:
    olds = guard_inputs_of(base)
    news = guard_inputs_of({**base, "blue": json.dumps({"version": "v1.0.1"})})
    (reason,) = check(wire, olds, news)
    assert "blue is serving traffic" in reason and "v1.0.0 → v1.0.1" in reason
    assert "togather:green.version" in reason and "togather:activeColor green" in reason


def test_new_env_on_the_live_colour_is_refused(base, wire: ProviderWire) -> None:
    olds = guard_inputs_of(base)
    news = guard_inputs_of({**base, "blue": json.dumps({"version": "v1.0.0",
                                                         "env": {"LOG_LEVEL": "debug"}})})
    (reason,) = check(wire, olds, news)
    assert "container settings" in reason


def test_flip_and_change_of_the_old_live_colour_in_one_update_is_refused(base, wire: ProviderWire) -> None:
    olds = guard_inputs_of(base)
    news = guard_inputs_of({**base, "activeColor": "green",
                            "blue": json.dumps({"version": "v9"})})
    assert len(check(wire, olds, news)) == 1


def test_activating_a_colour_without_version_is_refused(wire: ProviderWire) -> None:
    olds = {"active_color": "blue", "blue_version": "v1", "blue_fingerprint": "a",
            "green_version": "", "green_fingerprint": "", "allow_live_replace": False}
    news = {**olds, "active_color": "green"}
    (reason,) = check(wire, olds, news)
    assert "green has no version" in reason


def test_emergency_hatch_allows_replacing_the_live_colour(base, wire: ProviderWire) -> None:
    olds = guard_inputs_of(base)
    news = guard_inputs_of({**base, "allowLiveReplace": "true",
                            "blue": json.dumps({"version": "v1.0.1"})})
    assert check(wire, olds, news) == []


def test_create_and_diff_over_the_wire(base, wire: ProviderWire) -> None:
    inputs = guard_inputs_of(base)
    created = wire.create(LiveSlotGuardProvider(), inputs)
    assert created.outs == inputs
    same = wire.diff(LiveSlotGuardProvider(), "id", inputs, inputs)
    assert same.changes is False
    flipped = wire.diff(LiveSlotGuardProvider(), "id", inputs,
                           {**inputs, "active_color": "green"})
    assert flipped.changes is True and not flipped.replaces


def test_learning_what_serves_is_not_a_change(base, wire: ProviderWire) -> None:
    """A first up records no serving colour (the switch writes it later); the second up reads it.

    Found by the real engine: the second ``pulumi up`` was never a no-op. ``serving_color`` is
    an observation used by ``check``, not a setting, so it alone changes nothing.
    """
    first = {**guard_inputs_of(base), "serving_color": ""}
    created = wire.create(LiveSlotGuardProvider(), first)
    second = {**first, "serving_color": "blue"}
    assert wire.diff(LiveSlotGuardProvider(), "id", created.outs, second).changes is False


def test_rotating_a_secret_the_live_colour_receives_is_refused(base, wire: ProviderWire) -> None:
    olds = guard_inputs_of(base, secrets={"jwtSecret": "a" * 40})
    news = guard_inputs_of(base, secrets={"jwtSecret": "b" * 40})
    (reason,) = check(wire, olds, news)
    assert "would replace its container" in reason and "allowLiveReplace true" in reason
    assert "a" * 40 not in str(olds) and "b" * 40 not in reason
    same = guard_inputs_of(base, secrets={"jwtSecret": "a" * 40})
    assert check(wire, olds, same) == []
    planned = guard_inputs_of({**base, "allowLiveReplace": "true"}, secrets={"jwtSecret": "b" * 40})
    assert check(wire, olds, planned) == []


def test_after_a_failed_flip_the_colour_still_serving_stays_protected(base, wire: ProviderWire,
                                                                      tmp_path) -> None:
    router = tmp_path / "state" / "router"
    router.mkdir(parents=True)
    raw = {**base, "stateDir": str(tmp_path / "state")}
    P = LiveSlotGuardProvider()
    write_active_color(str(router), "blue")  # what TrafficSwitch left: blue serves
    first = wire.check(P, {}, guard_inputs_of(raw))
    created = wire.create(P, first.inputs)
    # a flip to green: the guard passes and records green; then green's gate (or the switch) fails,
    # so TrafficSwitch never wrote green (or put blue back): the file still says blue
    flip = wire.check(P, first.inputs, guard_inputs_of({**raw, "activeColor": "green"}))
    assert not flip.failures
    wire.update(P, created.id, created.outs, flip.inputs)
    # the operator now takes blue for the idle colour and deploys to it: that would replace what serves
    onto_blue = guard_inputs_of({**raw, "activeColor": "green", "blue": json.dumps({"version": "v9"})})
    (failure,) = wire.check(P, flip.inputs, onto_blue).failures
    assert failure.property == "blue_version" and "blue is serving traffic" in failure.reason
    # once a flip to green is verified (the switch wrote the file), blue is idle and may change
    write_active_color(str(router), "green")
    after = guard_inputs_of({**raw, "activeColor": "green", "blue": json.dumps({"version": "v9"})})
    assert wire.check(P, flip.inputs, after).failures == []


def test_preview_with_unknown_secrets_does_not_call_it_a_rotation(base, preview_wire: ProviderWire) -> None:
    olds = {**guard_inputs_of(base), "secrets_fingerprint": "a" * 64}
    news = {**olds, "secrets_fingerprint": UNKNOWN}
    assert preview_wire.check(LiveSlotGuardProvider(), olds, news).failures == []
    assert preview_wire.diff(LiveSlotGuardProvider(), "id", olds, news).changes is True
