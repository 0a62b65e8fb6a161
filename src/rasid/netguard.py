"""The SSRF guard: which addresses the fetcher may connect to.

A feed or a redirect can point anywhere, including the cloud metadata service or a database
on the worker's network. So every URL is checked before it is requested (the first request
and every redirect hop), and the fetcher checks every new connection again against the
address it actually reached (``AddressGuard.allows``), because DNS may answer differently
the second time (DNS rebinding). ``RASID_ALLOW_PRIVATE_HOSTS`` names the exceptions, e.g.
the demo site on 127.0.0.1. This module only decides; it sends nothing.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from rasid.config import parse_allowlist

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_NAT64 = ipaddress.ip_network("64:ff9b::/96")
# Ranges that some Python versions still call global although no public web server lives there.
_NEVER_PUBLIC = tuple(
    ipaddress.ip_network(net)
    for net in ("100.64.0.0/10", "192.0.0.0/24", "198.18.0.0/15", "64:ff9b:1::/48", "fec0::/10")
)


class BlockedAddress(Exception):
    """A URL the guard refuses to fetch; the message says which host and address."""


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address tunnels to, if any: it is the one that gets reached."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address.sixtofour


def _unwrap(address: IPAddress) -> IPAddress:
    if isinstance(address, ipaddress.IPv6Address):
        return _embedded_ipv4(address) or address
    return address


def is_public_address(ip: str | IPAddress) -> bool:
    """True only for globally routable unicast addresses (after unwrapping IPv4-in-IPv6)."""
    address = _unwrap(ipaddress.ip_address(ip) if isinstance(ip, str) else ip)
    special = (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or any(address in network for network in _NEVER_PUBLIC)
    )
    return address.is_global and not special


def _resolve(host: str, port: int) -> set[str]:
    try:
        return {str(ipaddress.ip_address(host))}  # a literal: no DNS
    except ValueError:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        return {str(info[4][0]) for info in infos}


class AddressGuard:
    """Decides whether a URL, or a connection to an address, is allowed.

    ``allow`` is the RASID_ALLOW_PRIVATE_HOSTS value: comma-separated host names or CIDR
    ranges that may be fetched although they are not public.
    """

    def __init__(self, allow: str = "") -> None:
        self._hosts, self._networks = parse_allowlist(allow)

    def _host_allowed(self, host: str) -> bool:
        return host.lower().strip("[]").rstrip(".") in self._hosts

    def allows(self, host: str, address: str | IPAddress) -> bool:
        """May a request for ``host`` go to ``address``?"""
        if self._host_allowed(host):
            return True
        raw = ipaddress.ip_address(address) if isinstance(address, str) else address
        forms = {raw, _unwrap(raw)}
        if any(form in network for form in forms for network in self._networks):
            return True
        return is_public_address(raw)

    def check_url(self, url: str) -> None:
        """Raise BlockedAddress unless ``url`` is http(s) and every address of its host is allowed.

        Resolution errors (socket.gaierror, an OSError) propagate: they are not a refusal.
        """
        parts = urlsplit(url)
        if parts.scheme.lower() not in ("http", "https"):
            raise BlockedAddress(f"{url}: only http and https URLs are fetched")
        host = parts.hostname
        if not host:
            raise BlockedAddress(f"{url}: no host name")
        try:
            port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
        except ValueError:
            raise BlockedAddress(f"{url}: invalid port") from None
        if self._host_allowed(host):
            return
        for address in sorted(_resolve(host, port)):
            if not self.allows(host, address):
                raise BlockedAddress(
                    f"{url}: {host} resolves to {address}, which is not a public address"
                    " (allow it with RASID_ALLOW_PRIVATE_HOSTS if that is intended)"
                )
