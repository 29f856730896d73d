"""Reconciliation runs against channel statements, and their breaks."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, StringConstraints

from embedfin.api.schemas.common import Model, Text200


class ReconciliationCreate(Model):
    """``content`` is the statement file itself (CSV or camt.053 XML, lines and all)."""

    multiline_fields = frozenset({"content"})

    channel: Annotated[str, StringConstraints(pattern=r"^[a-z0-9-]{1,32}$")]
    format: Literal["csv", "camt053"]
    content: Annotated[str, StringConstraints(min_length=1, max_length=5_000_000)]


class BreakOut(BaseModel):
    kind: str
    reference: str
    expected: str
    actual: str


class ReconBreakOut(BreakOut):
    object: Literal["reconciliation_break"] = "reconciliation_break"
    id: str
    channel: str
    status: str


class ReconciliationOut(BaseModel):
    object: Literal["reconciliation"] = "reconciliation"
    id: str
    lines: int
    matched: int
    breaks: list[BreakOut]


class ResolveIn(Model):
    note: Text200
