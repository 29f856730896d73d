"""The root `embedfin` app: every domain's commands are registered, domain errors exit 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import typer

from embedfin.cli import app
from tests.cli.helpers import runner

ROOT_COMMANDS = ["check", "demo", "recon", "breaks", "serve", "simulate"]
SUB_APPS = {
    "bench": [
        "ledger",
        "checkout",
        "credit",
        "simulate",
        "api",
        "fraud",
        "aml",
        "log",
        "scf",
        "systemic",
        "bank",
    ],
    "db": ["upgrade"],
    "ledger": ["account", "transfers", "chart"],
    "tenants": ["create"],
    "audit": ["verify", "checkpoint"],
    "keys": ["rotate-data"],
    "credit": ["evaluate", "train", "models", "promote", "features", "preapprove"],
    "consumers": ["parked", "replay", "run"],
    "acquirer": ["settle"],
    "aml": ["scan", "generate", "evaluate", "screen", "load-list", "monitor", "reports"],
    "log": ["verify", "witness", "platform-witnesses", "witness-key"],
    "stress": ["contagion", "export", "run"],
}


def test_every_command_is_registered_in_the_order_help_lists_it() -> None:
    root = typer.main.get_command(app)
    assert isinstance(root, typer.core.TyperGroup)
    assert list(root.commands) == [*ROOT_COMMANDS, *SUB_APPS]
    for name, commands in SUB_APPS.items():
        group = root.commands[name]
        assert isinstance(group, typer.core.TyperGroup)
        assert list(group.commands) == commands


def test_help_lists_the_root_commands_and_sub_apps() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0, result.output
    for name in [*ROOT_COMMANDS, *SUB_APPS]:
        assert f" {name} " in result.output


def test_a_sub_app_without_a_command_shows_its_help() -> None:
    result = runner.invoke(app, ["ledger"])
    assert result.exit_code == 2
    assert "Look at accounts and transfers." in result.output


def test_a_domain_error_exits_2_with_its_code_on_stderr_only(tmp_path: Path) -> None:
    missing = tmp_path / "missing.db"
    result = subprocess.run(
        [sys.executable, "-m", "embedfin.cli", "check", "--db", f"sqlite:///{missing}"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert "error (schema_missing): no database at" in result.stderr
    assert not missing.exists()
