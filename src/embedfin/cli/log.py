"""``embedfin log``: check a verifiable log from outside, as a consortium member or a witness.

Both talk to the log's API (``--url``, ``--api-key`` or ``EMBEDFIN_API_KEY``) and trust only
what they can prove: the checkpoint's signature under the pinned verifier key (``--verifier``)
and origin (``--origin``), its consistency with the last checkpoint kept in ``--state``, and
the inclusion of each ``--entry``. A proof that fails exits 2 and keeps nothing, and so does
an API that cannot be reached (one line, no traceback). With ``--public`` they read the log's
public routes by ``--origin`` and need no API key: a witness of another tenant or instance,
which the log's operator registered (``POST /v1/logs/{log}/witnesses``).
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer

from embedfin.cli.common import DbOption, JsonOption, err, out
from embedfin.db.migrate import open_existing

app = typer.Typer(no_args_is_help=True, help="Verifiable logs: verify, witness, keys.")

UrlOption = Annotated[str, typer.Option("--url", help="The API's base URL.")]
KeyOption = Annotated[
    str | None, typer.Option("--api-key", help="An API key (default: EMBEDFIN_API_KEY).")
]
LogOption = Annotated[
    str | None, typer.Option("--log", help="The log's id, e.g. scf (not with --public).")
]
PublicOption = Annotated[
    bool,
    typer.Option("--public", help="Read the log's public routes by --origin, with no API key."),
]
VerifierOption = Annotated[
    str, typer.Option("--verifier", help="The log's note verifier key, pinned (name+id+key).")
]
OriginOption = Annotated[str, typer.Option("--origin", help="The log's origin, pinned.")]
StateOption = Annotated[
    Path, typer.Option("--state", help="Checkpoints kept from earlier runs (JSON lines).")
]


@contextlib.contextmanager
def _answers() -> Iterator[None]:
    """An error answer of the API, or no answer at all, ends the command like a domain error:
    one line with its code, exit 2."""
    import httpx

    from embedfin.client import ApiError

    try:
        yield
    except ApiError as error:
        err.print(f"[red]error[/red] ({error.code}): {error.detail}", highlight=False)
        raise typer.Exit(2) from None
    except (httpx.HTTPError, httpx.InvalidURL) as error:
        why = str(error) or type(error).__name__
        err.print(f"[red]error[/red] (unreachable): the API did not answer: {why}",
                  highlight=False, soft_wrap=True)  # fmt: skip
        raise typer.Exit(2) from None


def _logs(url: str, log: str | None, origin: str, public: bool, api_key: str | None) -> Any:
    """The client and the name of the log for it: its id, or with ``--public`` its origin."""
    from embedfin.client import Client
    from embedfin.client.logs import Logs, PublicLogs

    if public:
        if log is not None:
            raise typer.BadParameter("--public names the log by --origin, not --log")
        api = Client(None, url)
        return api, PublicLogs(api), origin
    if log is None:
        raise typer.BadParameter("give --log (or --public to read the log by --origin)")
    api = Client(_api_key(api_key), url)
    return api, Logs(api), log


def _api_key(given: str | None) -> str:
    key = given or os.environ.get("EMBEDFIN_API_KEY")
    if not key:
        raise typer.BadParameter("give --api-key or set EMBEDFIN_API_KEY")
    return key


@app.command("verify")
def verify_command(
    url: UrlOption,
    verifier: VerifierOption,
    origin: OriginOption,
    state: StateOption,
    log: LogOption = None,
    entry: Annotated[
        list[int] | None, typer.Option("--entry", help="An entry that must be in the log.")
    ] = None,
    public: PublicOption = False,
    api_key: KeyOption = None,
    as_json: JsonOption = False,
) -> None:
    """Fetch the log's checkpoint, prove it extends the last one kept and holds every --entry,
    then keep it. Exit 2 on a bad signature, a split view, a failed proof or no answer."""
    from embedfin.client.logs import KeptCheckpoints
    from embedfin.transparency.checkpoints import Verifier

    pinned = Verifier.parse(verifier)
    kept = KeptCheckpoints(state)
    since = kept.latest(origin, pinned)
    api, logs, name = _logs(url, log, origin, public, api_key)
    with api, _answers():
        done = logs.verify(name, pinned, origin, since, entry or [])
    kept.add(done.checkpoint, done.note)
    _report("verified", done.checkpoint.size, done.since, done.entries, as_json)


@app.command("witness")
def witness_command(
    url: UrlOption,
    verifier: VerifierOption,
    origin: OriginOption,
    state: StateOption,
    name: Annotated[str, typer.Option("--name", help="The witness's key name.")],
    key_file: Annotated[
        Path,
        typer.Option("--key-file", help="The witness's Ed25519 seed (base64; made if absent)."),
    ],
    log: LogOption = None,
    public: PublicOption = False,
    api_key: KeyOption = None,
    as_json: JsonOption = False,
) -> None:
    """Cosign the log's checkpoint once it proves consistent with the last one this witness
    cosigned (kept in --state); refuse, exit 2, if the log shows another history. The log's
    operator must have registered the witness's key (``embedfin log witness-key`` prints it)."""
    from embedfin.client.logs import KeptCheckpoints
    from embedfin.security.audit_keys import load_signing_key
    from embedfin.transparency.checkpoints import Verifier

    key = load_signing_key(key_file.parent, "EMBEDFIN_WITNESS_KEY", key_file.name)
    pinned = Verifier.parse(verifier)
    kept = KeptCheckpoints(state)
    since = kept.latest(origin, pinned)
    api, logs, log_name = _logs(url, log, origin, public, api_key)
    with api, _answers():
        done = logs.witness(log_name, pinned, origin, name, key, since)
    kept.add(done.checkpoint, done.note)
    _report("cosigned", done.checkpoint.size, done.since, (), as_json)


@app.command("platform-witnesses")
def platform_witnesses_command(
    db: DbOption = None,
    add: Annotated[
        list[str] | None,
        typer.Option("--add", help="A witness's note verifier key to accept (name+id+key)."),
    ] = None,
    remove: Annotated[
        list[str] | None, typer.Option("--remove", help="A witness's name to stop accepting.")
    ] = None,
    log: Annotated[str, typer.Option("--log", help="The platform's log.")] = "audit",
    as_json: JsonOption = False,
) -> None:
    """The witnesses the platform's own log (``_platform/audit``) accepts: no API key belongs
    to the platform, so its operator registers them here, on the database; each change is in
    the audit log (actor ``cli``) in the same unit of work."""
    from embedfin.bootstrap import Services
    from embedfin.core.clock import SystemClock
    from embedfin.ledger.service import Ledger, LedgerTransaction
    from embedfin.security import audit
    from embedfin.transparency.checkpoints import Verifier
    from embedfin.transparency.service import PLATFORM

    engine = open_existing(db)
    try:
        ledger = Ledger(engine, SystemClock())
        platform_log = Services(ledger).tenant(PLATFORM).log
        now = ledger.clock.now_ns

        def audited(tx: LedgerTransaction, action: str, detail: dict[str, object]) -> None:
            audit.record(tx.conn, tenant=PLATFORM, actor="cli", action=action, target=log,
                         detail=detail, at_ns=now())  # fmt: skip

        for witness in [Verifier.parse(v) for v in add or []]:
            with ledger.transaction() as tx:
                if platform_log.add_witness(log, witness)[1]:
                    audited(tx, "log.witness_add", {"witness": witness.name,
                                                    "vkey": str(witness)})  # fmt: skip
        for name in remove or []:
            with ledger.transaction() as tx:
                platform_log.remove_witness(log, name)
                audited(tx, "log.witness_remove", {"witness": name})
        found = [str(w.verifier) for w in platform_log.witnesses(log)]
    finally:
        engine.dispose()
    if as_json:
        print(json.dumps({"log": platform_log.origin(log), "witnesses": found}))
        return
    out.print("\n".join(found) or "no witnesses", highlight=False)


@app.command("witness-key")
def witness_key_command(
    name: Annotated[str, typer.Option("--name", help="The witness's key name.")],
    key_file: Annotated[
        Path, typer.Option("--key-file", help="Where the seed is (made if absent).")
    ],
) -> None:
    """Print the witness's note verifier key, for the log to accept its cosignatures."""
    from embedfin.security.audit_keys import load_signing_key
    from embedfin.transparency import checkpoints

    key = load_signing_key(key_file.parent, "EMBEDFIN_WITNESS_KEY", key_file.name)
    out.print(str(checkpoints.verifier_of(name, key)), highlight=False)


def _report(
    what: str, size: int, since: int | None, entries: tuple[int, ...], as_json: bool
) -> None:
    if as_json:
        print(json.dumps({"result": what, "size": size, "since": since, "entries": list(entries)}))
        return
    note = "the first checkpoint kept" if since is None else f"consistent with {since:,}"
    err.print(
        f"{what}: {size:,} entries, {note}"
        + (f", {len(entries)} entries included" if entries else "")
    )
