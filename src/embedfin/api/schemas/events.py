"""Domain events as the event stream shows them."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel


class EventOut(BaseModel):
    object: Literal["event"] = "event"
    id: str
    type: str
    aggregate: str
    aggregate_id: str
    data: dict[str, Any]
    created: datetime | None
