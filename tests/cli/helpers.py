"""What the command tests share: one runner and a short demo run."""

from __future__ import annotations

from typer.testing import CliRunner

runner = CliRunner()

# A demo small enough for a test: a few days, a hundred buyers, any free port, no progress bar.
DEMO = ["demo", "--exit-after", "--consumers", "120", "--days", "6", "--port", "0", "--no-progress"]
