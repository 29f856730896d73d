"""Idempotent request handling shared by payment commands.

A client names each money-moving request with a ``request_id`` (the API's Idempotency-Key).
The ledger transfer ids are derived from (tenant, request id, leg), so a retried request
produces the same transfers and the ledger answers ``exists`` instead of moving money twice.
"""

from __future__ import annotations

import hashlib
import re

from embedfin.core.errors import InvalidInput
from embedfin.core.ids import U128_MAX

REQUEST_ID_MAX = 255


def check_request_id(request_id: str) -> str:
    if not request_id or len(request_id) > REQUEST_ID_MAX or not request_id.isprintable():
        raise InvalidInput(f"request_id must be 1-{REQUEST_ID_MAX} printable characters")
    return request_id


def transfer_id(tenant: str, request_id: str, leg: str = "main") -> int:
    """The ledger transfer id for one leg of a request: stable across retries."""
    digest = hashlib.sha256(f"{tenant}\x1f{request_id}\x1f{leg}".encode()).digest()
    value = int.from_bytes(digest[:16], "big")
    return value if 0 < value < U128_MAX else 1


def check_name(label: str, value: str, max_length: int = 64) -> str:
    if not value or len(value) > max_length or not value.isprintable():
        raise InvalidInput(f"{label} must be 1-{max_length} printable characters")
    return value


_TOKEN = re.compile(r"^tok_[A-Za-z0-9]{8,60}$")


def check_bank_account(bank_token: str, bank_last4: str) -> None:
    """A bound bank account is a vault token plus its last four digits, never the number."""
    if not _TOKEN.match(bank_token):
        raise InvalidInput("bank_token must be a vault token (tok_…), never an account number")
    if not re.fullmatch(r"\d{4}", bank_last4):
        raise InvalidInput("bank_last4 must be the last four digits")
