"""What is done to a placed order: ship, refund, dispute, extend."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, Strict

from embedfin.api.schemas.common import Amount, Currency, Model, Name, Text200


class ShipIn(Model):
    tracking: Name


class RefundIn(Model):
    amount: Amount
    currency: Currency


class DisputeIn(Model):
    reason: Text200


class DisputeResolve(Model):
    outcome: Literal["release", "refund"]


class ExtendIn(Model):
    days: Annotated[int, Strict(), Field(ge=1, le=30)]
