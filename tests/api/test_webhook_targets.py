"""Webhook SSRF: which URLs and addresses may receive deliveries, at creation and at delivery.

Every delivery here goes to a receiver on loopback (allow-listed); the resolvers are fakes, and
the guarded backend's real connect is replaced where a test could otherwise leave the machine.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator
from typing import Any

import httpcore
import pytest

from embedfin.api.webhook_targets import TargetPolicy, address_refusal, url_refusal
from embedfin.api.webhook_transport import GuardedBackend, TargetRefused, checked_addresses
from tests.api.conftest import Api
from tests.api.test_webhooks import Receiver

STRICT = TargetPolicy()
DEV = TargetPolicy.parse(True, ["127.0.0.1", "::1"])


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    yield found
    found.close()


@pytest.mark.parametrize(
    ("address", "refusal"),
    [
        ("93.184.216.34", None),
        ("2606:4700:4700::1111", None),
        ("127.0.0.1", "a loopback address"),
        ("127.255.0.9", "a loopback address"),
        ("::1", "a loopback address"),
        ("169.254.169.254", "a link-local address"),  # cloud instance metadata
        ("fe80::1", "a link-local address"),
        ("10.0.0.5", "a private address"),
        ("172.16.3.4", "a private address"),
        ("192.168.1.1", "a private address"),
        ("fc00::1", "a private address"),
        ("fd12:3456::1", "a private address"),
        ("100.64.0.1", "a shared (CGNAT) address"),
        ("100.127.255.254", "a shared (CGNAT) address"),
        ("224.0.0.1", "a multicast address"),
        ("ff02::1", "a multicast address"),
        ("0.0.0.0", "an unspecified address"),
        ("::", "an unspecified address"),
        ("240.0.0.1", "a private address"),  # reserved, and listed among the private blocks
        ("255.255.255.255", "a private address"),
        ("192.0.2.10", "a private address"),  # documentation (TEST-NET-1)
        ("198.18.0.1", "a private address"),  # benchmarking
        ("::ffff:127.0.0.1", "a loopback address"),  # IPv4-mapped
        ("::ffff:169.254.169.254", "a link-local address"),
        ("64:ff9b::7f00:1", "a reserved address"),  # NAT64 of 127.0.0.1
        ("2002:7f00:1::1", "a tunnel to a loopback address"),  # 6to4 of 127.0.0.1
        ("2002:5db8:d822::1", None),  # 6to4 of 93.184.216.34
    ],
)
def test_address_refusals(address: str, refusal: str | None) -> None:
    assert address_refusal(ipaddress.ip_address(address), STRICT) == refusal


def test_the_allow_list_admits_exactly_what_it_names() -> None:
    policy = TargetPolicy.parse(False, ["127.0.0.1", "10.1.0.0/16", " ", "::1"])
    assert address_refusal(ipaddress.ip_address("127.0.0.1"), policy) is None
    assert address_refusal(ipaddress.ip_address("::ffff:127.0.0.1"), policy) is None
    assert address_refusal(ipaddress.ip_address("10.1.200.3"), policy) is None
    assert address_refusal(ipaddress.ip_address("::1"), policy) is None
    assert address_refusal(ipaddress.ip_address("127.0.0.2"), policy) == "a loopback address"
    assert address_refusal(ipaddress.ip_address("10.2.0.1"), policy) == "a private address"
    with pytest.raises(ValueError, match="does not appear"):
        TargetPolicy.parse(False, ["localhost"])


@pytest.mark.parametrize(
    ("url", "policy", "refusal"),
    [
        ("https://hooks.example.com/embedfin", STRICT, None),
        ("https://93.184.216.34:8443/x", STRICT, None),
        ("http://hooks.example.com/embedfin", STRICT, "the URL must use https"),
        ("http://hooks.example.com/embedfin", DEV, None),
        ("ftp://hooks.example.com/x", DEV, "the URL must be http(s)"),
        ("https:///nohost", STRICT, "the URL has no host"),
        ("https://hooks.example.com:99999/", STRICT, "the URL is malformed"),
        ("http://169.254.169.254/latest/meta-data", DEV, "169.254.169.254 is a link-local address"),
        (
            "https://169.254.169.254/latest/meta-data",
            STRICT,
            "169.254.169.254 is a link-local address",
        ),
        ("https://[::1]:8000/", STRICT, "::1 is a loopback address"),
        ("https://[fd00::1]/", STRICT, "fd00::1 is a private address"),
        ("https://10.0.0.5:5432/", STRICT, "10.0.0.5 is a private address"),
        ("https://100.64.1.1/", STRICT, "100.64.1.1 is a shared (CGNAT) address"),
        ("https://localhost/", STRICT, "localhost is a loopback name"),
        ("https://api.localhost./", STRICT, "api.localhost. is a loopback name"),
        ("https://2130706433/", STRICT, "2130706433 is not a DNS name"),  # 127.0.0.1
        ("https://0x7f.1/", STRICT, "0x7f.1 is not a DNS name"),
        ("https://evil.example@127.0.0.1/", STRICT, "127.0.0.1 is a loopback address"),
        ("http://127.0.0.1:9/hook", DEV, None),
        ("http://127.0.0.2:9/hook", DEV, "127.0.0.2 is a loopback address"),
    ],
)
def test_url_refusals(url: str, policy: TargetPolicy, refusal: str | None) -> None:
    assert url_refusal(url, policy) == refusal


def _resolver(*answers: str) -> Any:
    def resolve(host: str, port: int, *_: Any) -> list[tuple[Any, ...]]:
        return [
            (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
            for a in answers
        ]

    return resolve


def test_every_answer_of_the_resolver_is_checked() -> None:
    assert checked_addresses("h.test", 443, STRICT, _resolver("93.184.216.34")) == [
        ipaddress.ip_address("93.184.216.34")
    ]
    with pytest.raises(TargetRefused, match="link-local"):
        checked_addresses("h.test", 443, STRICT, _resolver("93.184.216.34", "169.254.169.254"))
    with pytest.raises(TargetRefused, match="link-local"):
        checked_addresses("h.test", 443, STRICT, _resolver("fe80::1%eth0"))
    with pytest.raises(TargetRefused, match="loopback"):
        checked_addresses("h.test", 443, STRICT, _resolver("::1"))


class _Connects:
    """Stands in for the real TCP connect: records where the guarded backend connects."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: list[tuple[str, int]] = []
        monkeypatch.setattr(httpcore.SyncBackend, "connect_tcp", self._connect)

    def _connect(self, host: str, port: int, *_: Any, **__: Any) -> Any:
        self.calls.append((host, port))
        return "stream"


def test_the_backend_connects_to_the_checked_address_not_the_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    connects = _Connects(monkeypatch)
    backend = GuardedBackend(lambda: DEV, lambda: _resolver("127.0.0.1"))
    assert backend.connect_tcp("hooks.test", 8080) == "stream"  # type: ignore[comparison-overlap]
    assert connects.calls == [("127.0.0.1", 8080)]


def test_dns_rebinding_between_check_and_connect_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The name answers a public address to a first look and loopback to the next: the
    backend resolves for itself and checks what it will connect to."""
    connects = _Connects(monkeypatch)
    answers = iter([["93.184.216.34"], ["127.0.0.1"]])

    def rebinding(host: str, port: int, *_: Any) -> list[tuple[Any, ...]]:
        found: list[tuple[Any, ...]] = _resolver(*next(answers))(host, port)
        return found

    assert checked_addresses("hooks.test", 443, STRICT, rebinding)  # the first look passes
    backend = GuardedBackend(lambda: STRICT, lambda: rebinding)
    with pytest.raises(TargetRefused, match="loopback"):
        backend.connect_tcp("hooks.test", 443)
    assert connects.calls == []


def test_creation_refuses_metadata_private_and_plain_http_urls(api: Api) -> None:
    api.platform.webhooks.targets = STRICT  # production settings
    for url in (
        "http://169.254.169.254/latest/meta-data",
        "https://169.254.169.254/latest/meta-data",
        "https://[::ffff:a9fe:a9fe]/latest/meta-data",
        "https://10.0.0.5/hook",
        "https://localhost/hook",
        "http://hooks.example.com/hook",
    ):
        answer = api.post(api.a, "/v1/webhook_endpoints", {"url": url, "event_types": ["*"]})
        assert (answer.status_code, answer.json()["code"]) == (422, "webhook_url_refused"), url
    assert api.ok(api.get(api.a, "/v1/webhook_endpoints"))["data"] == []
    created = api.post(
        api.a, "/v1/webhook_endpoints", {"url": "https://hooks.example.com/h", "event_types": ["*"]}
    )
    assert created.status_code == 201


def test_delivery_re_resolves_and_refuses_a_host_that_now_points_inside(
    api: Api, receiver: Receiver
) -> None:
    a = api.a
    hooks = api.platform.webhooks
    port = int(receiver.url.rsplit(":", 1)[1].split("/")[0])
    url = f"http://hooks.test:{port}/hooks"
    api.ok(api.post(a, "/v1/webhook_endpoints", {"url": url, "event_types": ["*"]}), 201)
    hooks.resolver = _resolver("127.0.0.1")  # allow-listed (development settings)
    api.merchant(a)
    assert hooks.dispatch() == 1
    with hooks.client() as client:
        assert hooks.deliver_due(client) == 1
    ((headers, _),) = receiver.received
    assert headers["Host"] == f"hooks.test:{port}"  # the name is kept, the address was checked
    api.merchant(a)
    assert hooks.dispatch() == 1
    hooks.resolver = _resolver("127.0.0.1", "169.254.169.254")  # one answer inside: refused
    with hooks.client() as client:
        assert hooks.deliver_due(client) == 1
    assert len(receiver.received) == 1  # nothing sent
    endpoint = api.ok(api.get(a, "/v1/webhook_endpoints"))["data"][0]["id"]
    deliveries = api.ok(api.get(a, f"/v1/webhook_endpoints/{endpoint}/deliveries"))["data"]
    refused = [d for d in deliveries if d["status"] == "pending"]
    assert refused[0]["last_error"] == "refused: hooks.test resolves to a link-local address"
    assert "169.254" not in refused[0]["last_error"]


def test_delivery_refuses_plain_http_once_development_settings_are_off(
    api: Api, receiver: Receiver
) -> None:
    a = api.a
    hooks = api.platform.webhooks
    api.ok(api.post(a, "/v1/webhook_endpoints", {"url": receiver.url, "event_types": ["*"]}), 201)
    hooks.targets = STRICT
    api.merchant(a)
    hooks.dispatch()
    with hooks.client() as client:
        hooks.deliver_due(client)
    assert receiver.received == []
