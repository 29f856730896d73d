"""API keys."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from embedfin.api.schemas.common import Model, ObjectId, Text200


class ApiKeyCreate(Model):
    role: Literal["operator", "merchant", "risk", "regulator"]
    name: Text200
    merchant: ObjectId | None = None


class ApiKeyOut(BaseModel):
    object: Literal["api_key"] = "api_key"
    id: str
    role: str
    merchant: str | None
    name: str
    prefix: str
    created: datetime | None
    revoked: datetime | None
    secret: str | None = Field(None, description="shown once, in the response that creates it")
