"""Redemption rules: the fast (T+0) cap and the liquidity fee.

**Fast redemption cap.** Since 2018 the fast "T+0 redeem-to-cash" of a money-market fund is
capped at RMB 10,000 per investor, per fund, per sales institution, per day (CSRC and PBoC,
《关于进一步规范货币市场基金互联网销售、赎回相关服务的指导意见》, in force 2018-06-01; see
http://finance.3news.cn/jr/2018/0602/268815.html). The same notice forbids advancing the fast part
from sales settlement money and lets only licensed commercial banks advance it; payment
institutions may not pay straight out of fund units. Here a redemption asks for the fast or the
normal (T+1) path; a fast one above what is left of the holder's cap that day is refused, not
split (the caller can redeem the rest normally). The fast part is advanced by the liquidity
facility, which is repaid by the fund at T+1.

**Liquidity fee.** SEC Rule 2a-7 as amended in 2023 (Release No. IC-34959, 2023-07-12; see
https://www.sec.gov/news/press-release/2023-129 and the summaries at
https://finadium.com/?p=132531) requires institutional prime and tax-exempt funds to charge a
liquidity fee when daily net redemptions exceed 5% of net assets (``MANDATORY_FEE_THRESHOLD``);
a discretionary fee may not exceed 2% of the value redeemed (``MAX_DISCRETIONARY_FEE``). A fund
here may set a threshold and a fee rate: a redemption that takes the day's net redemptions above
the threshold pays the fee on its whole amount, rounded half even to the minor unit; the fee
stays in the fund and is distributed to the holders who stay. Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from enum import StrEnum

from embedfin.core.errors import InvalidAmount, InvalidInput, LimitExceeded

#: RMB 10,000 in fen: the 2018 PRC cap on fast redemption per investor per fund per day.
FAST_CAP_CNY_MINOR = 1_000_000
MANDATORY_FEE_THRESHOLD = Decimal("0.05")
MAX_DISCRETIONARY_FEE = Decimal("0.02")


class Speed(StrEnum):
    """Normal redemption pays at T+1; fast pays at once (T+0) within the daily cap."""

    NORMAL = "normal"
    FAST = "fast"


class FastCapExceeded(LimitExceeded):
    """A fast redemption above what is left of the holder's cap for the day."""

    code = "fast_redemption_cap"


@dataclass(frozen=True, slots=True)
class FeePolicy:
    """A fund's optional liquidity fee.

    Attributes:
        threshold: daily net redemptions over net assets above which the fee applies.
        rate: the fee on the amount redeemed, at most ``MAX_DISCRETIONARY_FEE`` (a mandatory
            fee is sized on the fund's liquidity costs; here it is a set rate, capped alike).
    """

    threshold: Decimal
    rate: Decimal

    def __post_init__(self) -> None:
        if not Decimal(0) < self.threshold <= Decimal(1):
            raise InvalidInput("a liquidity fee threshold is in (0, 1]")
        if not Decimal(0) < self.rate <= MAX_DISCRETIONARY_FEE:
            raise InvalidInput("a liquidity fee rate is in (0, 0.02]")


def check_fast(amount_minor: int, used_today_minor: int, cap_minor: int) -> None:
    """Refuse a fast redemption above what is left of the holder's cap today."""
    left = max(cap_minor - used_today_minor, 0)
    if amount_minor > left:
        raise FastCapExceeded(
            f"fast redemption of {amount_minor} is above what is left of today's cap ({left});"
            " redeem the rest normally (T+1)"
        )


def liquidity_fee(
    amount_minor: int,
    net_redeemed_today_minor: int,
    net_assets_at_open_minor: int,
    policy: FeePolicy | None,
) -> int:
    """The fee on a redemption of ``amount_minor`` given the day's net redemptions before it
    and the net assets at the day's opening; 0 without a policy or below the threshold."""
    if amount_minor <= 0:
        raise InvalidAmount("a redemption is a positive amount")
    if policy is None or net_assets_at_open_minor <= 0:
        return 0
    net_after = Decimal(net_redeemed_today_minor + amount_minor)
    if net_after / Decimal(net_assets_at_open_minor) <= policy.threshold:
        return 0
    fee = (Decimal(amount_minor) * policy.rate).quantize(Decimal(1), rounding=ROUND_HALF_EVEN)
    return min(int(fee), amount_minor)
