"""The provider wire harness reproduces what the engine does to a provider's properties."""

from __future__ import annotations

from typing import Any

import pytest
from pulumi.dynamic import CheckResult, CreateResult, DiffResult, ResourceProvider

from testkit.provider_wire import UNKNOWN, ProviderCallError, ProviderWire, Secret, parse_traceback
from togather_deploy.errors import ConfigError


def _types(props: dict[str, Any]) -> dict[str, str]:
    return {k: type(v).__name__ for k, v in props.items() if k != "__provider"}


class Echo(ResourceProvider):
    """Reports what it received, as the engine delivered it."""

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        return CheckResult({**news, "seen": _types(news)}, [])

    def diff(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        return DiffResult(changes="Unknown" in _types(news).values())

    def create(self, props: dict[str, Any]) -> CreateResult:
        if props.get("boom"):
            raise ConfigError("x: must be y", key="x", fix="set x")
        return CreateResult("echo", {**props, "seen": _types(props)})


def test_numbers_are_floats_nones_dropped_secrets_plain(wire: ProviderWire) -> None:
    out = wire.create(Echo(), {"port": 8080, "gone": None, "token": Secret("s3"), "nested": {"n": None}})
    assert out.outs["seen"] == {"port": "float", "token": "str", "nested": "dict"}
    assert out.outs["token"] == "s3" and out.secret_outputs == {"token"} and out.outs["nested"] == {}


def test_preview_sends_unknowns_and_never_creates(preview_wire: ProviderWire) -> None:
    checked = preview_wire.check(Echo(), {}, {"id": UNKNOWN})
    assert checked.inputs["seen"] == {"id": "Unknown"} and checked.inputs["id"] == UNKNOWN
    assert preview_wire.diff(Echo(), "echo", {"id": "a"}, {"id": UNKNOWN}).changes is True
    planned = preview_wire.create(Echo(), {"boom": True})  # not sent: the engine plans, it does not create
    assert planned.id == "" and planned.outs == {"boom": True}


def test_a_provider_exception_arrives_with_its_type_and_message(wire: ProviderWire) -> None:
    with pytest.raises(ProviderCallError) as err:
        wire.create(Echo(), {"boom": True})
    assert err.value.type_name == "ConfigError"
    assert err.value.message.startswith("x: must be y") and "fix: set x" in err.value.message


def test_parse_traceback_takes_the_last_exception() -> None:
    text = ("Traceback (most recent call last):\n  File \"a\", line 1\n    x()\nKeyError: 'a'\n\n"
            "During handling of the above exception, another exception occurred:\n\n"
            "Traceback (most recent call last):\n  File \"b\", line 2\n    y()\n"
            "togather_deploy.errors.DeployError: top: line\n  detail: more\n")
    assert parse_traceback(text) == ("DeployError", "top: line\n  detail: more")
    frameless = "KeyError: 'a'\n\nThe above exception was the direct cause of the following exception:\n\n" \
                "togather_deploy.errors.DeployError: top: line\n"
    assert parse_traceback(frameless) == ("DeployError", "top: line")


def test_read_returns_what_the_provider_reads(wire: ProviderWire) -> None:
    read = wire.read(Echo(), "echo", {"port": 8080})  # ResourceProvider.read: the props back
    assert read.id == "echo" and read.outs == {"port": 8080.0}
