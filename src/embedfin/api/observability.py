"""Structured JSON logs and Prometheus metrics for the API.

The access log and the metrics name the route template (``/v1/orders/{order_id}``), never the
concrete path, body or key secret: no personal data reaches a log line. Every request gets a
request id (``X-Request-Id`` of the answer, ``request_id`` of its log lines); ``ErrorShield``
answers an unexpected error with a 500 that carries it and logs the error by type and frames
only (``api.failures``): exception messages quote SQL parameters and input, so they are never
logged, and no error escapes to the server's own logger.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Awaitable, Callable, Iterator, MutableMapping, Sequence
from datetime import UTC, datetime
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from embedfin.api.failures import scrubbed_traceback
from embedfin.api.ids import object_id
from embedfin.api.problems import request_id_of, route_of, unexpected
from embedfin.consumers.base import ConsumerLag
from embedfin.payments.channels.routing import Router

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

PAYMENT_ROUTES = {"/v1/checkouts", "/v1/orders/{order_id}/pay"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, tz=UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        entry.update(getattr(record, "fields", {}))
        if record.exc_info and record.exc_info[1] is not None:
            # a library's log.exception: its message may quote data, its frames do not
            entry["exc"] = scrubbed_traceback(record.exc_info[1])
        return json.dumps(entry, default=str)


def configure_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger("embedfin")
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    root.propagate = False


class Metrics:
    def __init__(
        self, router: Router, lag: Callable[[], Sequence[ConsumerLag]] | None = None
    ) -> None:
        self.registry = CollectorRegistry()
        if lag is not None:
            self.registry.register(ConsumerLagCollector(lag))
        self.latency = Histogram(
            "embedfin_http_request_duration_seconds",
            "API request latency by route template and status",
            ["method", "route", "status"],
            registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
        )
        self.payments = Counter(
            "embedfin_payments_total",
            "Payment requests by outcome (succeeded, declined, rejected, error)",
            ["outcome"],
            registry=self.registry,
        )
        rate = Gauge(
            "embedfin_channel_success_rate",
            "Live success rate of each payment channel over the router's sliding window",
            ["channel"],
            registry=self.registry,
        )
        for name in router.channels:
            rate.labels(channel=name).set_function(_rate_of(router, name))

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        self.latency.labels(method, route, str(status)).observe(seconds)
        if method == "POST" and route in PAYMENT_ROUTES:
            if 200 <= status < 300:
                outcome = "succeeded"
            elif status == 402:
                outcome = "declined"
            elif status < 500:
                outcome = "rejected"
            else:
                outcome = "error"
            self.payments.labels(outcome).inc()


class ConsumerLagCollector(Collector):
    """Each outbox consumer's lag, read from the database when Prometheus scrapes."""

    def __init__(self, lag: Callable[[], Sequence[ConsumerLag]]) -> None:
        self.lag = lag

    def describe(self) -> Iterator[GaugeMetricFamily]:
        return iter(self._families())  # no reads at registration

    def collect(self) -> Iterator[GaugeMetricFamily]:
        return iter(self._families(self.lag()))

    @staticmethod
    def _families(figures: Sequence[ConsumerLag] = ()) -> list[GaugeMetricFamily]:
        unread = GaugeMetricFamily(
            "embedfin_consumer_unread_events",
            "Committed outbox events of its types that the consumer has not read yet",
            labels=["consumer"],
        )
        age = GaugeMetricFamily(
            "embedfin_consumer_oldest_unread_age_seconds",
            "How long ago the oldest event the consumer has not read happened",
            labels=["consumer"],
        )
        parked = GaugeMetricFamily(
            "embedfin_consumer_parked_events",
            "Events the consumer set aside after repeated failures",
            labels=["consumer"],
        )
        for f in figures:
            unread.add_metric([f.consumer], f.unread)
            age.add_metric([f.consumer], f.oldest_unread_age_s)
            parked.add_metric([f.consumer], f.parked)
        return [unread, age, parked]


def _rate_of(router: Router, channel: str) -> Callable[[], float]:
    return lambda: router.success_rate(channel)


class AccessLog:
    """ASGI middleware: one JSON log line and one metrics observation per request."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics
        self.log = logging.getLogger("embedfin.access")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            elapsed = time.perf_counter() - started
            route = route_of(scope)
            self.metrics.observe(scope["method"], route, status, elapsed)
            if self.log.isEnabledFor(logging.INFO):
                principal = getattr(scope.get("state", {}).get("principal"), "key_id", None)
                self.log.info(
                    "request",
                    extra={
                        "fields": {
                            "method": scope["method"],
                            "route": route,
                            "status": status,
                            "ms": round(elapsed * 1000, 2),
                            "key": principal,
                            "request_id": request_id_of(scope),
                        }
                    },
                )


class ErrorShield:
    """ASGI middleware, outermost of the app's own: gives each request its id and answers
    any error that escapes the routes with a 500 problem, logged without its message.

    Starlette's own error middleware would re-raise the error for the server to log with
    its message (``uvicorn.error``: SQL parameters and all); this one does not."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = object_id("req")
        scope.setdefault("state", {})["request_id"] = request_id
        header = (b"x-request-id", request_id.encode())
        started = False

        async def sending(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except Exception as error:
            answer = unexpected(scope, error)
            if not started:
                await answer(scope, receive, sending)
