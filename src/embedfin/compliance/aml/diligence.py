"""Customer due diligence: verification levels and what each may pay from its balance (pure).

A *diligence pack* (TOML, ``data/diligence``) lists a jurisdiction's levels, lowest first. Each
says how a customer reaches it — verified face to face, or through at least ``min_channels``
independent external sources (the national identity database, a bank card in the same name,
a mobile carrier, social insurance …) — and how much it may pay out of its wallet balance over
a period: ``lifetime`` (since the account opened) or ``year`` (the calendar year in the pack's
time zone), in the pack's currency, with or without transfers to the customer's own bank
account. Payments by bank card do not draw on the balance and are not limited here.

The shipped PRC pack is PBoC Announcement [2015] No. 43 (非银行支付机构网络支付业务管理办法),
Art. 11 (in force 1 July 2016):

=======  =========================================  ====================================
class    verified                                   balance payments
=======  =========================================  ====================================
I        non-face-to-face, ≥ 1 external channel     RMB 1,000 since the account opened,
                                                    transfers to the own bank account
                                                    included; consumption and transfers
II       face to face, or non-face-to-face          RMB 100,000 a year, transfers to the
         through ≥ 3 external channels              own bank account not counted
III      face to face, or non-face-to-face          RMB 200,000 a year, transfers to the
         through ≥ 5 external channels              own bank account not counted; may
                                                    also buy investment products
=======  =========================================  ====================================

A customer verified by no channel has no level: nothing may be paid from its balance.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from embedfin.compliance.aml import packs
from embedfin.core.errors import InvalidInput, VerificationLimit

DATA = Path(__file__).parent / "data" / "diligence"
SHIPPED = {"prc": DATA / "prc_pboc_2015_43.toml", "none": DATA / "none.toml"}
#: The external channels a customer's identity can be checked against.
CHANNELS = frozenset(
    {
        "national_id_database",
        "bank_card",
        "mobile_carrier",
        "social_insurance",
        "tax_records",
        "passport_chip",
        "utility_bill",
    }
)
#: What a balance payment is (``own_bank``: a withdrawal to the customer's own bank account).
PaymentKind = Literal["purchase", "transfer", "own_bank"]


class DiligencePackInvalid(InvalidInput):
    code = "diligence_pack_invalid"


class Level(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str = Field(pattern=r"^[A-Za-z0-9_-]{1,16}$")
    title: str = Field(min_length=1, max_length=200)
    min_channels: int = Field(ge=0, le=len(CHANNELS))
    face_to_face: bool = Field(description="face-to-face verification reaches this level too")
    limit: Decimal | None = Field(default=None, description="none: no limit on the balance")
    period: Literal["lifetime", "year"] = "year"
    counts_own_bank: bool = False
    kinds: tuple[PaymentKind, ...] = ("purchase", "transfer", "own_bank")

    @field_validator("limit", mode="before")
    @classmethod
    def _limit(cls, value: object) -> object:
        return None if value is None else packs.amount(value, zero=True)

    @field_validator("title")
    @classmethod
    def _title(cls, value: str) -> str:
        return packs.text("title", value)


class DiligencePack(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")
    title: str = Field(min_length=1, max_length=200)
    source: str = Field(default="", max_length=200)
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    timezone: str = "UTC"
    levels: tuple[Level, ...] = Field(min_length=1, max_length=10)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        return packs.zone(value)

    @field_validator("title", "source")
    @classmethod
    def _text(cls, value: str, info: ValidationInfo) -> str:
        return packs.text(str(info.field_name), value) if value else value

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        """A currency the ECB reference rates know: payments in others convert into it."""
        from embedfin.payments.rates import ReferenceRates

        packs.currency_code(value)
        if value != "EUR" and value not in ReferenceRates.bundled().table:
            raise ValueError(f"no ECB reference rate for {value}: limits could not convert")
        return value

    @model_validator(mode="after")
    def _lowest_first(self) -> DiligencePack:
        ids = [lv.id for lv in self.levels]
        if len(set(ids)) != len(ids):
            raise ValueError("level ids repeat")
        for low, high in zip(self.levels, self.levels[1:], strict=False):
            limits_rise = high.limit is None or (low.limit is not None and high.limit >= low.limit)
            if high.min_channels < low.min_channels or not limits_rise:
                raise ValueError(f"levels go lowest first: {high.id} is below {low.id}")
        return self

    def level(self, level_id: str | None) -> Level | None:
        return next((lv for lv in self.levels if lv.id == level_id), None)


def load(name_or_path: str | Path) -> DiligencePack:
    """A shipped pack (``prc``, ``none``) or a TOML file, validated whole."""
    data, name = packs.load_toml(name_or_path, SHIPPED, DiligencePackInvalid, "diligence pack")
    return parse(data, name)


def parse(data: dict[str, object], where: str = "diligence pack") -> DiligencePack:
    return packs.validate(DiligencePack, data, where, DiligencePackInvalid)


def check_channels(channels: object) -> tuple[str, ...]:
    """The distinct known channels, or ``InvalidInput`` naming the unknown one."""
    if not isinstance(channels, list | tuple) or not all(isinstance(c, str) for c in channels):
        raise InvalidInput("channels is a list of channel names")
    unknown = sorted(set(channels) - CHANNELS)
    if unknown:
        raise InvalidInput(
            f"unknown channel(s) {', '.join(unknown)} (known: {', '.join(sorted(CHANNELS))})"
        )
    return tuple(sorted(set(channels)))


def level_for(pack: DiligencePack, channels: tuple[str, ...], face_to_face: bool) -> Level | None:
    """The highest level the verification reaches, or ``None`` (no level at all)."""
    reached = None
    for level in pack.levels:
        if len(channels) >= level.min_channels or (face_to_face and level.face_to_face):
            reached = level
    return reached


def counted(level: Level, kind: str) -> bool:
    """Whether a payment of ``kind`` draws on the level's limit."""
    return kind != "own_bank" or level.counts_own_bank


def check_payment(
    pack: DiligencePack,
    level: Level | None,
    kind: str,
    amount: Decimal,
    spent: Decimal,
) -> None:
    """Refuse a balance payment of ``amount`` (in the pack's currency) past what ``level``
    allows, ``spent`` being what counted already in the level's period."""
    if level is None:
        raise VerificationLimit(
            "the customer's identity is not verified: nothing may be paid from the balance"
            f" ({pack.source or pack.title})"
        )
    if kind not in level.kinds:
        raise VerificationLimit(f"a {level.title} account may not make {kind} payments")
    if level.limit is None or not counted(level, kind):
        return
    if spent + amount > level.limit:
        period = "since the account opened" if level.period == "lifetime" else "this year"
        raise VerificationLimit(
            f"{level.title}: balance payments {period} would reach {spent + amount:,.2f}"
            f" {pack.currency}, past {level.limit:,} ({pack.source or pack.title});"
            " verify through more channels to move up"
        )
