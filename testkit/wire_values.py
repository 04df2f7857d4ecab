"""The values the wire harness (``provider_wire``) takes and returns, and how it reads failures."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pulumi.output import Unknown
from pulumi.runtime.rpc import UNKNOWN


@dataclass(frozen=True)
class Secret:
    """An input the program marked secret (``pulumi.Output.secret``)."""

    value: Any


class ProviderCallError(Exception):
    """The provider raised: ``type_name`` is its exception class, ``message`` its text, ``text``
    the whole error the engine received (and prints)."""

    def __init__(self, type_name: str, message: str, text: str = "") -> None:
        super().__init__(f"{type_name}: {message}")
        self.type_name = type_name
        self.message = message
        self.text = text


@dataclass(frozen=True)
class Failure:
    property: str
    reason: str


@dataclass(frozen=True)
class Checked:
    inputs: dict[str, Any]
    failures: list[Failure]


@dataclass(frozen=True)
class Diffed:
    changes: bool | None
    replaces: list[str]
    delete_before_replace: bool


@dataclass(frozen=True)
class Applied:
    """What ``create``/``update``/``read`` recorded: ``outs`` as the engine stores them."""

    id: str
    outs: dict[str, Any]
    secret_outputs: frozenset[str] = field(default_factory=frozenset)


_CHAINED = ("Traceback (most recent", "The above exception was the direct cause",
            "During handling of the above exception")


def parse_traceback(text: str) -> tuple[str, str]:
    """The final exception of a Python traceback, frames or not (``sys.tracebacklimit = 0``):
    (class name, message)."""
    lines = text.rstrip("\n").split("\n")
    start = max((i for i, ln in enumerate(lines) if ln.startswith(_CHAINED)), default=-1)
    body = lines[start + 1:]
    first = next((i for i, ln in enumerate(body) if ln and not ln.startswith(" ")), None)
    if first is None:
        return "UnknownError", text
    head, _, message = "\n".join(body[first:]).partition(": ")
    return head.rsplit(".", 1)[-1], message


def plain_value(value: Any) -> Any:
    """What the engine sends a provider that does not accept secrets: the bare value."""
    if isinstance(value, Secret):
        return plain_value(value.value)
    if isinstance(value, Mapping):
        return {k: plain_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain_value(v) for v in value]
    return value


def known_value(value: Any) -> Any:
    """Unknowns coming back (preview) as the ``UNKNOWN`` string the tests compare with."""
    if isinstance(value, Unknown):
        return UNKNOWN
    if isinstance(value, dict):
        return {k: known_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [known_value(v) for v in value]
    return value


def secret_keys(inputs: Mapping[str, Any]) -> frozenset[str]:
    return frozenset(k for k, v in inputs.items() if isinstance(v, Secret))
