"""The authenticated no-op."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel


class PingOut(BaseModel):
    object: Literal["ping"] = "ping"
    tenant: str
    role: str
