"""Typed inputs at a dynamic provider's boundary: the engine's properties → a frozen dataclass.

Contract
- The engine hands a provider its properties as protobuf Structs: every number
  is a float (``8080.0``), a ``None`` is dropped (the key is absent), and in
  preview a value not known yet arrives as ``pulumi.output.Unknown``. ``parse``
  turns such a dict into the provider's frozen dataclass, following each
  field's annotation: ``int`` accepts a whole float (``8080.0`` → ``8080``) and
  refuses ``8080.5``, ``bool`` and text; ``float``, ``str``, ``bool``, ``X | None``,
  ``Mapping``/``dict``/``list``/``tuple`` and nested dataclasses are checked
  likewise; an absent key takes the field's default or is an error.
- A value not known yet stays ``UNKNOWN`` (whatever the field's type):
  ``check`` skips validating it and ``diff`` sees it differ from any recorded
  value. ``create``/``update``/``delete`` never receive one.
- ``parse(parse(p).props())`` is ``parse(p)``: ``check`` returns ``props()`` and
  the engine hands those back (as floats again) to diff/create/update.
- Errors name the provider, the field, the value (never a field marked
  ``secret=True`` in its metadata) and the fix: a ``ConfigError`` (exit 10),
  raised before anything changes; ``check_failures`` gives them as the
  engine's check failures instead.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from typing import Any, TypeVar

from pulumi.dynamic import CheckFailure
from pulumi.output import Unknown
from pulumi.runtime.rpc import UNKNOWN

from togather_deploy.errors import ConfigError

T = TypeVar("T")
SECRET = {"secret": True}
"""``field(metadata=SECRET)``: the value is never put in an error message."""


def is_unknown(value: Any) -> bool:
    return isinstance(value, Unknown) or (isinstance(value, str) and value == UNKNOWN)


class _Bad(Exception):
    def __init__(self, want: str) -> None:
        super().__init__(want)
        self.want = want


def _convert(hint: Any, value: Any) -> Any:  # noqa: C901, PLR0911, PLR0912 (one branch per type)
    if is_unknown(value):
        return UNKNOWN
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None:
            return None
        inner = [a for a in args if a is not type(None)]
        return _convert(inner[0] if len(inner) == 1 else Any, value)
    if hint is Any:
        return value
    if hint is bool:
        if isinstance(value, bool):
            return value
        raise _Bad("true or false")
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value != int(value):
            raise _Bad("a whole number")
        return int(value)
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _Bad("a number")
        return float(value)
    if hint is str:
        if isinstance(value, str):
            return value
        raise _Bad("text")
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        if not isinstance(value, Mapping):
            raise _Bad("a mapping")
        return parse(hint, value)
    if origin in (dict, Mapping) or hint in (dict, Mapping):
        if not isinstance(value, Mapping):
            raise _Bad("a mapping")
        vt = args[1] if len(args) == 2 else Any
        return {str(k): _convert(vt, v) for k, v in value.items()}
    if origin in (list, tuple) or hint in (list, tuple):
        if not isinstance(value, (list, tuple)):
            raise _Bad("a list")
        et = args[0] if args else Any
        items = [_convert(et, v) for v in value]
        return tuple(items) if origin is tuple or hint is tuple else items
    raise TypeError(f"provider_inputs cannot convert to {hint!r}")


def problems(cls: type[T], props: Mapping[str, Any]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """The converted field values and, per bad field, ``(field, complaint)``."""
    hints = typing.get_type_hints(cls)
    values: dict[str, Any] = {}
    bad: list[tuple[str, str]] = []
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        if f.name not in props or props[f.name] is None and f.default is not dataclasses.MISSING:
            if f.default is not dataclasses.MISSING:
                values[f.name] = f.default
            elif f.default_factory is not dataclasses.MISSING:
                values[f.name] = f.default_factory()
            else:
                bad.append((f.name, "is required"))
            continue
        try:
            values[f.name] = _convert(hints[f.name], props[f.name])
        except _Bad as exc:
            shown = "a secret (not shown)" if f.metadata.get("secret") else repr(props[f.name])
            bad.append((f.name, f"must be {exc.want}, got {shown}"))
        except ConfigError as exc:  # a nested dataclass
            bad.append((f"{f.name}.{exc.key}", exc.message.split(": ", 1)[-1]))
    return values, bad


def parse(cls: type[T], props: Mapping[str, Any]) -> T:
    """``cls`` built from the engine's properties; ``ConfigError`` naming the first bad field."""
    values, bad = problems(cls, props)
    if bad:
        key, why = bad[0]
        raise ConfigError(f"{cls.__name__}.{key}: {why}", key=key,
                          fix="correct the stack config that feeds this value and run pulumi up again")
    return cls(**values)


def check_failures(cls: type[Any], props: Mapping[str, Any]) -> list[CheckFailure]:
    """The same complaints as ``parse``, as the engine's check failures (all of them)."""
    return [CheckFailure(key, why) for key, why in problems(cls, props)[1]]


def props(obj: Any) -> dict[str, Any]:
    """The dataclass back as plain properties (``None`` fields left out, as the engine would)."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            value = props(value)
        elif isinstance(value, Mapping):
            value = dict(value)
        elif isinstance(value, tuple):
            value = list(value)
        if value is not None:
            out[f.name] = value
    return out
