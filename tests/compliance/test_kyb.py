"""Know your business: a pending merchant is reviewed before it sells, a verified one that changes
its details is re-verified (it sells, it is not paid out), the same details review nothing anew,
bad details change nothing, the legal name is screened, and tenants stay apart."""

from __future__ import annotations

from decimal import Decimal

import pytest

from embedfin.bootstrap import Services, TenantServices, check_all
from embedfin.commerce.orders import OrderLine
from embedfin.compliance.aml import watchlist
from embedfin.core.clock import NS_PER_SECOND, ManualClock
from embedfin.core.errors import InvalidInput, InvalidStateTransition, NotFound
from embedfin.core.money import Money
from embedfin.ledger.service import Ledger
from embedfin.payments.payouts.settlement import settle_channel
from embedfin.risk.config import RiskSettings
from embedfin.security.crypto import FieldCipher, new_key_spec

OWNERS = [{"name": "Ada Lovelace", "birth_date": "1985-12-10", "country": "GB", "share": "60"}]


@pytest.fixture
def shop(ledger: Ledger) -> TenantServices:
    cipher = FieldCipher.parse(new_key_spec("k1"))
    return Services(ledger, cipher=cipher, risk=RiskSettings(enabled=False)).tenant("ten_a")


def _register(t: TenantServices, merchant: str, status: str) -> None:
    t.checkout.register_merchant(merchant, category="books", country="DE",
                                 settlement_currency="EUR", kyc_status=status)  # fmt: skip


def _sell(t: TenantServices, merchant: str, order_id: str, minor: int = 10_000) -> None:
    t.wallets.top_up("b1", Money(minor, "EUR"), "card-acquirer", f"top-{order_id}")
    settle_channel(t.ledger, t.tenant, "card-acquirer", Money(minor, "EUR"), Money(0, "EUR"),
                   f"s-{order_id}")  # fmt: skip
    t.checkout.place_order(order_id, buyer_id="b1", merchant_id=merchant, currency_code="EUR",
                           lines=[OrderLine("book", 1, minor)])  # fmt: skip
    t.checkout.pay_with_wallet(order_id)
    t.checkout.ship(order_id, "DHL-1")
    t.checkout.confirm_receipt(order_id)


def _payouts(t: TenantServices, clock: ManualClock, batch: str) -> dict[str, int]:
    clock.advance(seconds=2 * 86_400)
    t.settlement.run_t1(f"t1-{batch}", clock.now_ns() - NS_PER_SECOND)
    return {line.merchant_id: line.amount.amount_minor for line in t.settlement.run_payouts(batch)}


def test_a_pending_merchant_is_reviewed_before_it_sells(shop: TenantServices) -> None:
    _register(shop, "m1", "pending")
    with pytest.raises(InvalidStateTransition, match="not KYC-verified"):
        _sell(shop, "m1", "o-1")
    sub = shop.kyb.submit("m1", "Lindenblatt Buchhandel GmbH", "HRB 12345", "DE", OWNERS, "ops")
    assert (sub.status, sub.legal_name, sub.owners[0].share) == ("submitted", sub.legal_name,
                                                                 Decimal(60))  # fmt: skip
    case = shop.cases.get(sub.case_id)
    assert (case.kind, case.merchant_id) == ("kyb_review", "m1")
    assert "Lindenblatt" not in case.summary  # the name is masked in the queue
    again = shop.kyb.submit("m1", "Lindenblatt Buchhandel GmbH", "HRB 12345", "DE", OWNERS, "ops")
    assert again.case_id == sub.case_id  # the same details: no second review
    with pytest.raises(InvalidInput, match="released"):
        shop.cases.decide(sub.case_id, "refund", "no", "officer")
    shop.cases.decide(sub.case_id, "release", "register extract and owners checked", "officer")
    assert shop.kyb.get("m1").status == "verified"
    _sell(shop, "m1", "o-2")
    with shop.ledger.reader() as conn:
        assert check_all(conn).ok


def test_a_verified_merchant_that_changes_its_details_sells_but_is_not_paid_out(
    shop: TenantServices, clock: ManualClock
) -> None:
    _register(shop, "m1", "verified")
    shop.settlement.bind_bank_account("m1", "tok_12345678ab", "4242")
    _sell(shop, "m1", "o-1")
    changed = [*OWNERS[:1], {"name": "Grace Hopper", "birth_date": "1980-01-02",
                             "country": "US", "share": "40"}]  # fmt: skip
    sub = shop.kyb.submit("m1", "Lindenblatt Buchhandel GmbH", "HRB 12345", "DE", changed, "ops")
    assert "re-verification" in shop.cases.get(sub.case_id).summary
    _sell(shop, "m1", "o-2")  # it still sells while under review
    assert "m1" not in _payouts(shop, clock, "p-1")  # but nothing is paid out to it
    shop.cases.decide(sub.case_id, "release", "new owner checked", "officer")
    assert _payouts(shop, clock, "p-2").get("m1", 0) > 0


def test_a_rejected_merchant_may_not_sell(shop: TenantServices) -> None:
    _register(shop, "m1", "pending")
    sub = shop.kyb.submit("m1", "Shadow Trading LLC", "X-1", "PA", [], "ops")
    shop.cases.decide(sub.case_id, "reject", "no registry record", "officer")
    assert shop.kyb.get("m1").status == "rejected"
    with pytest.raises(InvalidStateTransition):
        _sell(shop, "m1", "o-1")


@pytest.mark.parametrize(
    ("owners", "message"),
    [
        ([{**OWNERS[0], "share": "101"}], "at most 100"),
        ([{**OWNERS[0], "share": "0"}], "above 0"),
        ([{**OWNERS[0], "share": "x"}], "percentage"),
        ([OWNERS[0], OWNERS[0]], "more than 100"),
        ([{**OWNERS[0], "birth_date": "1985-13-40"}], "birth_date"),
        (["Ada"], "object"),
        ("Ada", "list"),
        ([{**OWNERS[0], "country": "ZZ"}], "alpha-2 country code"),  # user-assigned
        ([{**OWNERS[0], "country": "UK"}], "alpha-2 country code"),  # reserved, not GB
        ([{**OWNERS[0], "country": "G"}], "alpha-2 country code"),
    ],
)
def test_bad_details_are_refused_and_change_nothing(
    shop: TenantServices, owners: object, message: str
) -> None:
    _register(shop, "m1", "verified")
    with pytest.raises(InvalidInput, match=message):
        shop.kyb.submit("m1", "Lindenblatt GmbH", "HRB 1", "DE", owners, "ops")
    with pytest.raises(NotFound):
        shop.kyb.get("m1")
    _sell(shop, "m1", "o-1")  # still verified


@pytest.mark.parametrize("country", ["XX", "QZ", "D1", "", "DEU"])
def test_the_company_country_is_a_real_country(shop: TenantServices, country: str) -> None:
    _register(shop, "m1", "verified")
    with pytest.raises(InvalidInput, match="alpha-2 country code"):
        shop.kyb.submit("m1", "Lindenblatt GmbH", "HRB 1", country, [], "ops")
    kosovo = shop.kyb.submit("m1", "Lindenblatt GmbH", "HRB 1", "xk", [], "ops")
    assert kosovo.country == "XK"  # the code sanctions lists use, upper-cased


def test_a_listed_beneficial_owner_holds_the_merchants_payouts(
    shop: TenantServices, clock: ManualClock
) -> None:
    shop.screening.load_list(watchlist.read_file(watchlist.SHIPPED), "synthetic", "officer")
    _register(shop, "m1", "verified")
    shop.settlement.bind_bank_account("m1", "tok_12345678ab", "4242")
    _sell(shop, "m1", "o-1")
    listed = {"name": "Boris Zheleznov", "birth_date": "1961-02-03", "country": "RU",
              "share": "30"}  # fmt: skip
    sub = shop.kyb.submit("m1", "Lindenblatt GmbH", "HRB 1", "DE", [OWNERS[0], listed], "ops")
    hits = [c for c in shop.cases.queue(limit=10) if c.kind == "sanctions_hit"]
    assert len(hits) == 1
    assert hits[0].merchant_id == "m1"
    assert "owner2 m1" in hits[0].summary
    assert shop.screening.held("merchant", "m1") is not None  # an owner's hit holds the merchant
    shop.cases.decide(sub.case_id, "release", "company checked", "officer")
    assert "m1" not in _payouts(shop, clock, "p-1")  # verified, but the owner's hit still holds
    held = shop.screening.held("merchant", "m1")
    assert held is not None
    assert "beneficial owner 2" in held
    # the listed owner sells its share: the new details drop it, the officer clears the hit
    again = shop.kyb.submit("m1", "Lindenblatt GmbH", "HRB 1", "DE", OWNERS, "ops")
    with shop.ledger.reader() as conn:
        kinds = {r[0] for r in conn.exec_driver_sql(
            "SELECT party_kind FROM aml_parties WHERE party_id = 'm1'")}  # fmt: skip
    assert kinds == {"merchant", "owner1"}
    shop.cases.decide(hits[0].case_id, "release", "the owner sold its share", "officer")
    shop.cases.decide(again.case_id, "release", "owner left", "officer")
    assert _payouts(shop, clock, "p-2").get("m1", 0) > 0


def test_the_legal_name_is_screened_and_other_tenants_see_nothing(shop: TenantServices) -> None:
    shop.screening.load_list(watchlist.read_file(watchlist.SHIPPED), "synthetic", "officer")
    _register(shop, "m1", "pending")
    shop.kyb.submit("m1", "Northern Pearl Logistics GmbH", "HRB 9", "DE", [], "ops")
    kinds = sorted(c.kind for c in shop.cases.queue(limit=10))
    assert kinds == ["kyb_review", "sanctions_hit"]
    other = Services(shop.ledger, risk=RiskSettings(enabled=False)).tenant("ten_b")
    with pytest.raises(NotFound):
        other.kyb.get("m1")
    with pytest.raises(NotFound):
        other.kyb.submit("m1", "Lindenblatt GmbH", "HRB 1", "DE", [], "ops")


def test_the_check_finds_a_merchant_paid_out_while_under_review(shop: TenantServices) -> None:
    from sqlalchemy import update

    from embedfin.db.tables import merchants

    _register(shop, "m1", "verified")
    shop.kyb.submit("m1", "Lindenblatt GmbH", "HRB 1", "DE", [], "ops")
    with shop.ledger.reader() as conn:
        assert check_all(conn).ok
    with shop.ledger.engine.begin() as conn:  # a writer marks it verified behind the review
        conn.execute(update(merchants).values(kyc_status="verified"))
    with shop.ledger.reader() as conn:
        found = {v.invariant for v in check_all(conn).violations}
    assert found == {"kyb_reviews_match_merchants"}


def test_a_resubmission_supersedes_the_open_review_and_a_rejection_sticks(
    shop: TenantServices,
) -> None:
    _register(shop, "m1", "verified")
    first = shop.kyb.submit("m1", "Lindenblatt GmbH", "HRB 1", "DE", [], "ops")
    second = shop.kyb.submit("m1", "Lindenblatt GmbH", "HRB 2", "DE", [], "ops")
    old = shop.cases.get(first.case_id)
    assert (old.status, old.outcome) == ("decided", "void")  # superseded, not left open
    with shop.ledger.transaction() as tx:
        assert shop.checkout.kyc_status_of(tx, "m1") == "review"  # still selling
    shop.cases.decide(second.case_id, "reject", "registry number unknown", "officer")
    with pytest.raises(InvalidStateTransition, match="rejected on these details"):
        shop.kyb.submit("m1", "Lindenblatt GmbH", "HRB 2", "DE", [], "ops")
    third = shop.kyb.submit("m1", "Lindenblatt GmbH", "HRB 3", "DE", [], "ops")
    assert third.status == "submitted"
    with shop.ledger.reader() as conn:
        assert check_all(conn).ok
