"""Customer due diligence: PBoC Announcement [2015] No. 43 Art. 11's payment account classes —
levels from verification channels, balance limits exactly at, below and above each line, own
bank transfers counted for Class I only, calendar years, conversion, concurrent payments, and
tenants apart."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from embedfin.bootstrap import Services, TenantServices
from embedfin.commerce.orders import OrderLine
from embedfin.compliance.aml import diligence
from embedfin.core.clock import NS_PER_SECOND, ManualClock
from embedfin.core.errors import InvalidInput, VerificationLimit
from embedfin.core.money import Money
from embedfin.ledger.service import Ledger
from embedfin.payments.payouts.settlement import settle_channel
from embedfin.risk.config import RiskSettings

PRC = diligence.load("prc")
_LEVEL = {"id": "a", "title": "a", "min_channels": 0, "face_to_face": True}
ONE, THREE, FIVE = ("bank_card",), ("bank_card", "mobile_carrier", "national_id_database"), (
    "bank_card", "mobile_carrier", "national_id_database", "social_insurance", "tax_records",
)  # fmt: skip


# --- the pack, pure ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("channels", "face_to_face", "level"),
    [((), False, None), (ONE, False, "I"), (ONE[:1] * 2, False, "I"), (THREE[:2], False, "I"),
     (THREE, False, "II"), (FIVE[:4], False, "II"), (FIVE, False, "III"), ((), True, "III")],
)  # fmt: skip
def test_the_level_follows_the_channels_or_a_face_to_face_check(
    channels: tuple[str, ...], face_to_face: bool, level: str | None
) -> None:
    found = diligence.level_for(PRC, tuple(sorted(set(channels))), face_to_face)
    assert (found.id if found else None) == level


@pytest.mark.parametrize(
    ("level", "kind", "spent", "amount", "allowed"),
    [
        ("I", "purchase", "999.99", "0.01", True),  # exactly RMB 1,000 since opening
        ("I", "purchase", "999.99", "0.02", False),
        ("I", "own_bank", "900", "100.01", False),  # Class I counts transfers to its own bank
        ("II", "own_bank", "100000", "5000", True),  # Class II does not
        ("II", "purchase", "99999.99", "0.01", True),
        ("II", "purchase", "99999.99", "0.02", False),
        ("III", "transfer", "199000", "1000", True),
        ("III", "transfer", "199000", "1000.01", False),
    ],
)
def test_balance_payments_at_below_and_above_each_line(
    level: str, kind: str, spent: str, amount: str, allowed: bool
) -> None:
    lv = PRC.level(level)
    assert lv is not None
    if allowed:
        diligence.check_payment(PRC, lv, kind, Decimal(amount), Decimal(spent))
    else:
        with pytest.raises(VerificationLimit, match="PBoC Announcement"):
            diligence.check_payment(PRC, lv, kind, Decimal(amount), Decimal(spent))


def test_an_unverified_customer_pays_nothing_from_its_balance() -> None:
    with pytest.raises(VerificationLimit, match="not verified"):
        diligence.check_payment(PRC, None, "purchase", Decimal("0.01"), Decimal(0))


@pytest.mark.parametrize(
    ("change", "message"),
    [({"currency": "rmb"}, "currency"), ({"timezone": "Nowhere/Else"}, "IANA"),
     ({"levels": []}, "levels"), ({"levels": [{"id": "x"}]}, "levels.0"),
     ({"levels": [{"id": "a", "title": "a", "min_channels": 0, "face_to_face": True,
                   "limit": 1.5}]}, "not floats"),
     # found by a hostile run: each was accepted, or answered 500
     ({"levels": [{**_LEVEL, "limit": "abc"}]}, "not an amount"),
     ({"levels": [{**_LEVEL, "limit": [1]}]}, "not an amount"),
     ({"levels": [{**_LEVEL, "limit": "1e400"}]}, "below 10\\^18"),
     ({"levels": [{**_LEVEL, "limit": "1e-30"}]}, "decimal places"),
     ({"currency": "XYZ"}, "ISO 4217"),
     ({"currency": "XXX"}, "ISO 4217"),
     ({"currency": "KES"}, "ECB"),
     ({"title": "a\x1b[31mred"}, "control character"),
     ({"levels": list(reversed(PRC.model_dump(mode="json")["levels"]))}, "lowest first"),
     ({"timezone": "localtime"}, "IANA")],
)  # fmt: skip
def test_a_bad_pack_is_refused_whole(change: dict[str, object], message: str) -> None:
    data = {**PRC.model_dump(mode="json"), **change}
    with pytest.raises(diligence.DiligencePackInvalid, match=message):
        diligence.parse(data)


# --- in the platform -----------------------------------------------------------------------
@pytest.fixture
def shop(ledger: Ledger) -> TenantServices:
    t = Services(ledger, risk=RiskSettings(enabled=False)).tenant("ten_a")
    t.checkout.register_merchant("m1", category="books", country="CN", settlement_currency="CNY")
    t.checkout.register_merchant("m-eur", category="books", country="DE",
                                 settlement_currency="EUR")  # fmt: skip
    t.verification.set_pack(PRC, "officer")
    return t


def _pay(t: TenantServices, order_id: str, minor: int, currency: str = "CNY") -> None:
    merchant = "m1" if currency == "CNY" else "m-eur"
    t.checkout.place_order(order_id, buyer_id="b1", merchant_id=merchant, currency_code=currency,
                           lines=[OrderLine("book", 1, minor)])  # fmt: skip
    t.checkout.pay_with_wallet(order_id)


def test_a_class_i_buyer_pays_up_to_rmb_1000_then_is_refused_with_nothing_moved(
    shop: TenantServices,
) -> None:
    shop.wallets.top_up("b1", Money(500_000, "CNY"), "card-acquirer", "top-1")
    with pytest.raises(VerificationLimit, match="not verified"):
        _pay(shop, "o-0", 100)
    standing = shop.verification.verify("b1", list(ONE), False, "officer")
    assert standing.level is not None
    assert (standing.level.id, standing.remaining) == ("I", Decimal(1000))
    _pay(shop, "o-1", 60_000)
    _pay(shop, "o-2", 40_000)  # exactly RMB 1,000 since the account opened
    before = shop.wallets.balance("buyer", "b1", "CNY").available
    with pytest.raises(VerificationLimit, match="Class I"):
        _pay(shop, "o-3", 1)
    assert shop.wallets.balance("buyer", "b1", "CNY").available == before
    assert shop.checkout.get_order("o-3").paid_minor == 0
    settle_channel(shop.ledger, shop.tenant, "card-acquirer", Money(500_000, "CNY"),
                   Money(0, "CNY"), "s-1")  # fmt: skip
    with pytest.raises(VerificationLimit):  # Class I counts a withdrawal to its own bank
        shop.wallets.withdraw("buyer", "b1", Money(100, "CNY"), "tok_abcdefgh12", "1234", "w-1")
    # more channels: Class II, RMB 100,000 a year (this year's 1,000 counted), withdrawals to
    # its own bank not counted
    upgraded = shop.verification.verify("b1", list(THREE), False, "officer")
    assert upgraded.remaining == Decimal(99_000)
    _pay(shop, "o-4", 150_000)
    shop.wallets.withdraw("buyer", "b1", Money(100_000, "CNY"), "tok_abcdefgh12", "1234", "w-2")
    assert shop.verification.standing("b1").spent == Decimal(2500)
    # another tenant: no pack set, no limits
    other = Services(shop.ledger, risk=RiskSettings(enabled=False)).tenant("ten_b")
    assert other.verification.pack().id == "none"
    assert other.verification.standing("b1").level is not None


def test_a_new_calendar_year_starts_afresh_and_foreign_money_converts(
    shop: TenantServices, clock: ManualClock
) -> None:
    shop.verification.verify("b1", list(THREE), False, "officer")
    shop.wallets.top_up("b1", Money(10_000_000, "CNY"), "card-acquirer", "top-1")
    shop.wallets.top_up("b1", Money(100_000, "EUR"), "card-acquirer", "top-2")
    _pay(shop, "o-1", 9_990_000)  # 99,900 of 100,000
    with pytest.raises(VerificationLimit):
        _pay(shop, "o-2", 5_000, "EUR")  # EUR 50 is far more than RMB 100 left
    year = datetime.fromtimestamp(clock.now_ns() // NS_PER_SECOND, UTC).year
    clock.advance(seconds=366 * 86_400)
    _pay(shop, "o-3", 5_000, "EUR")
    standing = shop.verification.standing("b1")
    assert standing.period == str(year + 1)
    assert Decimal(300) < standing.spent < Decimal(500)  # EUR 50 at the ECB rate of the day


def test_bad_verification_is_refused(shop: TenantServices) -> None:
    with pytest.raises(InvalidInput, match="unknown channel"):
        shop.verification.verify("b1", ["a_friend_said_so"], False, "officer")
    with pytest.raises(InvalidInput):
        shop.verification.verify("b1", "bank_card", False, "officer")
    assert shop.verification.standing("b1").level is None


@pytest.mark.postgres
def test_two_concurrent_payments_cannot_both_pass_one_limit(pg_url: str) -> None:
    ledger = Ledger.open(pg_url, ManualClock())
    t = Services(ledger, risk=RiskSettings(enabled=False)).tenant("ten_a")
    t.checkout.register_merchant("m1", category="books", country="CN", settlement_currency="CNY")
    t.verification.set_pack(PRC, "officer")
    t.verification.verify("b1", list(ONE), False, "officer")
    t.wallets.top_up("b1", Money(500_000, "CNY"), "card-acquirer", "top-1")
    for n in range(2):
        t.checkout.place_order(f"o-{n}", buyer_id="b1", merchant_id="m1", currency_code="CNY",
                               lines=[OrderLine("book", 1, 60_000)])  # fmt: skip
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def pay(order_id: str) -> None:
        start.wait()
        try:
            t.checkout.pay_with_wallet(order_id)
            outcomes.append("paid")
        except VerificationLimit:
            outcomes.append("refused")

    threads = [threading.Thread(target=pay, args=(f"o-{n}",)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["paid", "refused"]
    assert t.verification.standing("b1").spent == Decimal(600)
    ledger.close()


# --- found by a hostile run --------------------------------------------------------------------
def test_a_split_tender_and_a_loan_repayment_draw_on_the_balance_limit(
    shop: TenantServices,
) -> None:
    from embedfin.payments.channels.processors import ChannelKind

    shop.verification.verify("b1", list(ONE), False, "officer")
    shop.wallets.top_up("b1", Money(500_000, "CNY"), "card-acquirer", "top-1")
    shop.checkout.place_order("o-split", buyer_id="b1", merchant_id="m1", currency_code="CNY",
                              lines=[OrderLine("book", 1, 200_000)])  # fmt: skip
    with pytest.raises(VerificationLimit):  # RMB 1,500 of RMB 2,000 from the wallet
        shop.channel_payments.pay_order("o-split", "pay-1", ChannelKind.CARD, "card-1",
                                        wallet_part=Money(150_000, "CNY"))  # fmt: skip
    assert shop.verification.standing("b1").spent == 0
    shop.channel_payments.pay_order("o-split", "pay-2", ChannelKind.CARD, "card-1",
                                    wallet_part=Money(90_000, "CNY"))  # fmt: skip
    assert shop.verification.standing("b1").spent == Decimal(900)


def test_a_change_of_level_or_of_pack_keeps_what_was_spent(shop: TenantServices) -> None:
    shop.wallets.top_up("b1", Money(1_000_000, "CNY"), "card-acquirer", "top-1")
    shop.verification.verify("b1", list(THREE), False, "officer")  # Class II
    _pay(shop, "o-1", 300_000)  # RMB 3,000
    shop.verification.verify("b1", list(ONE), False, "officer")  # down to Class I
    assert shop.verification.standing("b1").remaining == 0  # 3,000 since opening > 1,000
    with pytest.raises(VerificationLimit):
        _pay(shop, "o-2", 100)
    renamed = diligence.parse({**PRC.model_dump(mode="json"), "id": "prc-copy"})
    shop.verification.set_pack(renamed, "officer")  # the same currency: the same counters
    with pytest.raises(VerificationLimit):
        _pay(shop, "o-3", 100)
