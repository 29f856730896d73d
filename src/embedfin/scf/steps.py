"""The steps a certificate command and a batch's item share: the checks of a change, the
money of a discount, and what a certificate event's log entry says."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from embedfin.core.errors import InvalidStateTransition
from embedfin.scf.certificates import CertificateRefused, Discount, check_face, discount
from embedfin.scf.store import (
    Certificate,
    CertificateStatus,
    Party,
    Payable,
    PayableStatus,
    Role,
)

#: The tenant's log every supply-chain finance event is appended to.
LOG_ID = "scf"


def check_changeable(parent: Certificate, payable: Payable, holder_id: str, today: date) -> None:
    """Refuse a split, transfer or discount of ``parent`` by ``holder_id`` on ``today``."""
    certificate_id = parent.certificate_id
    if parent.holder_id != holder_id:
        raise CertificateRefused(f"certificate {certificate_id} is not held by {holder_id}")
    if parent.status is not CertificateStatus.LIVE:
        raise InvalidStateTransition(f"certificate {certificate_id} is {parent.status}")
    if parent.holder_role is Role.FUNDER:
        raise CertificateRefused("a funder's certificate is only settled at maturity")
    if payable.status is not PayableStatus.OUTSTANDING:
        raise InvalidStateTransition(f"its payable is {payable.status}: only settled now")
    if today >= payable.matures_on:
        raise CertificateRefused(f"the certificate matured on {payable.matures_on}")


def check_settleable(payable: Payable, today: date) -> None:
    if payable.status is PayableStatus.SETTLED:
        raise InvalidStateTransition(f"payable {payable.payable_id} is settled")
    if today < payable.matures_on:
        raise CertificateRefused(f"payable {payable.payable_id} matures on "
                                 f"{payable.matures_on}")  # fmt: skip


def settle_shortfall(core: Party, settled: Payable) -> str:
    total = settled.face_minor + settled.late_interest_minor
    return f"core enterprise {core.party_id} holds less than the {total:,} due"


def discount_terms(
    parent: Certificate, payable: Payable, core: Party, amount_minor: int | None, today: date
) -> Discount:
    """What a funder pays for ``amount_minor`` of ``parent`` (the whole by default)."""
    face = parent.face_minor if amount_minor is None else amount_minor
    return discount(check_face(face), rate_of(core.discount_rate), today, payable.matures_on,
                    core.day_basis or 360)  # fmt: skip


def discount_money(terms: Discount, core: Party) -> dict[str, Any]:
    return {"price_minor": terms.price_minor, "interest_minor": terms.interest_minor,
            "days": terms.days, "rate": str(core.discount_rate)}  # fmt: skip


def certificate_fields(
    payable: Payable,
    retired: Sequence[Certificate],
    made: Sequence[Certificate],
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """What a certificate event's log entry says: the payable, what retired, what was made."""
    return {
        "payable": {"id": payable.payable_id, "core": payable.core_id,
                    "currency": payable.currency, "face_minor": payable.face_minor,
                    "matures_on": payable.matures_on.isoformat()},
        "retires": [c.certificate_id for c in retired],
        "makes": [{"id": c.certificate_id, "holder": c.holder_id, "tier": c.tier,
                   "face_minor": c.face_minor} for c in made],
        **(extra or {}),
    }  # fmt: skip


def entry_body(kind: str, request_id: str, today: date, fields: dict[str, Any]) -> dict[str, Any]:
    return {"v": 1, "event": kind, "request_id": request_id, "on": today.isoformat(), **fields}


def entry_text(body: dict[str, Any]) -> str:
    """An entry's text in the log: canonical JSON (sorted keys, no spaces)."""
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def rate_of(rate: Decimal | None) -> Decimal:
    if rate is None:
        raise CertificateRefused("the core enterprise has no rates")
    return rate
