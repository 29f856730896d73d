"""Step-up challenges: a one-time code the buyer must give back before the operation goes on.

A ``challenge`` decision issues one: a six-digit code derived from the server's risk secret and
the challenge id (HMAC-SHA256), so no code is ever stored — the row keeps only a keyed digest of
it. In production the code goes out by SMS or the card issuer's 3-D Secure page; the sandbox has
neither, so its delivery is :meth:`Challenges.sandbox_code`, which the operator-only sandbox
endpoint and the simulator's honest buyers read (a fraudster holding a stolen card never sees
it). Three wrong answers or ten minutes fail the challenge; a failed challenge makes its
decision a block.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from sqlalchemy import Connection, insert, select, update

from embedfin.core.errors import InvalidInput, InvalidStateTransition, NotFound
from embedfin.db.tables import risk_challenges

TTL_NS = 10 * 60 * 1_000_000_000
MAX_ATTEMPTS = 3
_C = risk_challenges.c


@dataclass(frozen=True, slots=True)
class Challenge:
    challenge_id: str
    decision_id: str
    reference: str
    attempts: int
    status: str  # pending, passed, failed
    expires_at: int


class Challenges:
    """One tenant's challenges; every method runs in the caller's connection."""

    def __init__(self, tenant: str, secret: bytes) -> None:
        if len(secret) < 16:
            raise InvalidInput("the risk secret is at least 16 bytes")
        self.tenant = tenant
        self._secret = secret

    def sandbox_code(self, challenge_id: str) -> str:
        """The code the buyer would receive (the sandbox's stand-in for the SMS)."""
        mac = hmac.new(self._secret, f"{self.tenant}:{challenge_id}".encode(), hashlib.sha256)
        return f"{int.from_bytes(mac.digest()[:8], 'big') % 1_000_000:06d}"

    def _digest(self, challenge_id: str, code: str) -> str:
        material = f"{self.tenant}:{challenge_id}:{code}".encode()
        return hmac.new(self._secret, material, hashlib.sha256).hexdigest()

    def issue(self, conn: Connection, decision_id: str, reference: str, now: int) -> str:
        challenge_id = f"ch_{decision_id.removeprefix('rd_')}"
        conn.execute(
            insert(risk_challenges).values(
                tenant=self.tenant,
                challenge_id=challenge_id,
                decision_id=decision_id,
                reference=reference,
                code_digest=self._digest(challenge_id, self.sandbox_code(challenge_id)),
                attempts=0,
                status="pending",
                expires_at=now + TTL_NS,
                created_at=now,
            )
        )
        return challenge_id

    def of_decision(self, conn: Connection, decision_id: str) -> Challenge | None:
        row = (
            conn.execute(
                select(risk_challenges).where(
                    _C.tenant == self.tenant, _C.decision_id == decision_id
                )
            )
            .mappings()
            .first()
        )
        return None if row is None else _challenge(row)

    def pending_of(self, conn: Connection, reference: str) -> Challenge | None:
        """The unanswered, unexpired-or-not challenge of an operation, if one was sent."""
        row = (
            conn.execute(
                select(risk_challenges)
                .where(
                    _C.tenant == self.tenant,
                    _C.reference == reference,
                    _C.status == "pending",
                )
                .order_by(_C.created_at.desc())
                .limit(1)
            )
            .mappings()
            .first()
        )
        return None if row is None else _challenge(row)

    def get(self, conn: Connection, challenge_id: str, *, for_update: bool = False) -> Challenge:
        query = select(risk_challenges).where(
            _C.tenant == self.tenant, _C.challenge_id == challenge_id
        )
        row = conn.execute(query.with_for_update() if for_update else query).mappings().first()
        if row is None:
            raise NotFound(f"no challenge {challenge_id}")  # also another tenant's
        return _challenge(row)

    def answer(self, conn: Connection, challenge_id: str, code: str, now: int) -> Challenge:
        """Check ``code``: ``passed``, ``pending`` (wrong, attempts left) or ``failed``. A
        settled challenge answers as it stands (a retry of a right answer is still passed)."""
        if not isinstance(code, str) or not code.isascii() or not code.isdigit() or len(code) != 6:
            raise InvalidInput("a challenge code is six digits")
        found = self.get(conn, challenge_id, for_update=True)
        if found.status != "pending":
            return found
        row = conn.execute(
            select(_C.code_digest).where(_C.tenant == self.tenant, _C.challenge_id == challenge_id)
        ).scalar_one()
        if now > found.expires_at:
            status, attempts = "failed", found.attempts
        elif hmac.compare_digest(row, self._digest(challenge_id, code)):
            status, attempts = "passed", found.attempts + 1
        else:
            attempts = found.attempts + 1
            status = "failed" if attempts >= MAX_ATTEMPTS else "pending"
        conn.execute(
            update(risk_challenges)
            .where(_C.tenant == self.tenant, _C.challenge_id == challenge_id)
            .values(status=status, attempts=attempts)
        )
        return Challenge(
            challenge_id, found.decision_id, found.reference, attempts, status, found.expires_at
        )


def _challenge(row: object) -> Challenge:
    values = dict(row)  # type: ignore[call-overload]
    return Challenge(
        values["challenge_id"],
        values["decision_id"],
        values["reference"],
        int(values["attempts"]),
        values["status"],
        int(values["expires_at"]),
    )


def require_pending(challenge: Challenge) -> None:
    if challenge.status != "pending":
        raise InvalidStateTransition(f"challenge {challenge.challenge_id} is {challenge.status}")
