"""The HTTP client webhooks are delivered with: it connects only to addresses it has checked.

Checking a URL's addresses and then letting the HTTP client resolve the name again leaves a
gap: a hostile DNS server answers a public address to the check and ``127.0.0.1`` to the
connection (DNS rebinding). So the check happens where the connection is made: ``GuardedBackend``
is the client's network backend; it resolves the host itself (``socket.getaddrinfo``), refuses
the connection if *any* answer is refused by ``webhook_targets.address_refusal``, and connects
to the checked addresses. The URL keeps its host name, so the ``Host`` header, TLS server name
and certificate check are the name's. Proxies from the environment are not used (they would
connect on our behalf, unchecked), and redirects are not followed.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import httpcore
import httpx

from embedfin.api.webhook_targets import Address, TargetPolicy, address_refusal, url_refusal

#: ``socket.getaddrinfo``'s shape: (host, port, family, type) → answers.
Resolver = Callable[..., Sequence[tuple[Any, ...]]]


class TargetRefused(httpcore.ConnectError):
    """The host stands for an address webhooks may not reach; nothing was sent."""


def checked_addresses(
    host: str, port: int, policy: TargetPolicy, resolve: Resolver
) -> list[Address]:
    """Every address ``host`` resolves to, if every one of them may receive webhooks."""
    try:
        answers = resolve(host, port, 0, socket.SOCK_STREAM)
    except OSError as failure:
        raise httpcore.ConnectError(f"cannot resolve {host}: {type(failure).__name__}") from None
    addresses: list[Address] = []
    for answer in answers:
        address = ipaddress.ip_address(str(answer[4][0]).split("%", 1)[0])
        why = address_refusal(address, policy)
        if why is not None:
            raise TargetRefused(f"refused: {host} resolves to {why}")
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise httpcore.ConnectError(f"cannot resolve {host}: no address")
    return addresses


def delivery_refusal(url: str, policy: TargetPolicy, resolve: Resolver) -> str | None:
    """Why a delivery to ``url`` may not be attempted now (its scheme, or an address its host
    resolves to), or None: checked before every attempt, whichever client sends it."""
    why = url_refusal(url, policy)
    if why is not None:
        return f"refused: {why}"
    parts = httpx.URL(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        checked_addresses(parts.host, port, policy, resolve)
    except httpcore.ConnectError as refused:
        return str(refused)
    return None


class GuardedBackend(httpcore.SyncBackend):
    def __init__(self, policy: Callable[[], TargetPolicy], resolve: Callable[[], Resolver]) -> None:
        self.policy = policy
        self.resolve = resolve

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        addresses = checked_addresses(host, port, self.policy(), self.resolve())
        failure: httpcore.ConnectError | None = None
        for address in addresses:
            try:
                return super().connect_tcp(
                    str(address), port, timeout, local_address, socket_options
                )
            except httpcore.ConnectError as error:
                failure = error
        assert failure is not None
        raise failure


class GuardedTransport(httpx.HTTPTransport):
    """``httpx.HTTPTransport`` whose connections go through ``GuardedBackend``."""

    def __init__(self, backend: GuardedBackend) -> None:
        super().__init__(trust_env=False)
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            network_backend=backend,
        )


def guarded_client(backend: GuardedBackend, timeout_s: float = 10.0) -> httpx.Client:
    return httpx.Client(
        transport=GuardedTransport(backend),
        timeout=timeout_s,
        follow_redirects=False,
        trust_env=False,
    )
