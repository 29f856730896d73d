"""Stable ids and fingerprints of supply-chain finance commands: the same request always makes
the same ids, and a retry must repeat what it asked."""

from __future__ import annotations

import hashlib
import json


def new_id(prefix: str, tenant: str, request_id: str, index: int) -> str:
    """A stable id for what a request makes: the same request always makes the same ids."""
    digest = hashlib.sha256(f"{tenant}\x1f{request_id}\x1f{index}".encode()).hexdigest()
    return f"{prefix}_{digest[:24]}"


def fingerprint_of(kind: str, *args: object) -> str:
    return hashlib.sha256(json.dumps([kind, *args], default=str).encode()).hexdigest()
