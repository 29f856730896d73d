"""Know your business: a merchant's legal identity reviewed before it is paid out.

A merchant registered through the API starts ``pending``: it may not sell. It submits its legal
name, registration number, country and beneficial owners (:meth:`MerchantReviews.submit`); the
legal name and each beneficial owner are screened against the active sanctions list at once (a
hit opens its own ``sanctions_hit`` case and holds the merchant's payouts; an owner is the
party ``owner<n>`` of the merchant's id), and a ``kyb_review`` case opens in the shared queue.
The case decides: ``release`` — the merchant is ``verified`` (it sells and is paid out);
``reject`` — it is ``rejected``. A verified merchant that submits changed details is
*re-verified*: it becomes ``review`` — it still sells, but no payout reaches it until the new
review is decided (a review still open when new details arrive is closed ``void``,
superseded). The same details again change nothing; the details a rejection was decided on are
refused. Payments asks :func:`hold_reason` through the composite compliance-holds port before a
payout.

Owners' names and birth dates, like the legal name, are stored encrypted (``security.crypto``).
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

from sqlalchemy import Connection, select, update

from embedfin.compliance.aml.screening import Subject
from embedfin.compliance.aml.service import MAX_OWNERS, Screening, check_subject, forget_owners
from embedfin.core.clock import Clock
from embedfin.core.errors import InvalidInput, InvalidStateTransition, NotFound
from embedfin.db.statements import insert_if_absent
from embedfin.db.tables import aml_kyb
from embedfin.ledger.service import Ledger, LedgerTransaction
from embedfin.payments.requests import check_name
from embedfin.risk.cases import Cases
from embedfin.risk.text import checked_text
from embedfin.security.crypto import FieldCipher, load_cipher, mask_name

_K = aml_kyb.c


class MerchantStatus(Protocol):
    """What KYB needs of the merchants' owner (payments' checkout implements it)."""

    def kyc_status_of(self, tx: LedgerTransaction, merchant_id: str) -> str: ...

    def set_kyc_status(self, tx: LedgerTransaction, merchant_id: str, status: str) -> object: ...


@dataclass(frozen=True, slots=True)
class Owner:
    name: str
    birth_date: str | None
    country: str | None
    share: Decimal


@dataclass(frozen=True, slots=True)
class Submission:
    merchant_id: str
    legal_name: str
    registration_number: str
    country: str
    owners: tuple[Owner, ...]
    status: str  # submitted, verified, rejected
    case_id: str
    submitted_at: int
    decided_at: int | None


def check_owners(owners: object) -> tuple[Owner, ...]:
    """Beneficial owners: each a person with a share of 0–100 %, the shares at most 100 %."""
    if not isinstance(owners, list | tuple) or len(owners) > MAX_OWNERS:
        raise InvalidInput(f"owners is a list of at most {MAX_OWNERS}")
    found = []
    for n, owner in enumerate(owners, 1):
        if not isinstance(owner, dict):
            raise InvalidInput(f"owner {n} is an object: name, birth_date, country, share")
        subject = check_subject(
            owner.get("name"), "person", owner.get("birth_date"), owner.get("country")
        )
        try:
            share = Decimal(str(owner.get("share")))
        except InvalidOperation:
            raise InvalidInput(f"owner {n}: share is a percentage") from None
        if not share.is_finite() or not 0 < share <= 100:
            raise InvalidInput(f"owner {n}: share must be above 0 and at most 100 (percent)")
        found.append(Owner(subject.name, subject.birth_date, subject.country, share))
    if sum((o.share for o in found), Decimal(0)) > 100:
        raise InvalidInput("the owners' shares add up to more than 100 %")
    return tuple(found)


class MerchantReviews:
    """One tenant's KYB reviews."""

    def __init__(
        self,
        ledger: Ledger,
        tenant: str,
        cases: Cases,
        screening: Screening,
        merchants: MerchantStatus,
        cipher: FieldCipher | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.ledger = ledger
        self.tenant = tenant
        self.cases = cases
        self.screening = screening
        self.merchants = merchants
        self.cipher = cipher
        self.clock = clock or ledger.clock

    def submit(
        self,
        merchant_id: str,
        legal_name: str,
        registration_number: str,
        country: str,
        owners: object,
        actor: str,
    ) -> Submission:
        """Record the merchant's details for review (see the module)."""
        check_name("merchant_id", merchant_id)
        company = check_subject(legal_name, "organization", None, country)
        registration = checked_text("registration_number", registration_number, 64)
        checked = check_owners(owners)
        digest = _digest(company, registration, checked)
        with self.ledger.transaction() as tx:
            status = self.merchants.kyc_status_of(tx, merchant_id)
            found = self._row(tx.conn, merchant_id, for_update=True)
            if found is not None and found.digest == digest:
                if found.status == "rejected":
                    raise InvalidStateTransition(
                        f"merchant {merchant_id} was rejected on these details; submit changed"
                        " ones (a corrected registration, other owners) to be reviewed again"
                    )
                return self._submission(found)  # the same details: nothing to review anew
            if found is not None and found.status == "submitted":  # its review is moot now
                self.cases.void(tx, found.case_id, "superseded by a new KYB submission")
            case_id = f"case_kyb_{secrets.token_hex(10)}"
            now = self.clock.now_ns()
            values = {
                "legal_name_enc": self._cipher.encrypt(company.name, self._context(merchant_id)),
                "registration_number": registration,
                "country": company.country,
                "owners_enc": self._cipher.encrypt(
                    json.dumps([_owner_json(o) for o in checked]), self._context(merchant_id)
                ),
                "digest": digest,
                "status": "submitted",
                "case_id": case_id,
                "submitted_at": now,
                "submitted_by": actor,
                "decided_at": None,
            }
            key = {"tenant": self.tenant, "merchant_id": merchant_id}
            if not insert_if_absent(tx.conn, aml_kyb, {**key, **values}):
                tx.conn.execute(
                    update(aml_kyb)
                    .where(_K.tenant == self.tenant, _K.merchant_id == merchant_id)
                    .values(**values)
                )
            again = status in ("verified", "review")  # sold before: it may go on selling
            self.merchants.set_kyc_status(tx, merchant_id, "review" if again else "pending")
            self.cases.open(
                tx,
                kind="kyb_review",
                case_id=case_id,
                summary=(f"{'re-verification' if again else 'KYB review'} of merchant"
                         f" {merchant_id} ({mask_name(company.name)}, {company.country},"
                         f" {len(checked)} owner(s)): no payout until decided")[:500],
                amount_minor=0,
                currency="XXX",
                merchant_id=merchant_id,
            )  # fmt: skip
            self.screening.record_in(tx, "merchant", merchant_id, company)
            for n, owner in enumerate(checked, 1):  # each beneficial owner screened too
                person = Subject(owner.name, owner.birth_date, owner.country, "person")
                self.screening.record_in(tx, f"owner{n}", merchant_id, person)
            forget_owners(tx.conn, self.tenant, merchant_id, keep=len(checked))
            payload = {"case_id": case_id, "reverification": again, "owners": len(checked)}
            tx.emit(self.tenant, "aml_kyb_submitted", "merchant", merchant_id, payload)
            row = self._row(tx.conn, merchant_id)
            assert row is not None
            return self._submission(row)

    def decided(self, tx: LedgerTransaction, case_id: str, outcome: str) -> None:
        """A ``kyb_review`` case decided: ``release`` verifies, ``reject`` rejects."""
        row = tx.conn.execute(
            select(aml_kyb).where(_K.tenant == self.tenant, _K.case_id == case_id)
        ).first()
        if row is None:
            raise NotFound(f"no KYB submission for case {case_id}")
        status = "verified" if outcome == "release" else "rejected"
        tx.conn.execute(
            update(aml_kyb)
            .where(_K.tenant == self.tenant, _K.merchant_id == row.merchant_id)
            .values(status=status, decided_at=self.clock.now_ns())
        )
        self.merchants.set_kyc_status(tx, row.merchant_id, status)
        tx.emit(self.tenant, "aml_kyb_decided", "merchant", row.merchant_id,
                {"case_id": case_id, "status": status})  # fmt: skip

    def get(self, merchant_id: str) -> Submission:
        with self.ledger.reader() as conn:
            row = self._row(conn, merchant_id)
        if row is None:
            raise NotFound(f"no KYB submission for merchant {merchant_id}")
        return self._submission(row)

    # --- internals ---------------------------------------------------------------------------
    def _row(self, conn: Connection, merchant_id: str, *, for_update: bool = False) -> Any:
        query = select(aml_kyb).where(_K.tenant == self.tenant, _K.merchant_id == merchant_id)
        return conn.execute(query.with_for_update() if for_update else query).first()

    def _submission(self, row: Any) -> Submission:
        context = self._context(row.merchant_id)
        owners = json.loads(self._cipher.decrypt(row.owners_enc, context))
        return Submission(
            merchant_id=row.merchant_id,
            legal_name=self._cipher.decrypt(row.legal_name_enc, context),
            registration_number=row.registration_number,
            country=row.country,
            owners=tuple(
                Owner(o["name"], o["birth_date"], o["country"], Decimal(o["share"])) for o in owners
            ),
            status=row.status,
            case_id=row.case_id,
            submitted_at=row.submitted_at,
            decided_at=row.decided_at,
        )

    def _context(self, merchant_id: str) -> str:
        return f"aml_kyb:{self.tenant}:{merchant_id}"

    @property
    def _cipher(self) -> FieldCipher:
        if self.cipher is None:
            self.cipher = load_cipher()
        return self.cipher


def hold_reason(status: str, merchant_id: str) -> str | None:
    """Why a merchant of this KYB standing may not be paid out, or ``None``."""
    if status == "verified":
        return None
    if status == "review":
        return f"merchant {merchant_id} is being re-verified (KYB): payouts wait for the review"
    return f"merchant {merchant_id} is not KYB-verified ({status})"


def _owner_json(owner: Owner) -> dict[str, str | None]:
    return {"name": owner.name, "birth_date": owner.birth_date, "country": owner.country,
            "share": format(owner.share, "f")}  # fmt: skip


def _digest(company: Subject, registration: str, owners: tuple[Owner, ...]) -> str:
    text = json.dumps(
        [company.name, company.country, registration, [_owner_json(o) for o in owners]],
        sort_keys=True,
        ensure_ascii=False,
    )
    return hashlib.sha256(text.encode()).hexdigest()
