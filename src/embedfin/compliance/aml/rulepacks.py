"""Threshold rule packs as data, one per jurisdiction: which transactions must be reported.

A pack is a TOML file (the shipped ones live in ``data/rulepacks``):

.. code-block:: toml

    id = "prc-pboc-2016-3"
    title = "PRC large-value transactions, PBoC Order [2016] No. 3, Art. 5"
    report = "large_value"          # what a hit becomes: large_value (PRC) or ctr (FinCEN)
    timezone = "Asia/Shanghai"      # the business day is the local calendar day
    calendar = "CN"                 # whose working days count (ISO 3166; ``workdays.py``)
    deadline_working_days = 5       # or deadline_calendar_days: when a report is due

    [suspicious]                    # what a confirmed suspicion is filed as, and by when
    report = "suspicious"           # suspicious (PRC STR) or sar (FinCEN SAR)
    deadline_working_days = 5       # counted from the day it was confirmed
    source = "PBoC Order [2016] No. 3, Art. 19"

    [defaults]                      # what a transaction without the column is taken to be
    channel = "transfer"
    kind = "entity"
    cross_border = false

    [[rules]]
    id = "cash-cny"
    channel = "cash"                # cash | transfer | any
    kind = "any"                    # person | entity | any: who holds the reported account
    cross_border = "any"            # true | false | any
    currency = "CNY"                # the amounts summed: this currency ...
    at_least = "50000"              # ... reported at this same-day total or more
    # or: more_than = "10000"       # (FinCEN: "more than $10,000")
    # convert = "foreign": every currency but the pack's `home`, converted to `currency` at
    # the rates given with the scan; convert = "all": every currency, converted; "none" (the
    # default): only transactions in `currency` itself

Each rule sums, per account, per side (paid out and received apart, as 31 CFR 1010.313 and
Art. 5's "single or cumulative" read), per business day, the transactions it selects, and a
total at its line is a hit. Bad packs are refused whole before use (:class:`RulePackInvalid`).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from embedfin.compliance.aml import packs
from embedfin.compliance.aml.workdays import DayUnit, is_working_day
from embedfin.core.errors import InvalidInput

DATA = Path(__file__).parent / "data" / "rulepacks"
#: The shipped packs by short name (``embedfin aml scan --pack prc``).
SHIPPED = {"prc": DATA / "prc_pboc_2016_3.toml", "us": DATA / "us_fincen_ctr.toml"}


class RulePackInvalid(InvalidInput):
    code = "rule_pack_invalid"


class Defaults(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    channel: Literal["cash", "transfer"] = "transfer"
    kind: Literal["person", "entity"] = "entity"
    cross_border: bool = False


class Deadline(BaseModel):
    """``deadline_working_days`` or ``deadline_calendar_days``: exactly one."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    deadline_working_days: int | None = Field(default=None, ge=0, le=60)
    deadline_calendar_days: int | None = Field(default=None, ge=0, le=366)

    @model_validator(mode="after")
    def _one_deadline(self) -> Deadline:
        if (self.deadline_working_days is None) == (self.deadline_calendar_days is None):
            raise ValueError("give exactly one of deadline_working_days or deadline_calendar_days")
        return self

    @property
    def deadline(self) -> tuple[int, DayUnit]:
        if self.deadline_working_days is not None:
            return self.deadline_working_days, "working"
        return self.deadline_calendar_days, "calendar"  # type: ignore[return-value]

    def deadline_text(self) -> str:
        days, unit = self.deadline
        return f"{days} {unit} day{'s' if days != 1 else ''}"


class Suspicious(Deadline):
    report: Literal["suspicious", "sar"]
    source: str = Field(default="", max_length=200)

    @field_validator("source")
    @classmethod
    def _text(cls, value: str) -> str:
        return packs.text("source", value) if value else value


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9_-]*$")
    channel: Literal["cash", "transfer", "any"] = "any"
    kind: Literal["person", "entity", "any"] = "any"
    cross_border: Literal["true", "false", "any"] = "any"
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    convert: Literal["none", "foreign", "all"] = "none"
    at_least: Decimal | None = None
    more_than: Decimal | None = None

    @field_validator("cross_border", mode="before")
    @classmethod
    def _flag(cls, value: object) -> object:
        return str(value).lower() if isinstance(value, bool) else value

    @field_validator("at_least", "more_than", mode="before")
    @classmethod
    def _line(cls, value: object) -> object:
        return None if value is None else packs.amount(value)

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        return packs.currency_code(value)

    @model_validator(mode="after")
    def _one_line(self) -> Rule:
        if (self.at_least is None) == (self.more_than is None):
            raise ValueError("give exactly one of at_least or more_than")
        return self

    @property
    def line(self) -> Decimal:
        return self.at_least if self.at_least is not None else self.more_than  # type: ignore[return-value]


class RulePack(Deadline):
    id: str = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9_-]*$")
    title: str = Field(min_length=1, max_length=200)
    report: Literal["large_value", "ctr"]
    timezone: str
    calendar: str = Field(pattern=r"^[A-Z]{2}$")
    home: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")
    source: str = Field(default="", max_length=200)
    suspicious: Suspicious | None = None
    defaults: Defaults = Defaults()
    rules: tuple[Rule, ...] = Field(min_length=1, max_length=200)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        return packs.zone(value)

    @field_validator("title", "source")
    @classmethod
    def _text(cls, value: str, info: ValidationInfo) -> str:
        return packs.text(str(info.field_name), value) if value else value

    @field_validator("home")
    @classmethod
    def _home(cls, value: str | None) -> str | None:
        return None if value is None else packs.currency_code(value)

    @field_validator("calendar")
    @classmethod
    def _calendar(cls, value: str) -> str:
        try:
            is_working_day(date(2000, 1, 3), value)
        except InvalidInput:
            raise ValueError(f"no official calendar for country {value!r}") from None
        return value

    @model_validator(mode="after")
    def _consistent(self) -> RulePack:
        ids = [rule.id for rule in self.rules]
        repeated = sorted({i for i in ids if ids.count(i) > 1})
        if repeated:
            raise ValueError(f"rule ids repeat: {', '.join(repeated)}")
        if any(rule.convert == "foreign" for rule in self.rules) and self.home is None:
            raise ValueError("a rule with convert = 'foreign' needs the pack's home currency")
        return self


def load(name_or_path: str | Path) -> RulePack:
    """A shipped pack by short name (``prc``, ``us``) or a TOML file, validated whole."""
    data, name = packs.load_toml(name_or_path, SHIPPED, RulePackInvalid, "rule pack")
    return parse(data, name)


def parse(data: dict[str, object], where: str = "rule pack") -> RulePack:
    return packs.validate(RulePack, data, where, RulePackInvalid)
