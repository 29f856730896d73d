"""The audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel


class AuditEntryOut(BaseModel):
    object: Literal["audit_entry"] = "audit_entry"
    seq: int
    actor: str
    action: str
    target: str
    detail: dict[str, Any]
    at: datetime | None
    hash: str
