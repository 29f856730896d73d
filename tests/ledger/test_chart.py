"""The chart of accounts and transfer-code registry: blocks combine only when nothing collides."""

from __future__ import annotations

from enum import IntEnum

import pytest

from embedfin.core.errors import ChartConflict, NotFound
from embedfin.ledger.chart import (
    AccountType,
    Block,
    Chart,
    CodeRange,
    NormalSide,
    TransferType,
    account_type,
)
from embedfin.ledger.types import AccountFlags


class ShopCode(IntEnum):
    TILL = 1
    TAKINGS = 2


def till(owner: str = "shop", code: int = 1, name: str = "till") -> AccountType:
    return AccountType(code, name, NormalSide.DEBIT, AccountFlags.NONE, "cash in the till", owner)


def sale(owner: str = "shop", code: int = 100, name: str = "sale") -> TransferType:
    return TransferType(code, name, "a sale", owner)


def block(
    context: str = "shop",
    accounts: tuple[int, int] = (1, 99),
    transfers: tuple[int, int] = (100, 199),
    account_types: tuple[AccountType, ...] | None = None,
    transfer_types: tuple[TransferType, ...] | None = None,
) -> Block:
    return Block(
        context,
        CodeRange(*accounts),
        CodeRange(*transfers),
        (till(context),) if account_types is None else account_types,
        (sale(context),) if transfer_types is None else transfer_types,
    )


def test_a_chart_finds_types_by_code_and_by_name() -> None:
    chart = Chart([block()])
    assert chart.account(1) == till()
    assert chart.account_named("till") == till()
    assert chart.transfer(100) == sale()
    assert chart.transfer_named("sale") == sale()
    assert (chart.name_of_account(1), chart.name_of_transfer(100)) == ("till", "sale")


def test_unknown_codes_are_named_by_their_number() -> None:
    chart = Chart([block()])
    assert chart.name_of_account(7) == "code 7"
    assert chart.name_of_transfer(4242) == "code 4242"


def test_looking_up_an_unknown_code_or_name_is_not_found() -> None:
    chart = Chart([block()])
    with pytest.raises(NotFound):
        chart.account(7)
    with pytest.raises(NotFound):
        chart.transfer(101)
    with pytest.raises(NotFound):
        chart.account_named("vault")
    with pytest.raises(NotFound):
        chart.transfer_named("theft")


def test_blocks_with_disjoint_ranges_combine() -> None:
    cafe = block(
        "cafe",
        (100, 199),
        (200, 299),
        (till("cafe", 100, "cafe_till"),),
        (sale("cafe", 200, "coffee"),),
    )
    chart = Chart([block(), cafe])
    assert [t.code for t in chart.accounts] == [1, 100]
    assert [t.owner for t in chart.transfers] == ["shop", "cafe"]


def test_overlapping_account_ranges_are_refused() -> None:
    cafe = block("cafe", (99, 199), (200, 299), (), ())
    with pytest.raises(ChartConflict, match="cafe's account codes 99–199 overlap shop's 1–99"):
        Chart([block(), cafe])


def test_overlapping_transfer_ranges_are_refused() -> None:
    cafe = block("cafe", (100, 199), (150, 299), (), ())
    with pytest.raises(ChartConflict, match="transfer codes 150–299 overlap shop's 100–199"):
        Chart([block(), cafe])


def test_an_account_code_outside_its_blocks_range_is_refused() -> None:
    stray = block(account_types=(till(code=100),))
    with pytest.raises(ChartConflict, match="account code 100 .* outside the block's range 1–99"):
        Chart([stray])


def test_a_transfer_code_outside_its_blocks_range_is_refused() -> None:
    stray = block(transfer_types=(sale(code=99),))
    with pytest.raises(ChartConflict, match="transfer code 99 .* outside"):
        Chart([stray])


def test_a_code_declared_twice_is_refused() -> None:
    twice = block(transfer_types=(sale(), sale(name="refund")))
    with pytest.raises(ChartConflict, match="transfer code 100 .* declared twice"):
        Chart([twice])


def test_a_name_declared_twice_in_one_block_is_refused() -> None:
    twice = block(account_types=(till(), till(code=2)))
    with pytest.raises(ChartConflict, match="the name till is already code 1"):
        Chart([twice])


def test_a_name_another_block_uses_is_refused() -> None:
    cafe = block("cafe", (100, 199), (200, 299), (), (sale("cafe", 200),))
    with pytest.raises(ChartConflict, match="cafe's transfer code 200 .* already code 100"):
        Chart([block(), cafe])


def test_a_type_owned_by_another_context_is_refused() -> None:
    borrowed = block(account_types=(till(owner="cafe"),))
    with pytest.raises(ChartConflict, match="owned by cafe, not shop"):
        Chart([borrowed])


def test_two_blocks_for_one_context_are_refused() -> None:
    again = block(accounts=(100, 199), transfers=(200, 299), account_types=(), transfer_types=())
    with pytest.raises(ChartConflict, match="two blocks for the shop context"):
        Chart([block(), again])


@pytest.mark.parametrize(("first", "last"), [(0, 10), (10, 9), (1, 65_536)])
def test_a_range_holds_only_u16_codes_above_zero(first: int, last: int) -> None:
    with pytest.raises(ChartConflict):
        CodeRange(first, last)


def test_an_account_type_is_named_after_its_enum_member() -> None:
    made = account_type(ShopCode.TAKINGS, NormalSide.CREDIT, "the day's sales", owner="shop")
    assert (made.code, made.name, made.flags) == (2, "takings", AccountFlags.NONE)
