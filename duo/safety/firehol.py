"""IP block-list membership for FireHOL netset files (safety.md §9).

Networks are merged into sorted, disjoint integer ranges per IP version, so a look-up is one
binary search. Fetching and refreshing the lists is the caller's business.
"""

from __future__ import annotations

import ipaddress
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass

_Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class _Ranges:
    """Disjoint inclusive ranges ``starts[i]..ends[i]``, sorted by start."""

    starts: tuple[int, ...]
    ends: tuple[int, ...]

    @classmethod
    def merge(cls, networks: Iterable[_Network]) -> _Ranges:
        starts: list[int] = []
        ends: list[int] = []
        spans = sorted((int(n.network_address), int(n.broadcast_address)) for n in networks)
        for start, end in spans:
            if ends and start <= ends[-1] + 1:
                ends[-1] = max(ends[-1], end)
            else:
                starts.append(start)
                ends.append(end)
        return cls(tuple(starts), tuple(ends))

    def __contains__(self, address: int) -> bool:
        i = bisect_right(self.starts, address) - 1
        return i >= 0 and address <= self.ends[i]


def _parse(lines: Iterable[str]) -> list[_Network]:
    networks = []
    for line in lines:
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        try:
            networks.append(ipaddress.ip_network(line, strict=False))
        except ValueError:
            continue  # the format says unparsable lines are skipped
    return networks


@dataclass(frozen=True)
class IpBlockList:
    """The addresses covered by one or more netset lists."""

    v4: _Ranges
    v6: _Ranges

    @classmethod
    def from_text(cls, *texts: str) -> IpBlockList:
        """Parse netset texts (CIDR or address lines, ``#`` comments).

        Raises ValueError when no network is found: an empty download is an error.
        """
        networks = [n for text in texts for n in _parse(text.splitlines())]
        if not networks:
            raise ValueError("IP block list has no networks")
        return cls(
            _Ranges.merge(n for n in networks if n.version == 4),
            _Ranges.merge(n for n in networks if n.version == 6),
        )

    def contains(self, ip: str) -> bool:
        """Whether ``ip`` is on the list; an unparsable address is not (fail-open)."""
        try:
            address = ipaddress.ip_address(ip.strip())
        except ValueError:
            return False
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        ranges = self.v4 if address.version == 4 else self.v6
        return int(address) in ranges
