"""A consortium member and a witness check the log over HTTP with nothing but pinned keys and
the checkpoints they kept: a growing log verifies; a log a database writer rewrote is caught."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import text
from typer.testing import CliRunner

from embedfin.api.app import create_app
from embedfin.api.platform import Platform
from embedfin.cli import app
from embedfin.client import ApiError, Client
from embedfin.client.logs import KeptCheckpoints, Logs, PublicLogs, SplitView
from embedfin.core.clock import ManualClock
from embedfin.transparency import checkpoints
from embedfin.transparency.checkpoints import CheckpointInvalid
from tests.api.conftest import LiveServer, Tenant, make_platform, make_tenant
from tests.conftest import fresh_sqlite


@pytest.fixture
def served(
    sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[LiveServer, Platform, Tenant]]:
    url = fresh_sqlite(sqlite_template, tmp_path_factory.mktemp("logs"))
    platform = make_platform(url, ManualClock(1_795_000_000 * 10**9))
    tenant = make_tenant(platform, "Consortium")
    with LiveServer(create_app(platform)) as server:
        yield server, platform, tenant
    platform.ledger.close()


def _pins(api: Client) -> tuple[str, str]:
    info = Logs(api).info("anchors")
    return str(info["verifier"]), str(info["origin"])


def test_a_member_verifies_a_growing_log_from_the_command_line(
    served: tuple[LiveServer, Platform, Tenant], tmp_path: Path
) -> None:
    server, _, tenant = served
    with Client(tenant.secret, server.url) as api:
        Logs(api).append("anchors", [json.dumps({"event": "issued", "n": i}) for i in range(10)])
        verifier, origin = _pins(api)
        state = tmp_path / "anchors.checkpoints"

        def command(pinned: str) -> list[str]:
            return ["log", "verify", "--url", server.url, "--api-key", tenant.secret, "--log",
                    "anchors", "--verifier", pinned, "--origin", origin, "--state", str(state),
                    "--json"]  # fmt: skip

        args = command(verifier)
        first = CliRunner().invoke(app, args)
        assert first.exit_code == 0, first.output
        assert json.loads(first.stdout)["since"] is None
        Logs(api).append("anchors", ["later", "and later"])
        second = CliRunner().invoke(app, [*args, "--entry", "3", "--entry", "11"])
        assert second.exit_code == 0, second.output
        assert json.loads(second.stdout) == {
            "result": "verified", "size": 12, "since": 10, "entries": [3, 11],
        }  # fmt: skip
        assert len(state.read_text().splitlines()) == 2
        # a pinned key that is not the log's: nothing verifies, nothing is kept
        other = str(checkpoints.verifier_of(verifier.split("+")[0], Ed25519PrivateKey.generate()))
        wrong = CliRunner().invoke(app, command(other))
        assert isinstance(wrong.exception, CheckpointInvalid)  # main() prints it and exits 2
        assert len(state.read_text().splitlines()) == 2


def test_a_witness_refuses_to_cosign_a_rewritten_history(
    served: tuple[LiveServer, Platform, Tenant], tmp_path: Path
) -> None:
    server, platform, tenant = served
    key = Ed25519PrivateKey.generate()
    with Client(tenant.secret, server.url) as api:
        logs = Logs(api)
        logs.append("anchors", ["issue A 100", "split A 60/40", "transfer A.1"])
        verifier_text, origin = _pins(api)
        verifier = checkpoints.Verifier.parse(verifier_text)
        kept = KeptCheckpoints(tmp_path / "witness.checkpoints")
        logs.add_witness("anchors", str(checkpoints.verifier_of("witness.example", key)))
        done = logs.witness("anchors", verifier, origin, "witness.example", key)
        kept.add(done.checkpoint, done.note)
        assert logs.checkpoint("anchors")["witnesses"] == ["witness.example"]
        # a database writer drops the guards and rewrites the log with the signing key's help:
        # the same origin, a larger tree, another past
        with platform.ledger.engine.begin() as conn:
            for name in ("entries", "nodes"):
                for event in ("update", "delete"):
                    conn.execute(text(f"DROP TRIGGER tlog_{name}_immutable_{event}"))
            conn.execute(text("DELETE FROM tlog_entries"))
            conn.execute(text("DELETE FROM tlog_nodes"))
            conn.execute(text("DELETE FROM tlog_checkpoints"))
            conn.execute(text("UPDATE tlog_logs SET size = 0"))
        logs.append("anchors", ["issue A 100", "split A 90/10", "transfer A.1", "discount A.2"])
        with pytest.raises(SplitView, match="two histories"):
            logs.witness("anchors", verifier, origin, "witness.example", key,
                         kept.latest(origin, verifier))  # fmt: skip
        assert logs.checkpoint("anchors")["witnesses"] == []


def test_verify_against_an_api_that_does_not_answer_is_one_line_and_exit_2(
    tmp_path: Path,
) -> None:
    from tests.api.conftest import free_port

    verifier = str(checkpoints.verifier_of("embedfin.local", Ed25519PrivateKey.generate()))
    args = ["log", "verify", "--url", f"http://127.0.0.1:{free_port()}", "--api-key", "efk_x",
            "--log", "anchors", "--verifier", verifier, "--origin", "embedfin.local/t/anchors",
            "--state", str(tmp_path / "kept")]  # fmt: skip
    done = CliRunner().invoke(app, args)
    assert done.exit_code == 2
    assert done.exception is None or isinstance(done.exception, SystemExit)
    assert "Traceback" not in done.output
    (line,) = done.output.strip().splitlines()
    assert line.startswith("error (unreachable): the API did not answer")
    assert not (tmp_path / "kept").exists()


def test_a_kept_checkpoint_whose_origin_was_edited_is_an_error_not_skipped(
    served: tuple[LiveServer, Platform, Tenant], tmp_path: Path
) -> None:
    server, _, tenant = served
    with Client(tenant.secret, server.url) as api:
        Logs(api).append("anchors", ["a", "b"])
        verifier_text, origin = _pins(api)
        verifier = checkpoints.Verifier.parse(verifier_text)
        kept = KeptCheckpoints(tmp_path / "anchors.checkpoints")
        done = Logs(api).verify("anchors", verifier, origin)
        kept.add(done.checkpoint, done.note)
    record = json.loads(kept.path.read_text())
    for edit in ({"origin": "elsewhere/t/anchors"}, {"size": 1}):
        kept.path.write_text(json.dumps(record | edit) + "\n")
        with pytest.raises(CheckpointInvalid, match=":1: not a kept checkpoint"):
            kept.latest(origin, verifier)
    other = checkpoints.sign(checkpoints.Checkpoint("elsewhere/t/anchors", 1, bytes(32)), "x",
                             Ed25519PrivateKey.generate())  # fmt: skip
    kept.path.write_text(json.dumps({"origin": "elsewhere/t/anchors", "size": 1, "note": other}))
    assert kept.latest(origin, verifier) is None  # another log's checkpoint, whole: not ours


def test_the_sdk_encodes_a_log_id_in_the_path() -> None:
    import httpx

    seen: list[bytes] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.raw_path)
        return httpx.Response(404, json={"code": "not_found", "detail": "no"})

    with Client("efk_x", "http://api.test", transport=httpx.MockTransport(answer)) as api:
        for log_id in ("../keys", "a/b?c#d", "anchors"):
            with pytest.raises(ApiError):
                Logs(api).info(log_id)
    assert seen == [b"/v1/logs/..%2Fkeys", b"/v1/logs/a%2Fb%3Fc%23d", b"/v1/logs/anchors"]


def test_a_witness_on_another_instance_cosigns_through_the_public_routes_with_no_key(
    served: tuple[LiveServer, Platform, Tenant], tmp_path: Path
) -> None:
    server, _, tenant = served
    key_file = tmp_path / "witness.key"
    vkey = CliRunner().invoke(
        app, ["log", "witness-key", "--name", "witness.elsewhere", "--key-file", str(key_file)]
    )
    assert vkey.exit_code == 0, vkey.output
    with Client(tenant.secret, server.url) as api:
        Logs(api).append("anchors", ["issue A 100", "split A 60/40"])
        verifier, origin = _pins(api)

    def witness() -> Any:
        return CliRunner().invoke(app, [
            "log", "witness", "--public", "--url", server.url, "--verifier", verifier,
            "--origin", origin, "--state", str(tmp_path / "w.checkpoints"),
            "--name", "witness.elsewhere", "--key-file", str(key_file), "--json",
        ], env={"EMBEDFIN_API_KEY": ""})  # fmt: skip

    private = witness()  # no witness registered: the log is not public, nothing is kept
    assert private.exit_code == 2
    assert "not_found" in private.output
    with Client(tenant.secret, server.url) as api:
        Logs(api).add_witness("anchors", vkey.stdout.strip())
        first = witness()
        assert first.exit_code == 0, first.output
        assert Logs(api).checkpoint("anchors")["witnesses"] == ["witness.elsewhere"]
        Logs(api).append("anchors", ["transfer A.1"])
        second = witness()
        assert second.exit_code == 0, second.output
        assert json.loads(second.stdout) == {"result": "cosigned", "size": 3, "since": 2,
                                             "entries": []}  # fmt: skip
    with Client(None, server.url) as anonymous:
        head = PublicLogs(anonymous).checkpoint(origin)
        assert head["witnesses"] == ["witness.elsewhere"]
        member = PublicLogs(anonymous).verify(origin, checkpoints.Verifier.parse(verifier),
                                              origin, entries=[0, 2])  # fmt: skip
        assert member.checkpoint.size == 3


def test_the_platform_audit_log_accepts_the_witnesses_its_operator_registers_on_the_database(
    served: tuple[LiveServer, Platform, Tenant], tmp_path: Path
) -> None:
    from embedfin.transparency.service import PLATFORM

    server, platform, _ = served
    platform_log = platform.tenant(PLATFORM).log
    platform_log.append_signed("audit", ['{"seq": 1}', '{"seq": 2}'])
    key = Ed25519PrivateKey.generate()
    vkey = str(checkpoints.verifier_of("witness.audit", key))
    db = str(platform.engine.url)
    added = CliRunner().invoke(
        app, ["log", "platform-witnesses", "--db", db, "--add", vkey, "--json"]
    )
    assert added.exit_code == 0, added.output
    assert json.loads(added.stdout) == {"log": platform_log.origin("audit"), "witnesses": [vkey]}
    again = CliRunner().invoke(app, ["log", "platform-witnesses", "--db", db, "--add", vkey])
    assert again.exit_code == 0, again.output
    with platform.ledger.reader() as conn:
        actions = conn.execute(
            text("SELECT action, actor FROM audit_log WHERE tenant = :t"), {"t": PLATFORM}
        ).all()
    assert [tuple(a) for a in actions] == [("log.witness_add", "cli")]  # the no-op is no entry
    with Client(None, server.url) as anonymous:
        public = PublicLogs(anonymous)
        origin = platform_log.origin("audit")
        done = public.witness(origin, platform_log.verifier, origin, "witness.audit", key)
        assert done.checkpoint.size == 2
        assert public.checkpoint(origin)["witnesses"] == ["witness.audit"]
    removed = CliRunner().invoke(
        app, ["log", "platform-witnesses", "--db", db, "--remove", "witness.audit"]
    )
    assert (removed.exit_code, removed.stdout.strip()) == (0, "no witnesses")
