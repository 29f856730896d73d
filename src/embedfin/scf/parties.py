"""A party's registration, checked: an id, a role and a name; a core enterprise's rates."""

from __future__ import annotations

from decimal import Decimal

from embedfin.core.errors import InvalidInput
from embedfin.payments.requests import check_name
from embedfin.scf.certificates import BASES, check_rate
from embedfin.scf.store import Party, Role

MAX_NAME = 200


def check_party(
    party_id: str,
    role: str,
    name: str,
    discount_rate: Decimal | None,
    overdue_rate: Decimal | None,
    day_basis: int | None,
) -> Party:
    check_name("party_id", party_id)
    try:
        kind = Role(role)
    except ValueError:
        raise InvalidInput(f"role is one of {', '.join(r.value for r in Role)}") from None
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME:
        raise InvalidInput(f"name is 1-{MAX_NAME} characters")
    if not name.isprintable():
        raise InvalidInput("name must be printable")
    if kind is not Role.CORE:
        if (discount_rate, overdue_rate, day_basis) != (None, None, None):
            raise InvalidInput("only a core enterprise has rates and a day basis")
        return Party(party_id, kind, name.strip())
    if discount_rate is None or overdue_rate is None:
        raise InvalidInput("a core enterprise states its discount_rate and overdue_rate")
    basis = 360 if day_basis is None else day_basis
    if isinstance(basis, bool) or basis not in BASES:
        raise InvalidInput("the day basis is 360 or 365")
    return Party(
        party_id,
        kind,
        name.strip(),
        check_rate(discount_rate, "discount rate"),
        check_rate(overdue_rate, "overdue rate"),
        basis,
    )
