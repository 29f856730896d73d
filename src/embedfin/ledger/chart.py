"""The chart of accounts and the transfer-code registry: what each code on the ledger means.

The ledger stores a bare u16 ``code`` on every account (what kind of account) and every
transfer (why the money moved). Each bounded context declares the codes it uses in a ``Block``
in its own ``chart`` module: a reserved range of account codes, a reserved range of transfer
codes, and one typed record per code. The composition root (``embedfin.bootstrap.build_chart``)
combines the blocks into one ``Chart``, which refuses overlapping ranges, codes outside their
block's range and duplicate codes or names — so two contexts can never give one number two
meanings, and every number shown to a person can carry its name.

Codes are stored in every account and transfer row: a code once used keeps its number and its
meaning for ever. New meanings get new codes.

Reserved ranges (inclusive). A new context claims its row and declares its block inside it;
rows marked "next" are reserved for the contexts being built now.

==========  ===============  ===============  ================================
context     account codes    transfer codes   declared in
==========  ===============  ===============  ================================
payments       1 –   999      1000 –  4999    ``embedfin.payments.chart``
lending     1000 –  1999      5000 –  5999    ``embedfin.lending.chart``
scf         2000 –  2999      6000 –  6999    ``embedfin.scf.chart``
fundpool    3000 –  3999      7000 –  7999    ``embedfin.fundpool.chart``
risk        4000 –  4999      8000 –  8999    next (fraud holds and cases)
compliance  5000 –  5999      9000 –  9999    next (AML freezes, consumer redress)
systemic    6000 –  6999     10000 – 10999    next (stress-test and resolution books)
==========  ===============  ===============  ================================

Codes above the last row are unassigned. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import IntEnum, StrEnum
from types import MappingProxyType
from typing import TypeVar

from embedfin.core.errors import ChartConflict, NotFound
from embedfin.ledger.types import U16_MAX, AccountFlags


class NormalSide(StrEnum):
    """The side that increases an account's balance: assets and expenses are debit-normal,
    liabilities, income and equity credit-normal."""

    DEBIT = "debit"
    CREDIT = "credit"


@dataclass(frozen=True, slots=True)
class CodeRange:
    """Codes ``first`` to ``last``, both included.

    Attributes:
        first, last: u16 codes, ``0 < first <= last``.
    """

    first: int
    last: int

    def __post_init__(self) -> None:
        if not 0 < self.first <= self.last <= U16_MAX:
            raise ChartConflict(f"{self.first}–{self.last} is not a range of u16 codes above 0")

    def __contains__(self, code: object) -> bool:
        return isinstance(code, int) and self.first <= code <= self.last

    def overlaps(self, other: CodeRange) -> bool:
        return self.first <= other.last and other.first <= self.last

    def __str__(self) -> str:
        return f"{self.first}–{self.last}"


@dataclass(frozen=True, slots=True)
class AccountType:
    """What an account code means.

    Attributes:
        code: the u16 stored in ``accounts.code``.
        name: snake_case, unique in the chart (``buyer_wallet``).
        normal: which side grows the balance.
        flags: the ledger flags every account of this type is opened with.
        description: one line for people.
        owner: the context that declared it.
    """

    code: int
    name: str
    normal: NormalSide
    flags: AccountFlags
    description: str
    owner: str


@dataclass(frozen=True, slots=True)
class TransferType:
    """What a transfer code means.

    Attributes:
        code: the u16 stored in ``transfers.code``.
        name: snake_case, unique in the chart (``order_payment``).
        description: one line for people: why the money moved.
        owner: the context that declared it.
    """

    code: int
    name: str
    description: str
    owner: str


class ChartAccountCode(IntEnum):
    """The base of each context's account-code enum: a member is an int that knows its account
    type, so an account can be opened with the right flags without a global registry."""

    @property
    def account_type(self) -> AccountType:
        raise NotImplementedError  # each context's enum answers from its block


def account_type(
    code: IntEnum,
    normal: NormalSide,
    description: str,
    *,
    owner: str,
    flags: AccountFlags = AccountFlags.NONE,
) -> AccountType:
    """The record for one member of a context's account-code enum, named after the member."""
    return AccountType(int(code), code.name.lower(), normal, flags, description, owner)


@dataclass(frozen=True, slots=True)
class Block:
    """One context's part of the chart.

    Attributes:
        context: the owning context's package name (``payments``).
        account_codes, transfer_codes: the ranges the context reserved.
        accounts, transfers: every code it uses, each inside its range.
    """

    context: str
    account_codes: CodeRange
    transfer_codes: CodeRange
    accounts: tuple[AccountType, ...] = ()
    transfers: tuple[TransferType, ...] = ()


class Chart:
    """The combined chart of every context's block, checked once when it is built."""

    def __init__(self, blocks: Iterable[Block]) -> None:
        self.blocks = tuple(blocks)
        _check_ranges(self.blocks)
        accounts: dict[int, AccountType] = {}
        transfers: dict[int, TransferType] = {}
        for block in self.blocks:
            _claim(block, "account", block.account_codes, block.accounts, accounts)
            _claim(block, "transfer", block.transfer_codes, block.transfers, transfers)
        self._accounts: Mapping[int, AccountType] = MappingProxyType(dict(sorted(accounts.items())))
        self._transfers: Mapping[int, TransferType] = MappingProxyType(
            dict(sorted(transfers.items()))
        )
        self._accounts_by_name = {t.name: t for t in accounts.values()}
        self._transfers_by_name = {t.name: t for t in transfers.values()}

    @property
    def accounts(self) -> tuple[AccountType, ...]:
        """Every account type, by code."""
        return tuple(self._accounts.values())

    @property
    def transfers(self) -> tuple[TransferType, ...]:
        """Every transfer type, by code."""
        return tuple(self._transfers.values())

    def account(self, code: int) -> AccountType:
        found = self._accounts.get(code)
        if found is None:
            raise NotFound(f"no account type with code {code}")
        return found

    def transfer(self, code: int) -> TransferType:
        found = self._transfers.get(code)
        if found is None:
            raise NotFound(f"no transfer type with code {code}")
        return found

    def account_named(self, name: str) -> AccountType:
        found = self._accounts_by_name.get(name)
        if found is None:
            raise NotFound(f"no account type named {name!r}")
        return found

    def transfer_named(self, name: str) -> TransferType:
        found = self._transfers_by_name.get(name)
        if found is None:
            raise NotFound(f"no transfer type named {name!r}")
        return found

    def name_of_account(self, code: int) -> str:
        """The account type's name, or ``code N`` for a code no block declares."""
        found = self._accounts.get(code)
        return found.name if found is not None else f"code {code}"

    def name_of_transfer(self, code: int) -> str:
        """The transfer type's name, or ``code N`` for a code no block declares."""
        found = self._transfers.get(code)
        return found.name if found is not None else f"code {code}"


def _check_ranges(blocks: tuple[Block, ...]) -> None:
    for i, block in enumerate(blocks):
        for other in blocks[:i]:
            if block.context == other.context:
                raise ChartConflict(f"two blocks for the {block.context} context")
            for kind, mine, theirs in (
                ("account", block.account_codes, other.account_codes),
                ("transfer", block.transfer_codes, other.transfer_codes),
            ):
                if mine.overlaps(theirs):
                    raise ChartConflict(
                        f"{block.context}'s {kind} codes {mine} overlap {other.context}'s {theirs}"
                    )


_Type = TypeVar("_Type", AccountType, TransferType)


def _claim(
    block: Block,
    kind: str,
    reserved: CodeRange,
    types: tuple[_Type, ...],
    claimed: dict[int, _Type],
) -> None:
    """Add a block's types of one kind to ``claimed``, refusing any that do not fit."""
    names = {t.name: t.code for t in claimed.values()}
    for entry in types:
        where = f"{block.context}'s {kind} code {entry.code} ({entry.name})"
        if entry.owner != block.context:
            raise ChartConflict(f"{where} is owned by {entry.owner}, not {block.context}")
        if entry.code not in reserved:
            raise ChartConflict(f"{where} is outside the block's range {reserved}")
        if entry.code in claimed:
            raise ChartConflict(f"{where} is declared twice")
        if entry.name in names:
            raise ChartConflict(
                f"{where}: the name {entry.name} is already code {names[entry.name]}"
            )
        names[entry.name] = entry.code
        claimed[entry.code] = entry
