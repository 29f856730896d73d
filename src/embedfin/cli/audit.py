"""``embedfin audit``: the tamper-evident audit log — verify it, checkpoint its head."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Annotated, Any

import typer

from embedfin.cli.common import DbOption, JsonOption, err, out
from embedfin.db.migrate import open_existing

app = typer.Typer(no_args_is_help=True, help="The tamper-evident audit log.")

CheckpointsOption = Annotated[
    Path | None,
    typer.Option(
        "--checkpoints",
        help="Signed checkpoint file (JSON lines; default: beside the SQLite file, or "
        "embedfin-data/<database>.audit-checkpoints.jsonl).",
    ),
]
PublicKeyOption = Annotated[
    Path | None,
    typer.Option(
        "--public-key", help="Checkpoint public keys (default: the .pub beside the file)."
    ),
]


@app.command("verify")
def audit_verify(
    db: DbOption = None,
    checkpoints: CheckpointsOption = None,
    public_key: PublicKeyOption = None,
    as_json: JsonOption = False,
) -> None:
    """Recompute the keyed chain and check every signed checkpoint against it; exit 1 at the
    first broken entry (edited, removed, renumbered, reordered, forged or cut off)."""
    from embedfin.security import audit
    from embedfin.security.audit_checkpoints import (
        CheckpointInvalid,
        default_checkpoints_path,
        read_checkpoints,
    )

    engine = open_existing(db)
    path = checkpoints or default_checkpoints_path(str(engine.url))
    anchors: list[Any] = []
    try:
        if path is not None and path.exists():
            anchors = list(read_checkpoints(path, public_key))
        elif checkpoints is not None:
            raise CheckpointInvalid(f"no checkpoint file {checkpoints}")
    except CheckpointInvalid as error:
        report = audit.VerifyReport(0, False, None, str(error))
    else:
        with engine.connect() as conn:
            report = audit.verify(conn, checkpoints=anchors)
    engine.dispose()
    found = str(path) if path is not None and path.exists() else None
    _print_report(report, found, as_json)
    raise typer.Exit(0 if report.ok else 1)


def _print_report(report: Any, checkpoints: str | None, as_json: bool) -> None:
    if as_json:
        out.print_json(json.dumps(dataclasses.asdict(report) | {"checkpoint_file": checkpoints}))
        return
    if not report.ok:
        where = f" at entry {report.first_bad_seq}" if report.first_bad_seq else ""
        out.print(f"[red]audit log broken[/red]{where}: {report.reason}")
        return
    legacy = f" ({report.legacy_entries} legacy, unkeyed)" if report.legacy_entries else ""
    out.print(
        f"[green]audit log intact[/green]: {report.entries} entries{legacy}, "
        f"{report.checkpoints} checkpoints checked"
    )
    if checkpoints is None:
        err.print("no checkpoint file: a cut-off of the newest entries cannot be detected")


@app.command("checkpoint")
def audit_checkpoint(
    db: DbOption = None, checkpoints: CheckpointsOption = None, as_json: JsonOption = False
) -> None:
    """Verify the chain since the last checkpoint, then append a signed checkpoint of its head
    to the checkpoint file (outside the database); exit 1, writing nothing, if it is broken."""
    from embedfin.bootstrap import Services
    from embedfin.core.clock import SystemClock
    from embedfin.core.errors import ConfigurationError
    from embedfin.ledger.service import Ledger
    from embedfin.security.audit_checkpoints import (
        AuditChainBroken,
        CheckpointInvalid,
        checkpoint_entry,
        default_checkpoints_path,
        write_checkpoint,
    )
    from embedfin.transparency.service import PLATFORM

    engine = open_existing(db)
    path = checkpoints or default_checkpoints_path(str(engine.url))
    if path is None:
        raise typer.BadParameter("an in-memory database needs --checkpoints FILE")
    try:
        with engine.connect() as conn:
            checkpoint = write_checkpoint(conn, path, SystemClock().now_ns())
        ledger = Ledger(engine, SystemClock())  # and into the platform's verifiable audit log
        platform_log = Services(ledger).tenant(PLATFORM).log  # signed as it grows
        platform_log.append_signed("audit", [checkpoint_entry(checkpoint)])
    except (AuditChainBroken, CheckpointInvalid, ConfigurationError) as error:
        out.print(f"[red]no checkpoint written[/red]: {error}")
        raise typer.Exit(1) from error
    finally:
        engine.dispose()
    if as_json:
        out.print_json(json.dumps(dataclasses.asdict(checkpoint) | {"file": str(path)}))
    else:
        out.print(
            f"checkpoint of entry {checkpoint.seq} (head {checkpoint.head[:16]}…) "
            f"appended to {path}"
        )
