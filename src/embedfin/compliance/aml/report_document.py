"""What a filed report says: a versioned document and its JSON Schema (pure).

The published exchange formats cannot be had here: UNODC's goAML XML schema is handed by each
financial intelligence unit to its reporting entities, FinCEN's BSA XML schemas come with its
e-filing system, and the PRC's large-value and suspicious-transaction formats are issued to
reporting institutions by the China Anti-Money Laundering Monitoring and Analysis Center. So a
report is written as a document of our own, ``embedfin.aml-report/1``, whose JSON Schema ships
in ``data/schemas/aml-report-1.schema.json`` (generated from :class:`ReportDocument`; a test
keeps the two equal) and carries what those formats ask for: the reporting institution, the
subject with its identity as the platform knows it, each transaction (when, from, to, how much,
reference), the legal basis, the grounds and the analyst's narrative, and for a correction the
report it corrects and why. A document is validated against the schema before it is filed;
its SHA-256 over the canonical JSON (keys sorted, no spaces) is stored beside it.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_ID = "embedfin.aml-report/1"
SCHEMA_FILE = Path(__file__).parent / "data" / "schemas" / "aml-report-1.schema.json"
ReportKind = Literal["large_value", "suspicious", "ctr", "sar"]
KIND_TITLES = {
    "large_value": "Large-value transaction report",
    "suspicious": "Suspicious transaction report",
    "ctr": "Currency transaction report",
    "sar": "Suspicious activity report",
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Subject(_Strict):
    party: str = Field(min_length=3, max_length=96, description="the party key, kind:id")
    holder: Literal["person", "entity"]
    name: str | None = Field(default=None, max_length=300)
    birth_date: str | None = Field(default=None, pattern=r"^\d{4}-\d{2}-\d{2}$")
    country: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")


class Transaction(_Strict):
    tx_id: str = Field(min_length=1, max_length=64)
    occurred_at: str = Field(description="RFC 3339, UTC")
    kind: str = Field(max_length=16)
    src: str = Field(max_length=96)
    dst: str = Field(max_length=96)
    amount: str = Field(pattern=r"^\d+(\.\d+)?$", description="major units, exact")
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    reference: str = Field(max_length=128)


class ReportDocument(_Strict):
    schema_id: Literal["embedfin.aml-report/1"] = Field(alias="schema")
    report_id: str = Field(min_length=1, max_length=40)
    kind: ReportKind
    title: str
    reporting_institution: str = Field(min_length=1, max_length=64)
    legal_basis: str = Field(max_length=200)
    subject: Subject
    business_day: str | None = Field(default=None, pattern=r"^\d{4}-\d{2}-\d{2}$")
    rule_id: str | None = None
    total: str = Field(pattern=r"^\d+(\.\d+)?$")
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    transactions: tuple[Transaction, ...] = Field(min_length=1)
    grounds: tuple[str, ...] = Field(min_length=1)
    narrative: str = Field(min_length=1, max_length=10_000)
    case_id: str | None = None
    due_on: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$")
    filed_at: str
    filed_by: str = Field(min_length=1, max_length=128)
    corrects: str | None = None
    correction_reason: str | None = Field(default=None, max_length=2_000)

    def canonical(self) -> str:
        """The JSON that is stored and hashed: aliases, keys sorted, no spaces."""
        return json.dumps(
            self.model_dump(mode="json", by_alias=True),
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
        )


def digest(canonical: str) -> str:
    return hashlib.sha256(canonical.encode()).hexdigest()


def json_schema() -> dict[str, Any]:
    """The document's JSON Schema (draft 2020-12, as Pydantic writes it)."""
    schema = ReportDocument.model_json_schema(by_alias=True)
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID, **schema}
