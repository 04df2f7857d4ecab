"""Reading docker resource properties the way the policies need them.

pulumi-policy unwraps secrets before a validator sees the properties, so a
validator could not tell a secret from plain text. ``install_secret_markers``
makes the pack keep them visible as ``pulumi_policy.Secret`` instances (the
engine sends analyzers secret-marked values); ``reveal`` unwraps one when only
the plain value matters (a port, a label, an env var's name).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Secret
from pulumi_policy import deserialize as policy_deserialize
from pulumi_policy import policy as policy_module
from pulumi_policy.proxy import UnknownValueError

SIG_KEY = policy_deserialize.SPECIAL_SIG_KEY
SECRET_SIG = policy_deserialize.SPECIAL_SECRET_SIG


def is_secret(value: Any) -> bool:
    return isinstance(value, Secret)


def reveal(value: Any) -> Any:
    while isinstance(value, Secret):
        value = value.value
    return value


_SDK_DESERIALIZE = policy_deserialize.deserialize_properties


def deserialize_keeping_secrets(props: Mapping[str, Any], proxy_secrets: bool = False) -> dict[str, Any]:
    """Like pulumi-policy's ``deserialize_properties``, but a secret stays a ``Secret``.

    Same signature as the SDK's: its remediation path passes ``proxy_secrets=True`` and then
    tracks secrets itself to put them back, so that call goes to the SDK's own function (the
    real engine calls Remediate on every resource; a one-argument stand-in failed there).
    """
    if proxy_secrets:
        return _SDK_DESERIALIZE(dict(props), True)
    return {key: _value(value) for key, value in props.items()}


def _value(value: Any) -> Any:
    if isinstance(value, list):
        return [_value(v) for v in value]
    if isinstance(value, dict):
        if value.get(SIG_KEY) == SECRET_SIG:
            return Secret(_value(value.get("value")))
        if SIG_KEY in value:  # assets and archives: the SDK's own handling
            return policy_deserialize._deserialize_property(value)
        return deserialize_keeping_secrets(value)
    return value


def install_secret_markers() -> None:
    """Make the analyzer hand validators secret markers (called by the pack's ``__main__``)."""
    policy_module.deserialize_properties = deserialize_keeping_secrets


def known(props: Mapping[str, Any], key: str, default: Any = None) -> Any:
    """``props[key]``, or ``default`` when it is absent or not known yet (a preview)."""
    try:
        return props.get(key, default)
    except UnknownValueError:
        return default


def known_items(seq: Any) -> Iterator[Any]:
    """The elements of a list property that are known (a preview leaves some unknown)."""
    seq = reveal(seq) or []
    for i in range(len(seq)):
        try:
            yield seq[i]
        except UnknownValueError:
            continue


def labels(props: Mapping[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in known_items(known(props, "labels", [])):
        item = reveal(item)
        try:
            out[str(reveal(item["label"]))] = str(reveal(item.get("value", "")))
        except (UnknownValueError, KeyError, TypeError):
            continue
    return out


def env(props: Mapping[str, Any]) -> Iterator[tuple[str, str, bool]]:
    """``(name, value, is_secret)`` for each ``NAME=value`` in ``envs``.

    A value is secret when its list item or the whole list is a secret."""
    envs = known(props, "envs", [])
    whole_secret = is_secret(envs)
    for item in known_items(envs):
        text = reveal(item)
        if not isinstance(text, str) or "=" not in text:
            continue
        name, value = text.split("=", 1)
        yield name, value, whole_secret or is_secret(item)


def is_loopback(ip: str) -> bool:
    try:
        return ipaddress.ip_address(ip).is_loopback
    except ValueError:
        return ip == "localhost"
