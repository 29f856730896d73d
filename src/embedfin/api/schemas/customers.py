"""Customers (buyers); their personal data is shown masked."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, StringConstraints

from embedfin.api.schemas.common import Model, Text200


class CustomerCreate(Model):
    name: Text200
    phone: Annotated[str, StringConstraints(pattern=r"^\+?[0-9 ()-]{5,32}$")] | None = None
    email: Annotated[str, StringConstraints(pattern=r"^[^@\s]{1,64}@[^@\s]{1,190}$")] | None = None


class CustomerOut(BaseModel):
    """Personal data is shown masked; it is stored encrypted."""

    object: Literal["customer"] = "customer"
    id: str
    name: str
    phone: str | None
    email: str | None
    created: datetime | None
