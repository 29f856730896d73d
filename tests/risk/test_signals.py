"""The online signals: the features computed from a store's reads, checked by hand.

Every vector :func:`features` returns here is also built into a :class:`FeatureVector`, which
checks each name and type against the catalogue.
"""

from __future__ import annotations

import math
import string

import pytest

from embedfin.risk.decision import RiskContext, RiskSubject, SubjectKind
from embedfin.risk.feature_types import Entity, FeatureValue
from embedfin.risk.features import FeatureVector
from embedfin.risk.signals import (
    DAY_NS,
    NS_PER_S,
    LinkRow,
    Observation,
    Reads,
    SignalRow,
    Status,
    account_of,
    digest,
    features,
)

NOW = 1_767_225_600 * NS_PER_S
HOUR = 3_600 * NS_PER_S
WEEK = 7 * DAY_NS
OK, NO, WAIT = Status.SUCCEEDED, Status.DECLINED, Status.PENDING


def obs(
    *,
    kind: str = "checkout",
    method: str = "card",
    amount: int = 1_000,
    currency: str = "USD",
    buyer: str | None = "b1",
    merchant: str | None = "m1",
    account: str | None = None,
    token: str | None = None,
    device: str | None = None,
    ip: str | None = None,
    address: str | None = None,
    payout_account: str | None = None,
    extra: Entity | None = None,
) -> Observation:
    """An observation at ``NOW`` naming the given entities (their stored keys, as given);
    ``extra`` names one more entity, keyed ``k1``."""
    digested = {
        Entity.TOKEN: token,
        Entity.DEVICE: device,
        Entity.IP: ip,
        Entity.ADDRESS: address,
        Entity.PAYOUT_ACCOUNT: payout_account,
    }
    entities = {entity: key for entity, key in digested.items() if key is not None}
    if extra is not None:
        entities[extra] = "k1"
    if buyer is not None:
        entities[Entity.BUYER] = buyer
    if merchant is not None:
        entities[Entity.MERCHANT] = merchant
    if account is None:
        account = f"b:{buyer}" if buyer is not None else ""
    return Observation("o-now", "t1", NOW, kind, method, amount, currency, entities, account)


def row(
    age: int,
    *,
    kind: str = "checkout",
    method: str = "card",
    amount: int = 100,
    currency: str = "USD",
    status: Status = OK,
    token: str | None = None,
) -> SignalRow:
    """An earlier observation ``age`` ns before ``NOW``."""
    return SignalRow(NOW - age, kind, method, amount, currency, status, token)


def link(account: str, *, first_age: int = DAY_NS, last_age: int = HOUR) -> LinkRow:
    return LinkRow(account, NOW - first_age, NOW - last_age)


def checked(observation: Observation, reads: Reads) -> dict[str, FeatureValue]:
    """The features, after the catalogue accepted every name and type."""
    values = features(observation, reads)
    vector = FeatureVector(values)
    assert set(vector) == set(values)
    return values


# --- velocity -------------------------------------------------------------------------------


def _aged_rows() -> list[SignalRow]:
    """Newest first: just inside 1 h, exactly 1 h, exactly 24 h, just inside 7 d, exactly 7 d."""
    return [
        row(HOUR - 1, amount=1),
        row(HOUR, amount=10),
        row(DAY_NS, amount=100),
        row(WEEK - 1, amount=1_000),
        row(WEEK, amount=10_000),
    ]


@pytest.mark.parametrize(
    "entity",
    [Entity.BUYER, Entity.TOKEN, Entity.DEVICE, Entity.IP, Entity.ADDRESS],
)
def test_velocity_windows_are_strict(entity: Entity) -> None:
    # buyer and merchant are named by default; the others are added
    values = checked(obs(extra=entity), Reads(rows={entity: _aged_rows()}))
    name = entity.value
    assert values[f"{name}_orders_1h"] == 1
    assert values[f"{name}_amount_1h"] == 1
    assert values[f"{name}_orders_24h"] == 2
    assert values[f"{name}_amount_24h"] == 11
    assert values[f"{name}_orders_7d"] == 4
    assert values[f"{name}_amount_7d"] == 1_111


def test_a_merchants_velocity_is_its_last_hour_only() -> None:
    """A busy merchant's week is thousands of rows: online, only its last hour is read."""
    values = checked(obs(extra=Entity.MERCHANT), Reads(rows={Entity.MERCHANT: _aged_rows()}))
    assert values["merchant_orders_1h"] == 1
    assert values["merchant_amount_1h"] == 1
    assert "merchant_orders_24h" not in values
    assert "merchant_amount_7d" not in values


def test_an_amount_sum_past_64_bits_saturates() -> None:
    huge = [row(1, amount=(1 << 63) - 1), row(2, amount=(1 << 63) - 1)]  # ages in ns
    values = checked(obs(), Reads(rows={Entity.BUYER: huge}))
    assert values["buyer_amount_1h"] == (1 << 63) - 1


def test_velocity_needs_the_entity_in_the_request_and_in_the_reads() -> None:
    rows = _aged_rows()
    # the request names no device: the device's rows are ignored
    values = checked(obs(), Reads(rows={Entity.DEVICE: rows, Entity.BUYER: []}))
    assert "device_orders_1h" not in values
    assert values["buyer_orders_7d"] == 0
    assert values["buyer_amount_7d"] == 0
    # the request names an IP the store returned nothing for: no IP velocity at all
    values = checked(obs(ip="i1"), Reads())
    assert not any(name.startswith("ip_orders") for name in values)


def test_velocity_amounts_are_only_in_the_request_currency() -> None:
    rows = [
        row(1, amount=100, currency="USD"),
        row(2, amount=7_000, currency="EUR"),
        row(3, amount=50, currency="USD"),
    ]
    values = checked(obs(currency="USD"), Reads(rows={Entity.BUYER: rows}))
    assert values["buyer_orders_1h"] == 3
    assert values["buyer_amount_1h"] == 150
    values = checked(obs(currency="EUR"), Reads(rows={Entity.BUYER: rows}))
    assert values["buyer_orders_1h"] == 3
    assert values["buyer_amount_1h"] == 7_000


def test_velocity_counts_checkout_attempts_only_of_any_outcome() -> None:
    rows = [
        row(1, kind="top_up", amount=1),
        row(2, kind="withdrawal", amount=2),
        row(3, kind="payout", amount=4),
        row(4, status=NO, amount=8),
        row(5, status=WAIT, amount=16),
        row(6, status=OK, amount=32),
    ]
    values = checked(obs(), Reads(rows={Entity.BUYER: rows}))
    assert values["buyer_orders_1h"] == 3
    assert values["buyer_amount_1h"] == 56


# --- declines -------------------------------------------------------------------------------


def test_declines_in_a_row_counts_declines_since_the_last_success_skipping_pending() -> None:
    rows = [
        row(1, status=NO),
        row(2, status=WAIT),
        row(3, status=NO, kind="top_up"),
        row(4, status=OK),
        row(5, status=NO),
        row(6, status=NO),
    ]
    values = checked(obs(), Reads(rows={Entity.BUYER: rows}))
    assert values["declines_in_a_row"] == 2


def test_declines_in_a_row_without_a_success_counts_every_decline() -> None:
    rows = [row(1, status=NO), row(2, status=WAIT), row(3, status=NO), row(4, status=NO)]
    assert checked(obs(), Reads(rows={Entity.BUYER: rows}))["declines_in_a_row"] == 3
    assert checked(obs(), Reads(rows={Entity.BUYER: [row(1)]}))["declines_in_a_row"] == 0


def test_a_guests_declines_in_a_row_are_the_devices() -> None:
    device_rows = [row(1, status=NO), row(2, status=NO), row(3, status=OK), row(4, status=NO)]
    guest = obs(buyer=None, device="d1")
    assert guest.account == ""
    values = checked(guest, Reads(rows={Entity.DEVICE: device_rows, Entity.MERCHANT: []}))
    assert values["declines_in_a_row"] == 2
    # a buyer's own rows decide, not the device's
    buyer_rows = [row(1, status=OK)]
    reads = Reads(rows={Entity.BUYER: buyer_rows, Entity.DEVICE: device_rows})
    assert checked(obs(device="d1"), reads)["declines_in_a_row"] == 0
    # no buyer rows and no device rows: no streak at all
    assert "declines_in_a_row" not in checked(guest, Reads(rows={Entity.MERCHANT: []}))


def test_token_and_device_declines_use_their_windows() -> None:
    token_rows = [
        row(1, status=NO),
        row(2, status=OK),
        row(DAY_NS - 1, status=NO),
        row(DAY_NS, status=NO),  # exactly 24 h: outside
        row(3, status=WAIT),
    ]
    device_rows = [
        row(1, status=NO),
        row(HOUR - 1, status=NO),
        row(HOUR, status=NO),  # exactly 1 h: outside
        row(2, status=OK),
    ]
    reads = Reads(rows={Entity.TOKEN: token_rows, Entity.DEVICE: device_rows})
    values = checked(obs(token="t1", device="d1"), reads)
    assert values["token_declines_24h"] == 2
    assert values["device_declines_1h"] == 2


def test_device_tokens_24h_counts_distinct_tokens_and_the_current_one() -> None:
    device_rows = [
        row(1, token="t1"),
        row(2, token="t1", status=NO),
        row(DAY_NS - 1, token="t2"),
        row(DAY_NS, token="t3"),  # exactly 24 h: outside
        row(3, token=None),
    ]
    reads = Reads(rows={Entity.DEVICE: device_rows})
    assert checked(obs(device="d1", token="t9"), reads)["device_tokens_24h"] == 3
    assert checked(obs(device="d1", token="t1"), reads)["device_tokens_24h"] == 2
    assert checked(obs(device="d1"), reads)["device_tokens_24h"] == 2
    empty = Reads(rows={Entity.DEVICE: []})
    assert checked(obs(device="d1", token="t9"), empty)["device_tokens_24h"] == 1
    assert checked(obs(device="d1"), empty)["device_tokens_24h"] == 0


def test_merchant_decline_rate_ignores_pending_and_older_rows() -> None:
    merchant_rows = [
        row(1, status=OK),
        row(2, status=NO),
        row(3, status=NO),
        row(4, status=WAIT),
        row(5, status=WAIT),
        row(HOUR, status=NO),  # exactly 1 h: outside
        row(HOUR + 1, status=OK),
    ]
    values = checked(obs(), Reads(rows={Entity.MERCHANT: merchant_rows}))
    assert values["merchant_decline_rate_1h"] == pytest.approx(2 / 3)
    assert isinstance(FeatureVector(values)["merchant_decline_rate_1h"], float)


def test_merchant_decline_rate_is_missing_with_nothing_settled() -> None:
    merchant_rows = [row(1, status=WAIT), row(HOUR, status=NO)]
    values = checked(obs(), Reads(rows={Entity.MERCHANT: merchant_rows}))
    assert "merchant_decline_rate_1h" not in values
    assert values["merchant_orders_1h"] == 1
    all_declined = checked(obs(), Reads(rows={Entity.MERCHANT: [row(1, status=NO)]}))
    assert all_declined["merchant_decline_rate_1h"] == 1.0


# --- linked accounts --------------------------------------------------------------------------


def test_account_counts_include_the_buyer_and_exclude_guests_and_merchants() -> None:
    device_links = [
        link("b:b2", last_age=1),
        link("", last_age=1),  # a guest
        link("m:m7", last_age=1),  # a merchant's payout
        link("b:b3", last_age=DAY_NS - 1),
        link("b:b4", last_age=DAY_NS),  # exactly 24 h: outside 24 h, inside 7 d
        link("b:b5", last_age=WEEK),  # exactly 7 d: outside
        link("b:b1", last_age=2 * DAY_NS),  # the buyer itself, counted once
    ]
    reads = Reads(links={Entity.DEVICE: device_links})
    values = checked(obs(device="d1"), reads)
    assert values["device_accounts_24h"] == 3  # b1, b2, b3
    assert values["device_accounts_7d"] == 4  # b1, b2, b3, b4
    guest = checked(obs(buyer=None, device="d1"), reads)
    assert guest["device_accounts_24h"] == 2  # b2, b3
    assert guest["device_accounts_7d"] == 4  # b1 is just another account here: b1, b2, b3, b4


def test_account_counts_for_ip_address_and_token() -> None:
    reads = Reads(
        links={
            Entity.IP: [link("b:b2", last_age=DAY_NS - 1), link("b:b3", last_age=DAY_NS)],
            Entity.ADDRESS: [link("b:b2", last_age=WEEK - 1), link("", last_age=1)],
            Entity.TOKEN: [link("b:b1"), link("m:m1")],
        }
    )
    values = checked(obs(ip="i1", address="a1", token="t1"), reads)
    assert values["ip_accounts_24h"] == 2  # b1, b2
    assert values["address_accounts_7d"] == 2  # b1, b2
    assert values["token_accounts_7d"] == 1  # b1
    # a request that names nothing linked counts nothing
    plain = checked(obs(), reads)
    assert not {"ip_accounts_24h", "address_accounts_7d", "token_accounts_7d"} & set(plain)
    # no links read: just the buyer, or nobody for a guest
    assert checked(obs(ip="i1"), Reads())["ip_accounts_24h"] == 1
    assert checked(obs(buyer=None, ip="i1"), Reads())["ip_accounts_24h"] == 0


def test_first_seen_days_are_whole_days_since_the_earliest_link() -> None:
    reads = Reads(
        links={
            Entity.TOKEN: [
                link("b:b1", first_age=DAY_NS),
                link("b:b2", first_age=3 * DAY_NS + DAY_NS // 2),
            ],
            Entity.DEVICE: [link("b:b1", first_age=DAY_NS - 1)],
            Entity.IP: [],
            Entity.ADDRESS: [LinkRow("b:b2", NOW + HOUR, NOW + HOUR)],  # clock skew: not negative
        }
    )
    values = checked(obs(token="t1", device="d1", ip="i1", address="a1"), reads)
    assert values["card_first_seen_days"] == 3
    assert values["device_first_seen_days"] == 0
    assert values["ip_first_seen_days"] == 0
    assert values["address_first_seen_days"] == 0
    # a value the request does not name has no age, even when the store read links for it
    assert "card_first_seen_days" not in checked(obs(device="d1"), reads)


def test_new_for_buyer_flags() -> None:
    reads = Reads(
        links={
            Entity.DEVICE: [link("b:b2"), link("b:b1")],
            Entity.TOKEN: [link("b:b2"), link("")],
            Entity.ADDRESS: [],
        }
    )
    values = checked(obs(device="d1", token="t1", address="a1"), reads)
    assert values["device_new_for_buyer"] is False
    assert values["card_new_for_buyer"] is True
    assert values["address_new_for_buyer"] is True
    guest = checked(obs(buyer=None, device="d1", token="t1", address="a1"), reads)
    assert not {"device_new_for_buyer", "card_new_for_buyer", "address_new_for_buyer"} & set(guest)


def test_buyer_devices_7d_counts_the_accounts_devices_and_the_current_one() -> None:
    account_links = {
        Entity.DEVICE: [
            LinkRow("d2", NOW - 3 * DAY_NS, NOW - HOUR),
            LinkRow("d3", NOW - 8 * DAY_NS, NOW - WEEK + 1),
            LinkRow("d4", NOW - 9 * DAY_NS, NOW - WEEK),  # exactly 7 d: outside
        ]
    }
    reads = Reads(account_links=account_links)
    assert checked(obs(device="d1"), reads)["buyer_devices_7d"] == 3  # d1, d2, d3
    assert checked(obs(device="d2"), reads)["buyer_devices_7d"] == 2  # d2, d3
    assert checked(obs(), reads)["buyer_devices_7d"] == 2  # no device sent: d2, d3
    assert checked(obs(device="d1"), Reads())["buyer_devices_7d"] == 1
    assert "buyer_devices_7d" not in checked(obs(), Reads())
    assert "buyer_devices_7d" not in checked(obs(buyer=None, device="d1"), reads)


def test_linked_accounts_are_other_accounts_on_device_address_and_payout_account() -> None:
    reads = Reads(
        links={
            Entity.DEVICE: [link("b:b1"), link("b:b2"), link("")],
            Entity.ADDRESS: [link("b:b2"), link("m:m3")],
            Entity.IP: [link("b:b8")],  # an IP does not link accounts
            Entity.TOKEN: [link("b:b9")],  # nor does a token
        }
    )
    values = checked(obs(device="d1", address="a1", ip="i1", token="t1"), reads)
    assert values["linked_accounts"] == 2  # b2, m:m3
    guest = checked(obs(buyer=None, device="d1", address="a1", ip="i1", token="t1"), reads)
    assert guest["linked_accounts"] == 3  # b1, b2, m:m3
    assert checked(obs(device="d1"), Reads())["linked_accounts"] == 0
    assert "linked_accounts" not in checked(obs(ip="i1", token="t1"), reads)


def test_self_purchase_when_the_merchant_shares_a_device_address_or_ip() -> None:
    seller = link("m:m1")
    for entity in (Entity.DEVICE, Entity.ADDRESS, Entity.IP):
        reads = Reads(links={entity: [link("b:b2"), seller]})
        values = checked(obs(extra=entity), reads)
        assert values["self_purchase"] is True, entity
    other_merchant = Reads(links={Entity.DEVICE: [link("m:m2"), link("b:b1")]})
    assert checked(obs(device="d1"), other_merchant)["self_purchase"] is False
    on_a_token = Reads(links={Entity.TOKEN: [seller]})
    assert checked(obs(token="t1"), on_a_token)["self_purchase"] is False
    assert checked(obs(), Reads())["self_purchase"] is False
    guest = checked(obs(buyer=None, device="d1"), Reads(links={Entity.DEVICE: [seller]}))
    assert "self_purchase" not in guest
    assert "self_purchase" not in checked(obs(merchant=None, kind="top_up"), Reads())


def test_payout_account_merchants_counts_merchants_on_the_bank_account() -> None:
    payout = obs(
        kind="payout", method="bank_transfer", buyer=None, account="m:m1", payout_account="p1"
    )
    reads = Reads(
        links={Entity.PAYOUT_ACCOUNT: [link("m:m2"), link("m:m1"), link("b:b5"), link("")]}
    )
    values = checked(payout, reads)
    assert values["payout_account_merchants"] == 2  # m1, m2
    assert values["linked_accounts"] == 2  # m:m2, b:b5: not itself, not the guest
    assert checked(payout, Reads())["payout_account_merchants"] == 1
    assert "payout_account_merchants" not in checked(obs(), reads)


# --- amount history ---------------------------------------------------------------------------


def test_amount_history_median_ratio_and_zscore() -> None:
    values = checked(obs(amount=400), Reads(history=[400, 100, 200]))
    assert values["buyer_paid_orders_90d"] == 3
    assert values["amount_to_buyer_median"] == pytest.approx(2.0)
    # logs are ln100, ln200, ln400: mean ln200, population spread ln2·√(2/3)
    assert values["amount_buyer_zscore"] == pytest.approx(math.sqrt(1.5))
    even = checked(obs(amount=300), Reads(history=[100, 500, 200, 400]))
    assert even["amount_to_buyer_median"] == pytest.approx(1.0)  # median (200 + 400) / 2


def test_amount_history_zscore_needs_two_distinct_amounts() -> None:
    one = checked(obs(amount=50), Reads(history=[100]))
    assert one["buyer_paid_orders_90d"] == 1
    assert one["amount_to_buyer_median"] == pytest.approx(0.5)
    assert "amount_buyer_zscore" not in one
    same = checked(obs(amount=50), Reads(history=[100, 100, 100]))
    assert same["amount_to_buyer_median"] == pytest.approx(0.5)
    assert "amount_buyer_zscore" not in same
    two = checked(obs(amount=100), Reads(history=[100, 400]))
    assert two["amount_to_buyer_median"] == pytest.approx(0.4)
    assert two["amount_buyer_zscore"] == pytest.approx(-1.0)


def test_amount_history_without_history_or_outside_checkouts() -> None:
    empty = checked(obs(), Reads())
    assert empty["buyer_paid_orders_90d"] == 0
    assert "amount_to_buyer_median" not in empty
    assert "amount_buyer_zscore" not in empty
    history = Reads(history=[100, 200])
    assert "buyer_paid_orders_90d" not in checked(obs(buyer=None), history)
    withdrawal = obs(kind="withdrawal", method="wallet", merchant=None)
    assert "buyer_paid_orders_90d" not in checked(withdrawal, history)


# --- fund flow --------------------------------------------------------------------------------


def _withdrawal() -> Observation:
    return obs(kind="withdrawal", method="wallet", merchant=None)


def _cycles(rows: list[SignalRow]) -> FeatureValue:
    ordered = sorted(rows, key=lambda r: r.at, reverse=True)
    return checked(_withdrawal(), Reads(rows={Entity.BUYER: ordered}))["wallet_cycles_7d"]


def test_a_top_up_withdrawn_at_least_90_percent_within_24h_is_a_cycle() -> None:
    top_up = row(3 * HOUR, kind="top_up", amount=100)
    assert _cycles([top_up, row(2 * HOUR, kind="withdrawal", amount=90)]) == 1
    assert _cycles([top_up, row(2 * HOUR, kind="withdrawal", amount=89)]) == 0
    assert _cycles([top_up, row(2 * HOUR, kind="withdrawal", amount=500)]) == 1
    assert _cycles([top_up]) == 0


def test_a_cycle_needs_the_withdrawal_within_24h_after_the_top_up() -> None:
    top_up = row(2 * DAY_NS, kind="top_up", amount=100)
    on_the_dot = row(DAY_NS, kind="withdrawal", amount=100)
    one_ns_late = row(DAY_NS - 1, kind="withdrawal", amount=100)
    before = row(2 * DAY_NS + 1, kind="withdrawal", amount=100)
    same_time = row(2 * DAY_NS, kind="withdrawal", amount=100)
    assert _cycles([top_up, on_the_dot]) == 1
    assert _cycles([top_up, one_ns_late]) == 0
    assert _cycles([top_up, before]) == 0
    assert _cycles([top_up, same_time]) == 1


def test_each_withdrawal_pays_off_one_top_up() -> None:
    top_ups = [row(5 * HOUR, kind="top_up", amount=100), row(4 * HOUR, kind="top_up", amount=100)]
    one_out = [row(3 * HOUR, kind="withdrawal", amount=100)]
    two_out = [*one_out, row(2 * HOUR, kind="withdrawal", amount=100)]
    assert _cycles(top_ups + one_out) == 1
    assert _cycles(top_ups + two_out) == 2
    # one top-up and two withdrawals: still one cycle
    assert _cycles(top_ups[:1] + two_out) == 1


def test_a_cycle_needs_settled_moves_in_one_currency_within_7_days() -> None:
    out = row(2 * HOUR, kind="withdrawal", amount=100)
    assert _cycles([row(3 * HOUR, kind="top_up", amount=100, currency="EUR"), out]) == 0
    assert _cycles([row(3 * HOUR, kind="top_up", amount=100, status=WAIT), out]) == 0
    assert _cycles([row(3 * HOUR, kind="top_up", amount=100, status=NO), out]) == 0
    declined_out = row(2 * HOUR, kind="withdrawal", amount=100, status=NO)
    assert _cycles([row(3 * HOUR, kind="top_up", amount=100), declined_out]) == 0
    old_top_up = row(WEEK, kind="top_up", amount=100)  # exactly 7 d: outside
    late_out = row(WEEK - HOUR, kind="withdrawal", amount=100)
    assert _cycles([old_top_up, late_out]) == 0
    assert _cycles([row(WEEK - 1, kind="top_up", amount=100), late_out]) == 1


def test_cash_out_after_credit_on_a_withdrawal_reads_the_buyers_rows() -> None:
    def cash_out(buyer_rows: list[SignalRow]) -> FeatureValue:
        return checked(_withdrawal(), Reads(rows={Entity.BUYER: buyer_rows}))[
            "cash_out_after_credit_24h"
        ]

    assert cash_out([row(2 * HOUR, method="bnpl")]) is True
    assert cash_out([row(2 * HOUR, method="credit_line")]) is True
    assert cash_out([row(2 * HOUR, method="card_credit")]) is True
    assert cash_out([row(2 * HOUR, method="card")]) is False
    assert cash_out([row(2 * HOUR, method="bnpl", status=NO)]) is False
    assert cash_out([row(2 * HOUR, method="bnpl", status=WAIT)]) is False
    assert cash_out([row(2 * HOUR, method="bnpl", kind="top_up")]) is False
    assert cash_out([row(DAY_NS, method="bnpl")]) is False  # exactly 24 h: outside
    assert cash_out([row(DAY_NS - 1, method="bnpl")]) is True
    assert cash_out([]) is False


def test_cash_out_after_credit_on_a_payout_reads_the_merchants_rows() -> None:
    payout = obs(kind="payout", method="bank_transfer", buyer=None, account="m:m1")
    credit = [row(HOUR, method="bnpl")]
    merchant_credit = Reads(rows={Entity.MERCHANT: credit, Entity.BUYER: []})
    assert checked(payout, merchant_credit)["cash_out_after_credit_24h"] is True
    buyer_credit = Reads(rows={Entity.MERCHANT: [row(HOUR)], Entity.BUYER: credit})
    assert checked(payout, buyer_credit)["cash_out_after_credit_24h"] is False
    assert checked(payout, Reads())["cash_out_after_credit_24h"] is False
    assert "cash_out_after_credit_24h" not in checked(obs(), merchant_credit)


def test_credit_purchases_24h_counts_paid_credit_checkouts() -> None:
    rows = [
        row(1, method="bnpl"),
        row(2, method="credit_line"),
        row(3, method="bnpl", status=NO),
        row(4, method="card"),
        row(5, method="bnpl", kind="top_up"),
        row(DAY_NS, method="bnpl"),  # exactly 24 h: outside
    ]
    values = checked(obs(), Reads(rows={Entity.BUYER: rows}))
    assert values["credit_purchases_24h"] == 2
    assert values["wallet_cycles_7d"] == 0


# --- the whole vector and the observation -----------------------------------------------------


def test_a_busy_request_yields_a_vector_the_catalogue_accepts() -> None:
    rows = [row(1, token="t2", status=NO), row(HOUR, method="bnpl"), row(DAY_NS, status=WAIT)]
    reads = Reads(
        rows={entity: list(rows) for entity in Entity if entity is not Entity.PAYOUT_ACCOUNT},
        history=[120, 80, 1_000],
        links={
            Entity.TOKEN: [link("b:b1")],
            Entity.DEVICE: [link("b:b2"), link("m:m1")],
            Entity.IP: [link("")],
            Entity.ADDRESS: [link("b:b3", first_age=40 * DAY_NS)],
        },
        account_links={Entity.DEVICE: [link("d9")]},
    )
    values = checked(obs(token="t1", device="d1", ip="i1", address="a1"), reads)
    assert values["buyer_orders_24h"] == 2
    assert values["declines_in_a_row"] == 1
    assert values["device_tokens_24h"] == 2
    assert values["merchant_decline_rate_1h"] == 1.0
    assert values["address_first_seen_days"] == 40
    assert values["self_purchase"] is True
    assert values["credit_purchases_24h"] == 1
    assert values["buyer_paid_orders_90d"] == 3
    assert "cash_out_after_credit_24h" not in values
    assert len(FeatureVector(values)) == len(values)


def test_digest_is_32_hex_characters_and_differs_per_tenant_and_entity() -> None:
    one = digest("t1", Entity.DEVICE, "d1")
    assert len(one) == 32
    assert set(one) <= set(string.hexdigits.lower())
    assert digest("t1", Entity.DEVICE, "d1") == one
    assert digest("t2", Entity.DEVICE, "d1") != one
    assert digest("t1", Entity.IP, "d1") != one
    assert digest("t1", Entity.DEVICE, "d2") != one


def test_an_observation_of_a_subject_digests_its_entities() -> None:
    context = RiskContext(device_id="dev-1", ip="::ffff:10.0.0.1", shipping_address=" Main  St ")
    subject = RiskSubject(
        SubjectKind.CHECKOUT, "t1", 500, "usd", "card", "b1", "m1", "ref-1", context
    )
    observation = Observation.of(subject, "d-1", NOW, token="tok-1")
    assert observation.account == "b:b1"
    assert observation.currency == "USD"
    assert observation.status is Status.PENDING
    assert observation.keys == {
        Entity.BUYER: "b1",
        Entity.MERCHANT: "m1",
        Entity.TOKEN: digest("t1", Entity.TOKEN, "tok-1"),
        Entity.DEVICE: digest("t1", Entity.DEVICE, "dev-1"),
        Entity.IP: digest("t1", Entity.IP, "10.0.0.1"),
        Entity.ADDRESS: digest("t1", Entity.ADDRESS, "main st"),
    }
    payout = RiskSubject(SubjectKind.PAYOUT, "t1", 500, "USD", "bank_transfer", merchant_id="m1")
    paid_out = Observation.of(payout, "d-2", NOW, payout_account="acct-1")
    assert paid_out.account == "m:m1"
    assert paid_out.keys == {
        Entity.MERCHANT: "m1",
        Entity.PAYOUT_ACCOUNT: digest("t1", Entity.PAYOUT_ACCOUNT, "acct-1"),
    }
    assert account_of(None, "m1", SubjectKind.CHECKOUT) == ""
    assert account_of("b1", None, SubjectKind.TOP_UP) == "b:b1"
