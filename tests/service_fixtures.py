"""Fixtures for service tests (payments, lending): a migrated database on each store and a
manual clock. Loaded as a pytest plugin by tests/conftest.py."""

from __future__ import annotations

import pytest

from embedfin.core.clock import ManualClock
from embedfin.db.engine import make_engine
from embedfin.db.migrate import upgrade
from embedfin.ledger.service import Ledger


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def ledger(db_url: str, clock: ManualClock) -> Ledger:
    engine = make_engine(db_url)
    upgrade(engine)
    return Ledger(engine, clock)
