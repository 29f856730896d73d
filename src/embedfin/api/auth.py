"""Tenants, API keys, roles and scopes.

A key is ``efk_<key id>_<secret>``: the key id finds the row, only SHA-256 of the whole key is
stored (keys are 256-bit random, so a fast hash is enough; a leaked table reveals no key), and the
key is shown once, when created. Each key has one role; each route names the scope it needs.

==========  ===========================================================================
role        may
==========  ===========================================================================
operator    everything in its tenant (the marketplace operator)
merchant    its own merchant record, orders, balance and payouts; ship and refund its orders
risk        read everything in the tenant; open and resolve disputes; work the risk case
            queue, change the fraud rules
regulator   read-only: everything in the tenant, and the audit log
==========  ===========================================================================
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, Row, insert, select, update

from embedfin.api.ids import object_id
from embedfin.core.errors import EmbedfinError, InvalidInput, NotFound
from embedfin.db.tables import api_keys, tenants


class Role(StrEnum):
    OPERATOR = "operator"
    MERCHANT = "merchant"
    RISK = "risk"
    REGULATOR = "regulator"


class Scope(StrEnum):
    READ = "read"  # objects of the tenant (a merchant: its own)
    CUSTOMERS_READ = "customers:read"  # buyers' (masked) personal data
    ORDERS_WRITE = "orders:write"  # create and pay orders, checkouts
    FULFIL = "orders:fulfil"  # ship, cancel, refund
    DISPUTES = "disputes:write"
    WALLETS_WRITE = "wallets:write"
    CUSTOMERS_WRITE = "customers:write"
    MERCHANTS_WRITE = "merchants:write"
    SETTLEMENT = "settlement:write"
    RECON = "recon:write"
    FX = "fx:write"
    KEYS = "keys:write"
    WEBHOOKS = "webhooks:write"
    AUDIT = "audit:read"
    RISK = "risk:write"  # risk decisions, cases and rules
    SANDBOX = "sandbox:read"  # what the sandbox "sends" (challenge codes): operators only
    LOG = "log:write"  # append to the verifiable logs, keep witnesses' cosignatures
    SCF = "scf:write"  # supply-chain finance: parties, certificates, settlement
    LOG_WITNESSES = "log:witnesses"  # choose the witnesses a log accepts: operators only
    FUNDPOOL = "fundpool:write"  # the fund pool: funds, subscriptions, redemptions, portfolio
    STRESS = "stress:read"  # the whole exposure network and stress tests on it: not merchants


SCOPES: dict[Role, frozenset[Scope]] = {
    Role.OPERATOR: frozenset(Scope),
    Role.MERCHANT: frozenset({Scope.READ, Scope.FULFIL}),
    Role.RISK: frozenset(
        {Scope.READ, Scope.CUSTOMERS_READ, Scope.DISPUTES, Scope.RISK, Scope.STRESS}
    ),
    Role.REGULATOR: frozenset({Scope.READ, Scope.CUSTOMERS_READ, Scope.AUDIT, Scope.STRESS}),
}


class Unauthenticated(EmbedfinError):
    """No valid API key: missing, malformed, unknown or revoked."""

    code = "unauthenticated"


class Forbidden(EmbedfinError):
    """The key is valid but its role does not carry the scope this route needs."""

    code = "forbidden"


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: a key of a tenant, with a role (and, for merchants, the merchant)."""

    key_id: str
    tenant: str
    role: Role
    merchant_id: str | None

    def require(self, scope: Scope) -> None:
        if scope not in SCOPES[self.role]:
            raise Forbidden(f"a {self.role} key may not {scope}")

    def may_see_merchant(self, merchant_id: str) -> bool:
        return self.merchant_id is None or self.merchant_id == merchant_id


@dataclass(frozen=True, slots=True)
class ApiKey:
    key_id: str
    tenant: str
    role: Role
    merchant_id: str | None
    name: str
    prefix: str
    created_at_ns: int
    revoked_at_ns: int | None


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_tenant(conn: Connection, name: str, now_ns: int) -> str:
    if not name or len(name) > 200 or not name.isprintable():
        raise InvalidInput("tenant name must be 1-200 printable characters")
    tenant_id = object_id("ten")
    conn.execute(insert(tenants).values(tenant_id=tenant_id, name=name, created_at=now_ns))
    return tenant_id


def tenant_exists(conn: Connection, tenant_id: str) -> bool:
    found = conn.execute(select(tenants.c.tenant_id).where(tenants.c.tenant_id == tenant_id))
    return found.first() is not None


def create_key(
    conn: Connection,
    tenant: str,
    role: Role,
    name: str,
    now_ns: int,
    merchant_id: str | None = None,
) -> tuple[ApiKey, str]:
    """A new key and its secret (returned once, never stored)."""
    if (role is Role.MERCHANT) != (merchant_id is not None):
        raise InvalidInput("a merchant key needs merchant_id; other roles take none")
    if not name or len(name) > 200 or not name.isprintable():
        raise InvalidInput("key name must be 1-200 printable characters")
    key_id = object_id("key")
    secret = f"efk_{key_id[4:]}_{secrets.token_urlsafe(32)}"
    key = ApiKey(key_id, tenant, role, merchant_id, name, secret[:16], now_ns, None)
    conn.execute(
        insert(api_keys).values(
            key_id=key_id,
            tenant_id=tenant,
            role=str(role),
            merchant_id=merchant_id,
            name=name,
            secret_hash=_digest(secret),
            prefix=key.prefix,
            created_at=now_ns,
        )
    )
    return key, secret


def _key(r: Row[Any]) -> ApiKey:
    return ApiKey(
        r.key_id,
        r.tenant_id,
        Role(r.role),
        r.merchant_id,
        r.name,
        r.prefix,
        r.created_at,
        r.revoked_at,
    )


def load_key(conn: Connection, tenant: str, key_id: str) -> ApiKey:
    row = conn.execute(
        select(api_keys).where(api_keys.c.tenant_id == tenant, api_keys.c.key_id == key_id)
    ).first()
    if row is None:
        raise NotFound(f"no api key {key_id}")
    return _key(row)


def list_keys(
    conn: Connection, tenant: str, limit: int, starting_after: str | None
) -> tuple[list[ApiKey], bool]:
    query = select(api_keys).where(api_keys.c.tenant_id == tenant)
    if starting_after is not None:
        query = query.where(api_keys.c.key_id < starting_after)
    rows = conn.execute(query.order_by(api_keys.c.key_id.desc()).limit(limit + 1)).all()
    return [_key(r) for r in rows[:limit]], len(rows) > limit


def revoke_key(conn: Connection, tenant: str, key_id: str, now_ns: int) -> ApiKey:
    key = load_key(conn, tenant, key_id)
    if key.revoked_at_ns is None:
        conn.execute(update(api_keys).where(api_keys.c.key_id == key_id).values(revoked_at=now_ns))
        key = load_key(conn, tenant, key_id)
    return key


class KeyVerifier:
    """Checks bearer keys against the store, with a short in-process cache.

    A revocation through this process takes effect at once; one made by another process takes
    effect within ``ttl_s`` (default 5 s).
    """

    def __init__(self, ttl_s: float = 5.0) -> None:
        self.ttl_s = ttl_s
        self._cache: dict[str, tuple[float, Principal]] = {}
        self._lock = threading.Lock()

    def cached(self, secret: str) -> Principal | None:
        """The key's principal if verified within the last ``ttl_s`` (no I/O)."""
        with self._lock:
            hit = self._cache.get(_digest(secret))
        return hit[1] if hit is not None and hit[0] > time.monotonic() else None

    def verify(self, connect: Callable[[], Connection], secret: str) -> Principal:
        if not secret.startswith("efk_") or len(secret) > 200:
            raise Unauthenticated("missing or malformed API key")
        found = self.cached(secret)
        if found is not None:
            return found
        digest = _digest(secret)
        now = time.monotonic()
        with connect() as conn:
            row = conn.execute(select(api_keys).where(api_keys.c.secret_hash == digest)).first()
        if row is None or row.revoked_at is not None:
            raise Unauthenticated("unknown or revoked API key")
        if not hmac.compare_digest(row.secret_hash, digest):
            raise Unauthenticated("unknown or revoked API key")
        principal = Principal(row.key_id, row.tenant_id, Role(row.role), row.merchant_id)
        with self._lock:
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[digest] = (now + self.ttl_s, principal)
        return principal

    def forget(self, key_id: str) -> None:
        with self._lock:
            for digest, (_, principal) in list(self._cache.items()):
                if principal.key_id == key_id:
                    del self._cache[digest]
