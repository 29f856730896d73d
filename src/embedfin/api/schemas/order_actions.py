"""What is done to a placed order: ship, refund, dispute, extend."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from embedfin.api.schemas.common import Amount, Currency, Model, Text200


class ShipIn(Model):
    tracking: Annotated[
        str, StringConstraints(min_length=1, max_length=64, pattern=r"^[^\x00-\x1f\x7f]+$")
    ]


class RefundIn(Model):
    amount: Amount
    currency: Currency


class DisputeIn(Model):
    reason: Text200


class DisputeResolve(Model):
    outcome: Literal["release", "refund"]


class ExtendIn(Model):
    days: Annotated[int, Field(ge=1, le=30)]
