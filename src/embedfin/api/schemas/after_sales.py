"""After-sales: returns and reviews."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, Strict, StringConstraints

from embedfin.api.schemas.common import Model, Text200


class ReturnIn(Model):
    reason: Text200


class ReviewIn(Model):
    """A review's text may run over several lines."""

    multiline_fields = frozenset({"text"})

    rating: Annotated[int, Strict(), Field(ge=1, le=5)]
    text: Annotated[str, StringConstraints(max_length=2_000)] = ""
