"""Steps of the escrow loop the pages ask of the API as the signed-in key: the merchant ships,
the buyer confirms receipt."""

from __future__ import annotations

from fastapi import Request

from embedfin.client import ApiError
from embedfin.dashboard.pages import PageError
from embedfin.dashboard.signin import Session


def order_step(
    request: Request,
    current: Session,
    order_id: str,
    action: str,
    key: str,
    tracking: str | None,
) -> None:
    """``action`` (ship, confirm) on the order; a refusal becomes the API's status and reason."""
    body = {"tracking": tracking[:64]} if tracking is not None else {}
    with current.client(request) as client:
        try:
            client.order_action(order_id, action, body, idempotency_key=f"{key}:{action}")
        except ApiError as error:
            raise PageError(error.status, f"{error.detail} ({error.code})") from error
