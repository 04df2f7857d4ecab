"""``provider_inputs``: the engine's properties (floats, dropped Nones, unknowns) → typed inputs."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from pulumi.output import Unknown

from components.providers import inputs as provider_inputs
from components.providers.inputs import UNKNOWN, check_failures, parse, props
from togather_deploy.errors import ConfigError


@dataclass(frozen=True)
class Inner:
    port: int
    hosts: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Inputs:
    name: str
    inner: Inner
    token: str = field(default="", metadata=provider_inputs.SECRET)
    count: int = 3
    ratio: float = 1.0
    flag: bool = False
    label: str | None = None
    items: list[str] = field(default_factory=list)


ENGINE = {"name": "n", "inner": {"port": 8080.0, "hosts": {"a": "b"}}, "count": 2.0, "ratio": 2.0,
          "flag": True, "items": ["x"]}


def test_the_engine_s_floats_become_ints_and_absent_keys_take_defaults() -> None:
    i = parse(Inputs, ENGINE)
    assert i == Inputs("n", Inner(8080, {"a": "b"}), count=2, ratio=2.0, flag=True, items=["x"])
    assert type(i.inner.port) is int and type(i.count) is int and i.label is None and i.token == ""


def test_parse_is_idempotent_through_props() -> None:
    i = parse(Inputs, ENGINE)
    assert parse(Inputs, props(i)) == i
    assert "label" not in props(i)  # None is left out, as the engine would drop it


@pytest.mark.parametrize("bad,key,shown", [
    ({"count": 2.5}, "count", "2.5"), ({"count": True}, "count", "True"), ({"count": "2"}, "count", "'2'"),
    ({"flag": 1.0}, "flag", "1.0"), ({"name": 5.0}, "name", "5.0"), ({"items": "x"}, "items", "'x'"),
    ({"inner": {"port": 80.5}}, "inner.port", "80.5"),
])
def test_bad_values_name_the_field_and_the_value(bad: dict, key: str, shown: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse(Inputs, {**ENGINE, **bad})
    assert err.value.key == key and shown in err.value.message and err.value.fix
    assert [f.property for f in check_failures(Inputs, {**ENGINE, **bad})] == [key]


def test_a_missing_required_field_and_a_secret_value_never_shown() -> None:
    failures = check_failures(Inputs, {"inner": {"port": 1}, "token": 1234567.0})
    assert [(f.property, f.reason) for f in failures] == [
        ("name", "is required"), ("token", "must be text, got a secret (not shown)")]


def test_unknown_values_stay_unknown_whatever_the_type() -> None:
    i = parse(Inputs, {**ENGINE, "count": Unknown(), "inner": {"port": UNKNOWN}})
    assert i.count == UNKNOWN and i.inner.port == UNKNOWN
    assert provider_inputs.is_unknown(i.count) and not provider_inputs.is_unknown("x")
