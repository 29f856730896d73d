"""``embedfin log``: check a verifiable log from outside, as a consortium member or a witness.

Both talk to the log's API (``--url``, ``--api-key`` or ``EMBEDFIN_API_KEY``) and trust only
what they can prove: the checkpoint's signature under the pinned verifier key (``--verifier``)
and origin (``--origin``), its consistency with the last checkpoint kept in ``--state``, and
the inclusion of each ``--entry``. A proof that fails exits 1 and keeps nothing.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer

from embedfin.cli.common import JsonOption, err, out

app = typer.Typer(no_args_is_help=True, help="Verifiable logs: verify, witness, keys.")

UrlOption = Annotated[str, typer.Option("--url", help="The API's base URL.")]
KeyOption = Annotated[
    str | None, typer.Option("--api-key", help="An API key (default: EMBEDFIN_API_KEY).")
]
LogOption = Annotated[str, typer.Option("--log", help="The log's id, e.g. scf.")]
VerifierOption = Annotated[
    str, typer.Option("--verifier", help="The log's note verifier key, pinned (name+id+key).")
]
OriginOption = Annotated[str, typer.Option("--origin", help="The log's origin, pinned.")]
StateOption = Annotated[
    Path, typer.Option("--state", help="Checkpoints kept from earlier runs (JSON lines).")
]


@contextlib.contextmanager
def _answers() -> Iterator[None]:
    """An error answer of the API ends the command like a domain error: its code, exit 2."""
    from embedfin.client import ApiError

    try:
        yield
    except ApiError as error:
        err.print(f"[red]error[/red] ({error.code}): {error.detail}")
        raise typer.Exit(2) from None


def _api_key(given: str | None) -> str:
    key = given or os.environ.get("EMBEDFIN_API_KEY")
    if not key:
        raise typer.BadParameter("give --api-key or set EMBEDFIN_API_KEY")
    return key


@app.command("verify")
def verify_command(
    url: UrlOption,
    log: LogOption,
    verifier: VerifierOption,
    origin: OriginOption,
    state: StateOption,
    entry: Annotated[
        list[int] | None, typer.Option("--entry", help="An entry that must be in the log.")
    ] = None,
    api_key: KeyOption = None,
    as_json: JsonOption = False,
) -> None:
    """Fetch the log's checkpoint, prove it extends the last one kept and holds every --entry,
    then keep it. Exit 2 on a bad signature, a split view or a failed proof."""
    from embedfin.client import Client
    from embedfin.client.logs import KeptCheckpoints, Logs
    from embedfin.transparency.checkpoints import Verifier

    pinned = Verifier.parse(verifier)
    kept = KeptCheckpoints(state)
    with Client(_api_key(api_key), url) as api, _answers():
        done = Logs(api).verify(log, pinned, origin, kept.latest(origin, pinned), entry or [])
    kept.add(done.checkpoint, done.note)
    _report("verified", done.checkpoint.size, done.since, done.entries, as_json)


@app.command("witness")
def witness_command(
    url: UrlOption,
    log: LogOption,
    verifier: VerifierOption,
    origin: OriginOption,
    state: StateOption,
    name: Annotated[str, typer.Option("--name", help="The witness's key name.")],
    key_file: Annotated[
        Path,
        typer.Option("--key-file", help="The witness's Ed25519 seed (base64; made if absent)."),
    ],
    api_key: KeyOption = None,
    as_json: JsonOption = False,
) -> None:
    """Cosign the log's checkpoint once it proves consistent with the last one this witness
    cosigned (kept in --state); refuse, exit 2, if the log shows another history."""
    from embedfin.client import Client
    from embedfin.client.logs import KeptCheckpoints, Logs
    from embedfin.security.audit_keys import load_signing_key
    from embedfin.transparency.checkpoints import Verifier

    key = load_signing_key(key_file.parent, "EMBEDFIN_WITNESS_KEY", key_file.name)
    pinned = Verifier.parse(verifier)
    kept = KeptCheckpoints(state)
    with Client(_api_key(api_key), url) as api, _answers():
        done = Logs(api).witness(log, pinned, origin, name, key, kept.latest(origin, pinned))
    kept.add(done.checkpoint, done.note)
    _report("cosigned", done.checkpoint.size, done.since, (), as_json)


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
