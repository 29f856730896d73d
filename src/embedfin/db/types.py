"""Column types shared by the tables."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Dialect, LargeBinary
from sqlalchemy.dialects import postgresql
from sqlalchemy.types import TypeDecorator, TypeEngine


def id_to_bytes(value: int) -> bytes:
    return value.to_bytes(16, "big")


def id_to_uuid_text(value: int) -> str:
    return f"{value:032x}"


class U128(TypeDecorator[int]):
    """An unsigned 128-bit id: ``uuid`` on PostgreSQL, 16 big-endian bytes on SQLite.

    Both sort like the integers they hold, so range scans and index order agree across stores.
    """

    impl = LargeBinary(16)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(postgresql.UUID(as_uuid=True))
        return dialect.type_descriptor(LargeBinary(16))

    def process_bind_param(self, value: int | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if dialect.name == "postgresql":
            return uuid.UUID(int=value)
        return id_to_bytes(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> int | None:
        return decode_id(value)


def decode_id(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, uuid.UUID):
        return value.int
    if isinstance(value, str):
        return int(value.replace("-", ""), 16)
    return int.from_bytes(value, "big")
