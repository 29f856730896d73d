"""``embedfin serve``: the open API under uvicorn."""

from __future__ import annotations

from typing import Annotated

import typer
from sqlalchemy.engine import make_url

from embedfin.cli.common import DbOption, err
from embedfin.db.engine import default_url, make_engine
from embedfin.db.migrate import upgrade


def serve_command(
    db: DbOption = None,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes (PostgreSQL only).")] = 1,
    log_level: Annotated[str, typer.Option(help="Log level.")] = "info",
) -> None:
    """Serve the open API (docs at /docs, OpenAPI at /openapi.json, metrics at /metrics)."""
    import os

    import uvicorn

    from embedfin.api.observability import configure_logging
    from embedfin.payments.channels.sandbox import ENV_URL as ACQUIRER_ENV
    from embedfin.payments.channels.sandbox import default_url as acquirer_url

    url = db or default_url()
    upgrade(make_engine(url))
    if workers > 1 and make_url(url).get_backend_name() == "sqlite":
        raise typer.BadParameter("several workers need PostgreSQL (SQLite has one writer)")
    os.environ["EMBEDFIN_DATABASE_URL"] = url
    # every worker shares one sandbox acquirer, whose state survives restarts
    os.environ.setdefault(ACQUIRER_ENV, acquirer_url(url))
    configure_logging(log_level)
    err.print(f"embedfin API on http://{host}:{port}  (docs: http://{host}:{port}/docs)")
    uvicorn.run(
        "embedfin.api.asgi:app",
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
        access_log=False,
        loop="uvloop",
        http="httptools",
    )
