"""Which address a request comes from, believing X-Forwarded-For only from trusted proxies."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class ClientIpResolver:
    def __init__(self, trusted_proxies: Iterable[str]) -> None:
        self._trusted: list[IPNetwork] = [ipaddress.ip_network(c, strict=False) for c in trusted_proxies]

    def _is_trusted(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in net for net in self._trusted)

    def resolve(self, peer: str | None, forwarded_for: str | None) -> str:
        """Walk X-Forwarded-For from the right while the hop is a trusted proxy."""
        address = peer or ""
        if not forwarded_for or not self._is_trusted(address):
            return address
        hops = [h.strip() for h in forwarded_for.split(",") if h.strip()]
        while hops:
            address = hops.pop()
            if not self._is_trusted(address):
                break
        return address


def is_private(address: str) -> bool:
    """Private, loopback and link-local clients are exempt from the IP-keyed defaults."""
    try:
        return ipaddress.ip_address(address).is_private
    except ValueError:
        return False
