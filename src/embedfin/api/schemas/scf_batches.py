"""Certificate batches: many certificate commands in one all-or-nothing request.

Each item names its command in ``kind`` and carries its own ``request_id`` (a retry of the item,
in this batch or another, does nothing twice). An item may name a certificate an earlier item
makes as ``@<request_id>/<n>`` (the n-th it makes, from 0, in the order its single command
returns them) and the payable an issue certifies as ``@<request_id>``.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from embedfin.api.schemas.common import Amount, Currency, Model, Name
from embedfin.api.schemas.scf import CertificateOut, Day, Part, PayableOut
from embedfin.scf.certificates import MAX_PARTS

ItemId = Annotated[
    str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")
]
#: A certificate's or payable's id, or a reference to what an earlier item makes.
Ref = Annotated[str, StringConstraints(min_length=1, max_length=80,
                                       pattern=r"^@?[A-Za-z0-9._:/-]+$")]  # fmt: skip


class IssueItemIn(Model):
    kind: Literal["issue"]
    request_id: ItemId
    core: Name
    supplier: Name
    payable_ref: Name
    amount: Amount
    currency: Currency
    matures_on: Day


class SplitItemIn(Model):
    kind: Literal["split"]
    request_id: ItemId
    certificate: Ref
    holder: Name
    parts: Annotated[list[Part], Field(min_length=2, max_length=MAX_PARTS)]


class TransferItemIn(Model):
    kind: Literal["transfer"]
    request_id: ItemId
    certificate: Ref
    holder: Name
    to: Name
    amount: Amount | None = None


class DiscountItemIn(Model):
    kind: Literal["discount"]
    request_id: ItemId
    certificate: Ref
    holder: Name
    funder: Name
    amount: Amount | None = None


class SettleItemIn(Model):
    kind: Literal["settle"]
    request_id: ItemId
    payable: Ref


#: Told apart by ``kind`` (each model forbids the others' fields).
BatchItemIn = IssueItemIn | SplitItemIn | TransferItemIn | DiscountItemIn | SettleItemIn


class BatchIn(Model):
    """At most ``scf.batch.MAX_ITEMS`` items (more: 422 ``batch_too_large``)."""

    items: Annotated[list[BatchItemIn], Field(min_length=1)]


class BatchItemOut(BaseModel):
    object: Literal["scf_batch_item"] = "scf_batch_item"
    request_id: str
    kind: str
    replayed: bool
    certificates: list[CertificateOut]
    payable: PayableOut | None


class BatchOut(BaseModel):
    object: Literal["scf_batch"] = "scf_batch"
    data: list[BatchItemOut]
