"""What the probe may touch: the ranges given and nothing else, on someone's stated authority."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from goodthings.core.errors import GoodthingsError

MAX_HOSTS = 1024
"""More addresses than this is a survey of someone's network, not an audit of a deployment."""


class ScopeError(GoodthingsError):
    """The probe was asked to run without authority, or beyond what it may touch."""


@dataclass(frozen=True)
class Scope:
    networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]
    authorised_by: str

    def hosts(self) -> Iterator[str]:
        """Every address to probe: a network's usable hosts, or the single address given."""
        for network in self.networks:
            if network.num_addresses == 1:
                yield str(network.network_address)
            else:
                yield from (str(host) for host in network.hosts())

    def allows(self, address: str) -> bool:
        ip = ipaddress.ip_address(address)
        return any(ip in network for network in self.networks)


def scope_of(targets: Sequence[str], authorised_by: str, max_hosts: int = MAX_HOSTS) -> Scope:
    """The scope from the command line, refused with the reason when it is not one."""
    if not authorised_by.strip():
        raise ScopeError(
            "the probe tries passwords against devices: say who authorised it with "
            '--authorised-by "NAME, ROLE, DATE"'
        )
    if not targets:
        raise ScopeError("give the address ranges to probe with --targets CIDR")
    networks = []
    for target in targets:
        try:
            networks.append(ipaddress.ip_network(target, strict=False))
        except ValueError:
            raise ScopeError(
                f"--targets {target!r} is not an address or range (e.g. 192.0.2.0/28)"
            ) from None
    count = sum(max(n.num_addresses - (2 if n.num_addresses > 2 else 0), 1) for n in networks)
    if count > max_hosts:
        raise ScopeError(
            f"the ranges hold {count} addresses, more than {max_hosts}: probe a narrower range"
        )
    return Scope(tuple(networks), authorised_by.strip())
