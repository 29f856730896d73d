"""`embedfin tenants create`: a tenant and its first operator key, the secret shown once."""

from __future__ import annotations

import json

from embedfin.cli import app
from tests.cli.helpers import runner


def test_create_prints_the_tenant_and_its_key_as_json(sqlite_url: str) -> None:
    result = runner.invoke(app, ["tenants", "create", "Acme Market", "--db", sqlite_url, "--json"])
    assert result.exit_code == 0, result.output
    created = json.loads(result.stdout)
    assert created["tenant"].startswith("ten_")
    assert created["secret"].startswith("efk_")


def test_create_warns_on_stderr_that_the_secret_is_not_kept(sqlite_url: str) -> None:
    result = runner.invoke(app, ["tenants", "create", "Acme Market", "--db", sqlite_url])
    assert result.exit_code == 0, result.output
    assert "efk_" in result.stdout
    assert "store the secret now" in result.stderr
    assert "store the secret now" not in result.stdout
