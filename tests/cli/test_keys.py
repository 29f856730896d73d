"""`embedfin keys rotate-data`: personal data re-encrypted under the first key."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from embedfin.cli import app
from embedfin.commerce.customers import Customer, insert_customer, load_customer
from embedfin.db.engine import make_engine
from embedfin.security.crypto import FieldCipher, new_key_spec
from tests.cli.helpers import runner


def test_rotate_data_re_encrypts_under_the_new_first_key(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = os.environ["EMBEDFIN_DATA_KEYS"]
    engine = make_engine(sqlite_url)
    with engine.begin() as conn:
        ada = Customer("shop-1", "c-1", "Ada Lovelace", "+44 7946 0958", "ada@example.org", 1)
        insert_customer(conn, FieldCipher.parse(old), ada)
    new = new_key_spec("k2")
    monkeypatch.setenv("EMBEDFIN_DATA_KEYS", f"{new},{old}")
    result = runner.invoke(app, ["keys", "rotate-data", "--db", sqlite_url])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "re-encrypted 3 fields"
    with engine.connect() as conn:  # readable with the new key alone
        assert load_customer(conn, FieldCipher.parse(new), "shop-1", "c-1") == ada
    engine.dispose()
    again = runner.invoke(app, ["keys", "rotate-data", "--db", sqlite_url])
    assert again.stdout.strip() == "re-encrypted 0 fields"


def test_rotate_data_refuses_a_database_without_the_schema(tmp_path: Path) -> None:
    missing = tmp_path / "none.db"
    result = runner.invoke(app, ["keys", "rotate-data", "--db", f"sqlite:///{missing}"])
    assert result.exit_code != 0
    assert "no database at" in str(result.exception)
    assert not missing.exists()
