"""Cross-border: FX quotes from ECB reference rates plus a spread, locked for a while, and
conversions between a customer's wallets as linked transfers through FX position accounts.

The customer's rate is the mid rate less the spread. Selling an exact amount rounds the bought
amount *down* to its minor unit; buying an exact amount (paying a price set in another currency)
rounds the sold amount *up*: either way the customer never gets more than the quoted rate gives.
A quote is used at most once and only before it expires.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import ROUND_DOWN, ROUND_UP, Decimal
from typing import Any

from sqlalchemy import insert, select, update

from embedfin.core.clock import NS_PER_SECOND
from embedfin.core.errors import (
    CurrencyMismatch,
    EmbedfinError,
    InvalidAmount,
    InvalidInput,
    NotFound,
)
from embedfin.core.events import Event
from embedfin.core.money import MAX_AMOUNT_MINOR, Money, currency
from embedfin.db.outbox import append_events
from embedfin.db.tables import fx_quotes
from embedfin.ledger.service import Ledger, LedgerTransaction
from embedfin.ledger.types import Transfer
from embedfin.payments.accounts import open_accounts
from embedfin.payments.chart import CODE_FX_BUY, CODE_FX_SELL, AccountCode, platform_account
from embedfin.payments.moves import move
from embedfin.payments.rates import ReferenceRates
from embedfin.payments.requests import check_name, transfer_id
from embedfin.payments.wallets import wallet_key


class QuoteExpired(EmbedfinError):
    code = "quote_expired"


class QuoteUsed(EmbedfinError):
    code = "quote_already_used"


@dataclass(frozen=True, slots=True)
class FxQuote:
    """A locked offer to convert ``sell`` into ``buy``.

    Attributes:
        rate: units of the bought currency per unit sold, after the spread.
        mid_rate: the ECB cross rate it came from; ``reference_date`` its publication day.
        expires_at: nanoseconds (UTC) after which the quote cannot be used.
    """

    quote_id: str
    owner_kind: str
    owner_id: str
    sell: Money
    buy: Money
    rate: Decimal
    mid_rate: Decimal
    spread_bp: int
    reference_date: str
    expires_at: int


class Fx:
    def __init__(
        self,
        ledger: Ledger,
        tenant: str,
        *,
        spread_bp: int = 50,
        lock_seconds: int = 60,
        rates: ReferenceRates | None = None,
    ) -> None:
        if not 0 <= spread_bp < 10_000 or lock_seconds <= 0:
            raise InvalidInput("spread must be 0-9,999 bp and the lock positive")
        self.ledger = ledger
        self.tenant = check_name("tenant", tenant)
        self.spread_bp = spread_bp
        self.lock_ns = lock_seconds * NS_PER_SECOND
        self.rates = rates or ReferenceRates.bundled()

    def quote(self, owner_kind: str, owner_id: str, sell: Money, buy_currency: str) -> FxQuote:
        """Price selling exactly ``sell`` and lock it for ``lock_seconds``; the bought amount is
        rounded down."""
        buy_code = currency(buy_currency).code
        if sell.amount_minor <= 0:
            raise InvalidAmount("the amount to sell must be positive")
        rate, mid, published = self._rate(owner_kind, owner_id, sell.currency, buy_code)
        sell_major = Decimal(sell.amount_minor).scaleb(-currency(sell.currency).exponent)
        buy_minor = int(
            (sell_major * rate).scaleb(currency(buy_code).exponent).to_integral_value(ROUND_DOWN)
        )
        return self._lock(
            owner_kind, owner_id, sell, Money(buy_minor, buy_code), rate, mid, published
        )

    def quote_to_buy(
        self, owner_kind: str, owner_id: str, buy: Money, sell_currency: str
    ) -> FxQuote:
        """Price buying exactly ``buy`` (a price in another currency, say) and lock it; the sold
        amount is rounded *up*, so the conversion always yields at least ``buy``."""
        sell_code = currency(sell_currency).code
        if buy.amount_minor <= 0:
            raise InvalidAmount("the amount to buy must be positive")
        rate, mid, published = self._rate(owner_kind, owner_id, sell_code, buy.currency)
        buy_major = Decimal(buy.amount_minor).scaleb(-currency(buy.currency).exponent)
        sell_minor = int(
            (buy_major / rate).scaleb(currency(sell_code).exponent).to_integral_value(ROUND_UP)
        )
        return self._lock(
            owner_kind, owner_id, Money(sell_minor, sell_code), buy, rate, mid, published
        )

    def get_quote(self, quote_id: str) -> FxQuote:
        with self.ledger.transaction() as tx:
            row = (
                tx.conn.execute(
                    select(fx_quotes).where(
                        fx_quotes.c.tenant == self.tenant, fx_quotes.c.quote_id == quote_id
                    )
                )
                .mappings()
                .first()
            )
        if row is None:
            raise NotFound(f"no quote {quote_id}")
        return _quote(row)

    def _rate(
        self, owner_kind: str, owner_id: str, sell_code: str, buy_code: str
    ) -> tuple[Decimal, Decimal, date]:
        if buy_code == sell_code:
            raise CurrencyMismatch("a conversion needs two different currencies")
        wallet_key(self.tenant, owner_kind, owner_id, sell_code)  # validates the owner
        now = self.ledger.clock.now_ns()
        today = datetime.fromtimestamp(now / NS_PER_SECOND, tz=UTC).date()
        mid, published = self.rates.rate(sell_code, buy_code, today)
        rate = mid * (Decimal(10_000 - self.spread_bp) / Decimal(10_000))
        return rate, mid, published

    def _lock(
        self,
        owner_kind: str,
        owner_id: str,
        sell: Money,
        buy: Money,
        rate: Decimal,
        mid: Decimal,
        published: date,
    ) -> FxQuote:
        if (
            not 0 < buy.amount_minor <= MAX_AMOUNT_MINOR
            or not 0 < sell.amount_minor <= MAX_AMOUNT_MINOR
        ):
            raise InvalidAmount("the converted amount is zero or too large")
        now = self.ledger.clock.now_ns()
        result = FxQuote(
            "fxq_" + secrets.token_hex(12),
            owner_kind,
            owner_id,
            sell,
            buy,
            rate,
            mid,
            self.spread_bp,
            published.isoformat(),
            now + self.lock_ns,
        )
        with self.ledger.transaction() as tx:
            tx.conn.execute(
                insert(fx_quotes).values(
                    tenant=self.tenant,
                    quote_id=result.quote_id,
                    owner_kind=owner_kind,
                    owner_id=owner_id,
                    sell_minor=sell.amount_minor,
                    sell_currency=sell.currency,
                    buy_minor=buy.amount_minor,
                    buy_currency=buy.currency,
                    rate=str(rate),
                    mid_rate=str(mid),
                    spread_bp=self.spread_bp,
                    reference_date=result.reference_date,
                    created_at=now,
                    expires_at=result.expires_at,
                )
            )
        return result

    def convert(self, quote_id: str) -> FxQuote:
        """Execute a locked quote between the owner's wallets; the quote id is the request id.

        Steps: lock the quote and check it is unused and unexpired, move the sold currency into
        the FX position and the bought one out of it, mark the quote used, append
        ``fx_converted``.
        """
        with self.ledger.transaction() as tx:
            row, now = self._usable_quote(tx, quote_id)
            sell = Money(row["sell_minor"], row["sell_currency"])
            buy = Money(row["buy_minor"], row["buy_currency"])
            self._exchange(tx, quote_id, row["owner_kind"], row["owner_id"], sell, buy)
            tx.conn.execute(
                update(fx_quotes)
                .where(fx_quotes.c.tenant == self.tenant, fx_quotes.c.quote_id == quote_id)
                .values(used_at=now)
            )
            append_events(tx.conn, [self._converted_event(row, sell, buy, now)])
            return _quote(row)

    def _usable_quote(self, tx: LedgerTransaction, quote_id: str) -> tuple[Any, int]:
        """The quote's row, locked, and the time now; refused when absent, used or expired."""
        row = (
            tx.conn.execute(
                select(fx_quotes)
                .where(fx_quotes.c.tenant == self.tenant, fx_quotes.c.quote_id == quote_id)
                .with_for_update()
            )
            .mappings()
            .first()
        )
        if row is None:
            raise NotFound(f"no quote {quote_id}")
        if row["used_at"] is not None:
            raise QuoteUsed(f"quote {quote_id} was already used")
        now = self.ledger.clock.now_ns()
        if now >= row["expires_at"]:
            raise QuoteExpired(f"quote {quote_id} expired; ask for a new one")
        return row, now

    def _exchange(
        self,
        tx: LedgerTransaction,
        quote_id: str,
        owner_kind: str,
        owner_id: str,
        sell: Money,
        buy: Money,
    ) -> None:
        """Sell from the owner's ``sell`` wallet into the FX position, buy out of it."""
        source = wallet_key(self.tenant, owner_kind, owner_id, sell.currency)
        target = wallet_key(self.tenant, owner_kind, owner_id, buy.currency)
        sell_position = platform_account(self.tenant, sell.currency, AccountCode.FX_POSITION)
        buy_position = platform_account(self.tenant, buy.currency, AccountCode.FX_POSITION)
        open_accounts(tx, [source, target, sell_position, buy_position])
        move(
            tx,
            [
                Transfer(
                    transfer_id(self.tenant, f"fx:{quote_id}", "sell"),
                    source.account_id,
                    sell_position.account_id,
                    sell.amount_minor,
                    source.ledger,
                    CODE_FX_SELL,
                ),
                Transfer(
                    transfer_id(self.tenant, f"fx:{quote_id}", "buy"),
                    buy_position.account_id,
                    target.account_id,
                    buy.amount_minor,
                    target.ledger,
                    CODE_FX_BUY,
                ),
            ],
            insufficient=f"the {sell.currency} wallet holds less than {sell}",
        )

    def _converted_event(self, row: Any, sell: Money, buy: Money, now: int) -> Event:
        return Event(
            "fx_converted",
            "wallet",
            f"{row['owner_kind']}:{row['owner_id']}",
            {
                "quote_id": row["quote_id"],
                "sell_minor": sell.amount_minor,
                "sell_currency": sell.currency,
                "buy_minor": buy.amount_minor,
                "buy_currency": buy.currency,
                "rate": row["rate"],
            },
            now,
            self.tenant,
        )


def _quote(row: Any) -> FxQuote:
    return FxQuote(
        row["quote_id"],
        row["owner_kind"],
        row["owner_id"],
        Money(row["sell_minor"], row["sell_currency"]),
        Money(row["buy_minor"], row["buy_currency"]),
        Decimal(row["rate"]),
        Decimal(row["mid_rate"]),
        row["spread_bp"],
        row["reference_date"],
        row["expires_at"],
    )
