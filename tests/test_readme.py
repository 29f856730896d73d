"""The README's Python examples run as printed."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("section", ["The ledger in five minutes", "Payments (escrow checkout)"])
def test_readme_examples_run(section: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    readme = (ROOT / "README.md").read_text()
    block = re.search(rf"## {re.escape(section)}\n\n```python\n(.*?)```", readme, re.S)
    assert block is not None
    monkeypatch.chdir(tmp_path)
    monkeypatch.setitem(os.environ, "EMBEDFIN_DATABASE_URL", f"sqlite:///{tmp_path / 'r.db'}")
    exec(compile(block.group(1), "README.md", "exec"), {})
