"""``network.*``: the private network's explicit subnet and the fixed address of each container.

Why fixed addresses: the router pools keep-alive connections per colour
(``upstream togather_blue { server <ip>:8080; keepalive N; }``), and nginx resolves an
upstream's address once, at start. A colour's container therefore always gets the same
address, so replacing the idle colour's container needs no reload: the new container
answers at the old address.

Layout of the subnet (``network.subnet``, default ``10.77.0.0/24``): the first half holds
the fixed addresses (gateway = first host, database +2, router +3, blue +10, green +11);
Docker hands out addresses to every other container (the monitoring stack) only from the
second half (``ip_range``), so no other container can ever take a colour's address while
that colour is being replaced.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from togather_deploy.config import fields as f
from togather_deploy.errors import ConfigError

DEFAULT_SUBNET = "10.77.0.0/24"
"""A private /24 outside Docker's default address pools (172.17-31.0.0/16, 192.168.0.0/20s)."""
MIN_PREFIX, MAX_PREFIX = 16, 26
# Offsets from the network address; all fall in the first half of a /26 (32 addresses).
_OFFSETS = {"gateway": 1, "db": 2, "router": 3, "blue": 10, "green": 11}


@dataclass(frozen=True)
class NetworkConfig:
    subnet: str
    """The private network's IPv4 subnet (``10.77.0.0/24``)."""

    def _net(self) -> ipaddress.IPv4Network:
        return ipaddress.IPv4Network(self.subnet)

    def address(self, role: str) -> str:
        """Fixed address of ``gateway``, ``db``, ``router``, ``blue`` or ``green``."""
        return str(self._net().network_address + _OFFSETS[role])

    @property
    def gateway(self) -> str:
        return self.address("gateway")

    @property
    def ip_range(self) -> str:
        """The second half of the subnet: where Docker puts containers without a fixed address."""
        return str(list(self._net().subnets(prefixlen_diff=1))[1])


def parse_subnet(key: str, value: str) -> str:
    """``value`` as a canonical private IPv4 subnet, or ``ConfigError`` naming ``key`` and the fix."""
    fix = (f"pulumi config set --path togather:{key} {DEFAULT_SUBNET} (any private IPv4 "
           f"/{MIN_PREFIX}../{MAX_PREFIX} that no other Docker network or host route uses)")
    try:
        net = ipaddress.ip_network(value, strict=True)
    except ValueError as exc:
        raise ConfigError(f"{key}: {value!r} is not a network address with a prefix ({exc})",
                          key=key, fix=fix) from None
    if not isinstance(net, ipaddress.IPv4Network):
        raise ConfigError(f"{key}: {value!r} is IPv6; the private network is IPv4", key=key, fix=fix)
    if not net.is_private or net.is_loopback or net.is_link_local or net.is_multicast \
            or net.is_reserved or net.is_unspecified:
        raise ConfigError(f"{key}: {value!r} is not a private range (10/8, 172.16/12, 192.168/16)",
                          key=key, fix=fix)
    if not MIN_PREFIX <= net.prefixlen <= MAX_PREFIX:
        raise ConfigError(f"{key}: {value!r} has prefix /{net.prefixlen}; allowed /{MIN_PREFIX} to "
                          f"/{MAX_PREFIX} (room for the fixed addresses and the others)", key=key, fix=fix)
    return str(net)


def read_network(s: f.Section) -> NetworkConfig:
    n = NetworkConfig(subnet=parse_subnet(s.key("subnet"),
                                          f.string(s.key("subnet"), s.get("subnet"), DEFAULT_SUBNET)))
    s.done()
    return n
