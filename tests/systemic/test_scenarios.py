"""Stress scenarios on exposure networks worked by hand: a channel outage reaching the
safeguarded money, a core enterprise's failure passing down to its supplier and that
supplier's funder, the reverse stress, and bad input refused."""

from __future__ import annotations

import math

import pytest

from embedfin.core.errors import InvalidInput
from embedfin.systemic.exposures import Edge, Exposures, Node
from embedfin.systemic.scenarios import reverse, stress


def _platform(in_transit: int = 1_000, reserve: int = 250) -> Exposures:
    """The platform owes a buyer 900 and a merchant 300; a channel owes it 1,000 in transit;
    the client reserve holds 250."""
    nodes = (Node("platform", "platform", "EUR", reserve, 0),
             Node("channel:card", "channel", "EUR"), Node("buyer:b", "consumer", "EUR"),
             Node("merchant:m", "merchant", "EUR"))  # fmt: skip
    edges = (Edge("platform", "buyer:b", "EUR", 900, "wallet"),
             Edge("platform", "merchant:m", "EUR", 300, "balance"),
             Edge("channel:card", "platform", "EUR", in_transit, "in_transit"))  # fmt: skip
    return Exposures(nodes, edges)


def test_a_channel_outage_reaches_the_customers_money() -> None:
    calm = stress(_platform(), "EUR", "channel_outage", 0.0)
    assert (calm.platform_defaults, calm.platform_shortfall_minor, calm.first_round_minor) == (
        False, 0, 0)  # fmt: skip
    half = stress(_platform(), "EUR", "channel_outage", 0.5)
    assert half.shocked == ("channel:card",)
    assert half.first_round_minor == 500  # the channel's outside money halved
    assert half.platform_defaults
    assert half.platform_shortfall_minor == 1_200 - (500 + 250)
    # the platform pays its customers pro rata: the buyer 900 × 750/1,200, the merchant the rest
    assert half.losses_by_sector == {"consumer": 338, "merchant": 112, "platform": 500}
    assert half.second_round_minor == 950  # the platform and its customers were not shocked
    # the reserve's 250 covers 50 of lost transit beyond the 1,200 owed: 5 % breaks it
    threshold = reverse(_platform(), "EUR", "channel_outage")
    assert threshold is not None
    assert 0.05 < threshold <= 0.05 + 1 / 1024
    assert reverse(_platform(reserve=2_000), "EUR", "channel_outage") is None


def test_a_core_enterprises_failure_passes_down_the_chain() -> None:
    """The core owes its supplier a 1,000 certificate; the supplier owes its funder an 800
    advance and has nothing else; the platform owes the core 200 of balance."""
    nodes = (Node("platform", "platform", "EUR", 200, 0),
             Node("merchant:core", "core", "EUR"), Node("merchant:sup", "supplier", "EUR"),
             Node("funder:bank", "funder", "EUR"))  # fmt: skip
    edges = (Edge("platform", "merchant:core", "EUR", 200, "balance"),
             Edge("merchant:core", "merchant:sup", "EUR", 1_000, "certificate"),
             Edge("merchant:sup", "funder:bank", "EUR", 800, "advance"))  # fmt: skip
    books = Exposures(nodes, edges)
    found = stress(books, "EUR", "merchant_failure", 1.0)  # the core: it owes the most
    assert found.shocked == ("merchant:core",)
    assert found.first_round_minor == 800  # all it had outside (its net debt)
    # the core pays its 200 balance on: the supplier gets 200, pays the bank 200 of 800
    assert found.losses_by_sector == {"funder": 600, "supplier": 800}
    assert found.defaults_by_sector == {"core": 1, "supplier": 1}
    assert found.second_round_minor == 1_400
    assert not found.platform_defaults
    # a quarter of its outside money gone: it pays 800 of 1,000, the supplier still pays in full
    named = stress(books, "EUR", "merchant_failure", 0.25, target="core")
    assert named.losses_by_sector == {"supplier": 200}
    assert named.defaults_by_sector == {"core": 1}
    assert reverse(books, "EUR", "merchant_failure") is None  # the platform owes, is not owed


@pytest.mark.parametrize(
    ("scenario", "severity", "target", "message"),
    [
        ("bank_run", 0.5, None, "scenario is one of"),
        ("channel_outage", 1.5, None, "from 0 to 1"),
        ("channel_outage", -0.1, None, "from 0 to 1"),
        ("channel_outage", math.nan, None, "from 0 to 1"),
        ("channel_outage", "0.5", None, "a number"),
        ("channel_outage", 0.5, "card", "takes no target"),
        ("merchant_failure", 0.5, "ghost", "no merchant ghost"),
        ("merchant_failure", 0.5, None, "nothing to fail"),
    ],
)
def test_bad_scenarios_are_refused(
    scenario: str, severity: object, target: str | None, message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        stress(_platform(), "EUR", scenario, severity, target)  # type: ignore[arg-type]


def test_a_currency_the_books_do_not_hold_is_refused() -> None:
    with pytest.raises(InvalidInput, match="nothing in USD"):
        stress(_platform(), "USD", "channel_outage", 0.5)
