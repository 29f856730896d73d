"""The one way a POST route changes anything: a ``Command`` dependency.

A route declares a parameter such as ``cmd: OrdersCommand`` (one alias per scope, below);
FastAPI authenticates the caller for the scope, reads the ``Idempotency-Key`` header (required
on every POST: a request without it is answered 400 ``idempotency_key_required`` and changes
nothing) and hands the route a ``Command``. ``cmd.run(fingerprint, effect)`` then runs the
effect in the platform's idempotent unit of work (``Platform.command``) and answers with the
stored or fresh response. The problem ``instance`` of the request is its path, as the route
names it.
"""

# No ``from __future__ import annotations`` here: FastAPI must evaluate the dependency's
# parameter annotations, and they name the scope's ``require`` closure.
import hashlib
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from embedfin.api.auth import Principal, Scope
from embedfin.api.deps import IdempotencyKey, require, respond
from embedfin.api.idempotency import Body
from embedfin.api.ids import object_id
from embedfin.api.platform import Platform

Effect = Callable[[], tuple[int, Body]]


def request_id(principal: Principal, key: str | None) -> str:
    """The service-layer request id of a call: stable across retries of one Idempotency-Key."""
    if key is None:
        return object_id("req")
    return f"api:{principal.key_id}:{hashlib.sha256(key.encode()).hexdigest()[:40]}"


def derived_id(prefix: str, principal: Principal, key: str | None) -> str:
    """A new object's id; with an Idempotency-Key, the same id on every retry."""
    if key is None:
        return object_id(prefix)
    digest = hashlib.sha256(f"{principal.key_id}\x1f{key}\x1f{prefix}".encode()).digest()
    return f"{prefix}_{digest[:16].hex()[:26]}"


@dataclass(frozen=True, slots=True)
class Command:
    """One POST: who asks, under which Idempotency-Key, on which platform, at which path.

    Attributes:
        platform: the services the effect calls.
        principal: the authenticated caller (already checked for the route's scope).
        idempotency_key: the request's ``Idempotency-Key`` header (every POST must send one;
            ``None`` only for callers inside the process that need no replay).
        instance: the request's path (``/v1/orders/ord_…/pay``), the problem ``instance``.
    """

    platform: Platform
    principal: Principal
    idempotency_key: str | None
    instance: str

    @property
    def tenant(self) -> str:
        return self.principal.tenant

    def new_id(self, prefix: str) -> str:
        """The id of the object this command creates: the same on every retry of its key."""
        return derived_id(prefix, self.principal, self.idempotency_key)

    def request_id(self) -> str:
        """The service-layer request id (services de-duplicate on it)."""
        return request_id(self.principal, self.idempotency_key)

    def audit(self, action: str, target: str, detail: Mapping[str, object]) -> None:
        """Record the caller's privileged action in the command's unit of work."""
        self.platform.audit(self.principal, action, target, detail)

    def answer(
        self, fingerprint: Body, effect: Effect, *, atomic: bool = True
    ) -> tuple[int, Body, bool]:
        """Run the effect once per Idempotency-Key: (status, body, replayed).

        ``fingerprint`` is what a retry must repeat (the path is added to it); ``atomic=False``
        for effects that talk to a payment channel between their own commits."""
        return self.platform.command(
            self.principal,
            self.idempotency_key,
            fingerprint,
            effect,
            instance=self.instance,
            atomic=atomic,
        )

    def run(self, fingerprint: Body, effect: Effect, *, atomic: bool = True) -> JSONResponse:
        """``answer``, as the HTTP response (replays say so in ``Idempotent-Replayed``)."""
        return respond(*self.answer(fingerprint, effect, atomic=atomic))


def command(scope: Scope) -> Callable[..., Awaitable[Command]]:
    """The dependency that gives a POST route its ``Command`` for a scope."""
    authorized = require(scope)

    async def dependency(
        request: Request,
        principal: Annotated[Principal, Depends(authorized)],
        idempotency_key: IdempotencyKey,
    ) -> Command:
        route = request.scope["route"]
        assert isinstance(route, APIRoute)
        instance = route.path_format.format(**request.path_params)
        platform: Platform = request.app.state.platform
        return Command(platform, principal, idempotency_key, instance)

    return dependency


OrdersCommand = Annotated[Command, Depends(command(Scope.ORDERS_WRITE))]
MerchantsCommand = Annotated[Command, Depends(command(Scope.MERCHANTS_WRITE))]
CustomersCommand = Annotated[Command, Depends(command(Scope.CUSTOMERS_WRITE))]
WalletsCommand = Annotated[Command, Depends(command(Scope.WALLETS_WRITE))]
FulfilCommand = Annotated[Command, Depends(command(Scope.FULFIL))]
DisputesCommand = Annotated[Command, Depends(command(Scope.DISPUTES))]
FxCommand = Annotated[Command, Depends(command(Scope.FX))]
KeysCommand = Annotated[Command, Depends(command(Scope.KEYS))]
WebhooksCommand = Annotated[Command, Depends(command(Scope.WEBHOOKS))]
SettlementCommand = Annotated[Command, Depends(command(Scope.SETTLEMENT))]
ReconCommand = Annotated[Command, Depends(command(Scope.RECON))]
RiskCommand = Annotated[Command, Depends(command(Scope.RISK))]
LogCommand = Annotated[Command, Depends(command(Scope.LOG))]
ScfCommand = Annotated[Command, Depends(command(Scope.SCF))]
LogWitnessesCommand = Annotated[Command, Depends(command(Scope.LOG_WITNESSES))]
FundPoolCommand = Annotated[Command, Depends(command(Scope.FUNDPOOL))]
