"""Anti-money laundering: sanctions and PEP lists, the parties screened, their hits."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StrictInt, StringConstraints

from embedfin.api.schemas.common import Model, Text200

#: A list sent through the API (larger lists: ``embedfin aml load-list``).
MAX_LIST_CHARS = 900_000


IsoDate = Annotated[str, StringConstraints(pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]


class WatchlistIn(Model):
    """A FollowTheMoney list, one JSON entity per line (OpenSanctions' ``entities.ftm.json``)."""

    multiline_fields = frozenset({"ftm"})
    name: Text200
    ftm: Annotated[str, StringConstraints(min_length=2, max_length=MAX_LIST_CHARS)]


class WatchlistOut(BaseModel):
    object: Literal["aml_watchlist"] = "aml_watchlist"
    id: str
    name: str
    digest: str
    entries: int
    skipped: int = Field(description="entities of other schemas (sanctions, addresses) skipped")
    active: bool
    loaded: datetime | None
    loaded_by: str


class WatchlistLoadOut(WatchlistOut):
    screened: int = Field(description="parties screened against it")
    new_hits: int
    already_active: bool


class PartyIn(Model):
    """A party's due-diligence details; sent again on every change of name, birth date or
    country (each change is screened)."""

    party_kind: Literal["buyer", "merchant"]
    party_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    name: Annotated[str, StringConstraints(min_length=1, max_length=300)]
    kind: Literal["person", "organization"]
    birth_date: (
        Annotated[str, StringConstraints(pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")] | None
    ) = None
    country: Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{2}$")] | None = None


class HitOut(BaseModel):
    object: Literal["aml_screening_hit"] = "aml_screening_hit"
    id: str
    party_kind: str
    party_id: str
    watchlist: str
    entity_id: str
    caption: str
    category: Literal["sanction", "pep", "watchlist"]
    score: float
    reasons: list[str]
    status: Literal["open", "cleared", "confirmed"]
    case: str
    created: datetime | None
    decided: datetime | None


class PartyOut(BaseModel):
    object: Literal["aml_party"] = "aml_party"
    party_kind: str
    party_id: str
    kind: str
    name: str = Field(description="masked")
    country: str | None
    screened_against: str | None
    screened: datetime | None
    held: str | None = Field(description="why payouts and withdrawals are held, or null")
    hits: list[HitOut]


# --- transaction monitoring and reports ---------------------------------------------------------
ReportKind = Literal["large_value", "suspicious", "ctr", "sar"]


class ReportOut(BaseModel):
    object: Literal["aml_report"] = "aml_report"
    id: str
    kind: ReportKind
    status: Literal["due", "filed"]
    subject: str = Field(description="the party reported: buyer:<id> or merchant:<id>")
    rule_pack: str
    rule: str | None
    case: str | None
    business_day: IsoDate | None
    amount: str = Field(description="the total, exact, in major units")
    currency: str
    transactions: list[str]
    reasons: list[str]
    due_on: IsoDate
    working_days_left: int | None = Field(description="negative once late; none once filed")
    late: bool
    created: datetime | None
    filed: datetime | None
    filed_by: str | None
    digest: str | None = Field(description="SHA-256 of the filed document's canonical JSON")
    corrects: str | None


class FileReportIn(Model):
    multiline_fields = frozenset({"narrative"})
    narrative: Annotated[str, StringConstraints(min_length=1, max_length=10_000)]


class CorrectReportIn(FileReportIn):
    multiline_fields = frozenset({"narrative", "reason"})
    reason: Annotated[str, StringConstraints(min_length=1, max_length=2_000)]


class AlertOut(BaseModel):
    object: Literal["aml_alert"] = "aml_alert"
    id: str
    typology: str
    accounts: list[str]
    transactions: list[str]
    window_start: datetime
    window_end: datetime
    amount: str
    currency: str
    score: float
    reasons: list[str]
    case: str
    created: datetime | None


class MonitorIn(Model):
    days: StrictInt = Field(default=30, ge=1, le=400, description="how far back the scan reads")


class MonitorOut(BaseModel):
    object: Literal["aml_monitor_run"] = "aml_monitor_run"
    transactions: int
    alerts: int
    new_alerts: int = Field(description="alerts not found before: each opened an aml_alert case")
    by_typology: dict[str, int]
    seconds: dict[str, float]


class RulePackIn(Model):
    """A shipped pack by name (``prc``, ``us``) or a whole pack (the TOML file's fields)."""

    shipped: Literal["prc", "us"] | None = None
    pack: dict[str, Any] | None = None


class RulePackOut(BaseModel):
    object: Literal["aml_rule_pack"] = "aml_rule_pack"
    id: str
    title: str
    report: str
    timezone: str
    calendar: str
    deadline: str
    suspicious_report: str | None
    rules: int
    pack: dict[str, Any]


# --- customer due diligence -------------------------------------------------------------------
class DiligencePackIn(Model):
    """A shipped pack by name (``prc``, ``none``) or a whole pack (the TOML file's fields)."""

    shipped: Literal["prc", "none"] | None = None
    pack: dict[str, Any] | None = None


class DiligencePackOut(BaseModel):
    object: Literal["aml_diligence_pack"] = "aml_diligence_pack"
    id: str
    title: str
    currency: str
    levels: list[str]
    pack: dict[str, Any]


class VerificationIn(Model):
    buyer_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    channels: list[Annotated[str, StringConstraints(max_length=64)]] = Field(max_length=20)
    face_to_face: bool = False


class StandingOut(BaseModel):
    object: Literal["aml_verification"] = "aml_verification"
    buyer_id: str
    level: str | None = Field(description="none: not verified; nothing may leave the balance")
    level_title: str | None
    channels: list[str]
    face_to_face: bool
    period: str | None = Field(description="lifetime, or the calendar year the limit runs over")
    spent: str
    remaining: str | None = Field(description="none: no limit")
    currency: str


class OwnerIn(Model):
    name: Text200
    birth_date: IsoDate | None = None
    country: Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{2}$")] | None = None
    share: Annotated[str, StringConstraints(pattern=r"^[0-9]{1,3}(\.[0-9]{1,4})?$")] = Field(
        description="percent of the business, above 0 and at most 100"
    )


class KybIn(Model):
    legal_name: Text200
    registration_number: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    country: Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{2}$")]
    owners: list[OwnerIn] = Field(default_factory=list, max_length=20)


class KybOut(BaseModel):
    object: Literal["aml_kyb"] = "aml_kyb"
    merchant_id: str
    legal_name: str = Field(description="masked")
    registration_number: str
    country: str
    owners: int
    status: Literal["submitted", "verified", "rejected"]
    case: str
    submitted: datetime | None
    decided: datetime | None
