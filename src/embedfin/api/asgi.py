"""``uvicorn embedfin.api.asgi:app``: the app on ``EMBEDFIN_DATABASE_URL`` (default: SQLite)."""

from __future__ import annotations

from embedfin.api.app import create_app
from embedfin.core.runtime import tune_gc

app = create_app()
tune_gc()
