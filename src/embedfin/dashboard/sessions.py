"""Server-side dashboard sessions: the browser holds a random session id, never the API key.

Signing in with an API key opens a session: the cookie gets 256 random bits, the database keeps
their SHA-256, the key's id and the key itself encrypted with the field cipher (the storefront
calls the API with it). Every request resumes the session and verifies the key again, so a
revoked key ends its sessions at once; signing out deletes the session; sessions last 12 hours
of wall-clock time, and expired ones are deleted when the next session opens. A session whose
data key has been retired from ``EMBEDFIN_DATA_KEYS`` simply asks to sign in again (sessions are
short-lived, so ``embedfin keys rotate-data`` leaves them alone).

Their clock is the wall clock, not the platform's: the demo's platform clock runs through
simulated days before it hands over, and a session opened meanwhile must not expire at the
handover. It is a parameter, so tests can move it.
"""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import delete, insert, select

from embedfin.api.auth import Principal
from embedfin.api.platform import Platform
from embedfin.core.clock import Clock, SystemClock
from embedfin.db.tables import dashboard_sessions
from embedfin.security.crypto import DecryptionFailed

SESSION_TTL_NS = 12 * 3600 * 1_000_000_000
_CONTEXT = "dashboard_sessions.secret"
WALL_CLOCK = SystemClock()


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(
    platform: Platform, principal: Principal, secret: str, clock: Clock = WALL_CLOCK
) -> str:
    """A new session for a verified key; returns the token for the cookie."""
    token = secrets.token_urlsafe(32)
    now = clock.now_ns()
    with platform.ledger.transaction() as tx:
        tx.conn.execute(delete(dashboard_sessions).where(dashboard_sessions.c.expires_at < now))
        tx.conn.execute(
            insert(dashboard_sessions).values(
                session_hash=_hash(token),
                tenant=principal.tenant,
                key_id=principal.key_id,
                secret=platform.cipher.encrypt(secret, _CONTEXT),
                created_at=now,
                expires_at=now + SESSION_TTL_NS,
            )
        )
    return token


def resume(platform: Platform, token: str, clock: Clock = WALL_CLOCK) -> str | None:
    """The API key of a live session, or None (unknown, expired or unreadable)."""
    if not token or len(token) > 100:
        return None
    with platform.read() as conn:
        row = conn.execute(
            select(dashboard_sessions.c.secret, dashboard_sessions.c.expires_at).where(
                dashboard_sessions.c.session_hash == _hash(token)
            )
        ).first()
    if row is None or row.expires_at < clock.now_ns():
        return None
    try:
        return platform.cipher.decrypt(row.secret, _CONTEXT)
    except DecryptionFailed:  # its data key has been retired from the key ring
        return None


def close_session(platform: Platform, token: str) -> None:
    with platform.ledger.transaction() as tx:
        tx.conn.execute(
            delete(dashboard_sessions).where(dashboard_sessions.c.session_hash == _hash(token))
        )
