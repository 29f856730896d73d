"""Where a webhook may be delivered: public HTTPS hosts, never the platform's own network.

A webhook URL is chosen by a tenant and fetched by the platform's worker, from inside the
platform's network: without a check, ``http://169.254.169.254/latest/meta-data`` reads the
cloud's instance credentials and ``http://10.0.0.5:5432`` probes the database (server-side
request forgery). So a URL must be ``https`` (``http`` only with a development setting), and
every address its host stands for must be globally routable: loopback, link-local
(169.254.0.0/16, fe80::/10), private (RFC 1918, fc00::/7), shared CGNAT space (100.64.0.0/10,
RFC 6598), multicast, reserved, documentation and unspecified addresses are refused — at
creation for literal addresses and local names, and at delivery for every address the name
resolves to (``webhook_transport`` connects only to an address checked here). An explicit
allow-list (addresses or CIDR blocks) admits chosen addresses for development.

Pure: parsing and address rules only; resolving and connecting is ``webhook_transport``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

#: Shared address space for carrier-grade NAT (RFC 6598): not private to ``ipaddress``, not
#: public either.
CGNAT = ipaddress.ip_network("100.64.0.0/10")


@dataclass(frozen=True, slots=True)
class TargetPolicy:
    """What the platform may deliver webhooks to.

    Attributes:
        allow_http: accept ``http://`` URLs (development only: payloads travel unencrypted).
        allow: addresses and networks admitted although they are not public (development
            receivers on loopback, say); nothing is admitted by default.
    """

    allow_http: bool = False
    allow: tuple[Network, ...] = ()

    @classmethod
    def parse(cls, allow_http: bool, allow: Iterable[str]) -> TargetPolicy:
        """From settings: ``allow`` as addresses or CIDR blocks (``127.0.0.1``, ``10.0.0.0/8``,
        ``::1``); a malformed entry raises ``ValueError``."""
        networks = tuple(ipaddress.ip_network(a.strip(), strict=False) for a in allow if a.strip())
        return cls(allow_http, networks)

    def allows(self, address: Address) -> bool:
        return any(address in network for network in self.allow)


def address_refusal(address: Address, policy: TargetPolicy) -> str | None:
    """Why ``address`` may not receive webhooks, or None if it may."""
    if policy.allows(address):
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address_refusal(address.ipv4_mapped, policy)  # ::ffff:127.0.0.1 is 127.0.0.1
    tunnelled = _tunnelled_ipv4(address)  # 6to4 and Teredo addresses carry an IPv4 one
    if tunnelled is not None and address_refusal(tunnelled, policy) is not None:
        return f"a tunnel to {address_refusal(tunnelled, policy)}"
    if address.is_unspecified:
        return "an unspecified address"
    if address.is_loopback:
        return "a loopback address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_multicast:
        return "a multicast address"
    if isinstance(address, ipaddress.IPv4Address) and address in CGNAT:
        return "a shared (CGNAT) address"
    if address.is_private:
        return "a private address"
    if address.is_reserved:
        return "a reserved address"
    if not address.is_global:
        return "an address that is not globally routable"
    return None


def _tunnelled_ipv4(address: Address) -> ipaddress.IPv4Address | None:
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address.sixtofour is not None:
        return address.sixtofour
    return None if address.teredo is None else address.teredo[1]


def literal_address(host: str) -> Address | None:
    """The address a URL host spells out (``10.0.0.1``, ``[::1]`` without brackets), if any."""
    try:
        return ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return None


def _numeric_host(host: str) -> bool:
    """Hosts like ``2130706433`` or ``0x7f.1``: not DNS names, yet the C resolver reads them as
    IPv4 addresses (``inet_aton``), which would slip past the literal check."""
    last = host.rstrip(".").rsplit(".", 1)[-1]
    return last.isdigit() or last.startswith("0x")


def _parts(url: str) -> SplitResult | str:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a port out of range
    except ValueError:
        return "the URL is malformed"
    return parts


def url_refusal(url: str, policy: TargetPolicy) -> str | None:
    """Why ``url`` may not be a webhook endpoint, judged without resolving it; None if it may
    (its addresses are still checked at each delivery)."""
    parts = _parts(url)
    if isinstance(parts, str):
        return parts
    schemes = ("https", "http") if policy.allow_http else ("https",)
    if parts.scheme not in schemes:
        return "the URL must use https" if not policy.allow_http else "the URL must be http(s)"
    host = (parts.hostname or "").lower()
    if not host:
        return "the URL has no host"
    address = literal_address(host)
    if address is not None:
        why = address_refusal(address, policy)
        return None if why is None else f"{host} is {why}"
    if host == "localhost" or host.endswith(".localhost") or host.endswith(".localhost."):
        return f"{host} is a loopback name"  # RFC 6761 §6.3: always loopback
    if _numeric_host(host):
        return f"{host} is not a DNS name"
    return None
