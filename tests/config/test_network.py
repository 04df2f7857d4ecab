"""``network.subnet``: a validated private IPv4 subnet and the fixed addresses derived from it."""

from __future__ import annotations

from typing import Any

import pytest

from togather_deploy.config.model import load_config
from togather_deploy.config.network import DEFAULT_SUBNET
from togather_deploy.errors import EXIT_CONFIG, ConfigError

MINIMAL = {"image": "ghcr.io/togather-foundation/server", "blue": {"version": "v1.0.0"},
           "environment": "development"}


def load(**raw: Any) -> Any:
    return load_config({**MINIMAL, **raw}, project="togather-deploy", stack="t", project_dir="/srv")


def test_default_subnet_and_derived_addresses() -> None:
    net = load().network
    assert net.subnet == DEFAULT_SUBNET == "10.77.0.0/24"
    assert [net.address(r) for r in ("gateway", "db", "router", "blue", "green")] == [
        "10.77.0.1", "10.77.0.2", "10.77.0.3", "10.77.0.10", "10.77.0.11"]
    assert net.gateway == "10.77.0.1" and net.ip_range == "10.77.0.128/25"


def test_a_smallest_subnet_keeps_fixed_addresses_out_of_the_dynamic_range() -> None:
    net = load(network={"subnet": "192.168.40.64/26"}).network
    assert net.address("green") == "192.168.40.75" and net.ip_range == "192.168.40.96/27"


@pytest.mark.parametrize(("value", "says"), [
    ("10.77.0.5/24", "host bits set"),
    ("10.77.0.0", "prefix /32"),
    ("banana", "not a network address"),
    ("8.8.8.0/24", "not a private range"),
    ("127.0.0.0/24", "not a private range"),
    ("fd00::/64", "IPv6"),
    ("10.0.0.0/8", "prefix /8"),
    ("10.77.0.0/27", "prefix /27"),
])
def test_bad_subnets_name_the_key_and_the_fix(value: str, says: str) -> None:
    with pytest.raises(ConfigError) as info:
        load(network={"subnet": value})
    assert info.value.exit_code == EXIT_CONFIG and info.value.key == "network.subnet"
    assert says in str(info.value) and "pulumi config set --path togather:network.subnet" in str(info.value)


def test_unknown_network_key_is_refused() -> None:
    with pytest.raises(ConfigError, match="network.subnett: unknown key"):
        load(network={"subnett": "10.1.0.0/24"})
