"""Webhook endpoints and their deliveries."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from embedfin.api.schemas.common import Model


class WebhookEndpointCreate(Model):
    url: Annotated[str, StringConstraints(pattern=r"^https?://[^\s]{1,2000}$")]
    event_types: Annotated[
        list[Annotated[str, StringConstraints(pattern=r"^([a-z_]{1,64}|\*)$")]],
        Field(min_length=1, max_length=50),
    ]


class WebhookEndpointOut(BaseModel):
    object: Literal["webhook_endpoint"] = "webhook_endpoint"
    id: str
    url: str
    event_types: list[str]
    status: str
    created: datetime | None
    secret: str | None = Field(None, description="shown once: at creation and on rotation")


class WebhookDeliveryOut(BaseModel):
    object: Literal["webhook_delivery"] = "webhook_delivery"
    id: str
    endpoint: str
    event: str
    event_type: str
    status: str
    attempts: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
