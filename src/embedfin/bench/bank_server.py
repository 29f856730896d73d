"""``embedfin serve`` as a child process the bank workload and the kill loop drive.

The server is started exactly as a person starts it (``python -m embedfin.cli serve``), in its
own session so that ``kill9`` can SIGKILL the supervisor and every worker at once: a crash of
the whole service, not of one worker that uvicorn would quietly replace. The rate limit is
lifted (the load comes from one key); the sandbox acquirer's store and the signed audit
checkpoints live in the run's folder (beside the log), so a run starts with its own, shared by
every worker and every restart, and leaves nothing in the working directory; every other
production default stays.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from embedfin.payments.channels.sandbox import ENV_URL as ACQUIRER_ENV

CLI = [sys.executable, "-m", "embedfin.cli"]  # how ``serve`` is started


@dataclass(frozen=True, slots=True)
class CliResult:
    """What an ``embedfin`` subcommand printed and how it ended."""

    returncode: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0


def run_cli(*args: str) -> CliResult:
    """Run ``embedfin ARGS`` in this process: the very command functions the console script
    registers (``embedfin.cli`` itself is not imported: it registers this benchmark too). A
    child process would pay the imports again, seconds each on a busy machine."""
    import typer
    from typer.testing import CliRunner

    from embedfin.cli.audit import app as audit_app
    from embedfin.cli.ledger import check_command
    from embedfin.cli.tenants import app as tenants_app

    app = typer.Typer()
    app.command("check")(check_command)
    app.add_typer(audit_app, name="audit")
    app.add_typer(tenants_app, name="tenants")
    done = CliRunner().invoke(app, list(args))
    stderr = done.stderr if done.stderr_bytes is not None else ""
    if done.exception is not None and not isinstance(done.exception, SystemExit):
        stderr += f"{type(done.exception).__name__}: {done.exception}"
    return CliResult(done.exit_code, done.stdout, stderr)


def create_tenant(url: str, name: str = "Bank Market") -> str:
    """``embedfin tenants create``: the new tenant's operator secret (it migrates the store)."""
    created = run_cli("tenants", "create", name, "--db", url, "--json")
    if not created.ok:
        raise RuntimeError(f"embedfin tenants create failed: {created.stderr[-2000:]}")
    secret: str = json.loads(created.stdout)["secret"]
    return secret


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class ServeProcess:
    """One ``embedfin serve`` on a loopback port: start, SIGKILL, restart, stop."""

    def __init__(self, url: str, workers: int = 1, log_path: Path | None = None) -> None:
        self.url = url
        self.workers = workers
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.starts = 0
        self.kills = 0
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def checkpoints_path(self) -> Path | None:
        """Where the server's worker writes its signed audit checkpoints (in the run's folder)."""
        if self.log_path is None:
            return None
        configured = os.environ.get("EMBEDFIN_AUDIT_CHECKPOINTS")
        return Path(configured) if configured else self.log_path.parent / "audit.checkpoints.jsonl"

    def start(self, ready_timeout_s: float = 90.0) -> None:
        """Start the server and wait until ``/healthz`` answers."""
        env = os.environ | {
            "EMBEDFIN_API_RATE_PER_S": "1000000",
            "EMBEDFIN_API_BURST": "1000000",
        }
        if self.log_path is not None:  # the run's own acquirer and audit checkpoints
            folder = self.log_path.parent
            env.setdefault(ACQUIRER_ENV, f"sqlite:///{folder / 'acquirer.db'}")
            env.setdefault("EMBEDFIN_AUDIT_CHECKPOINTS", str(self.checkpoints_path))
        command = [
            *CLI,
            "serve",
            "--db",
            self.url,
            "--port",
            str(self.port),
            "--workers",
            str(self.workers),
            "--log-level",
            "warning",
        ]
        log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        try:
            self._process = subprocess.Popen(
                command, env=env, stdout=log, stderr=log, start_new_session=True
            )
        finally:
            if self.log_path:
                log.close()  # type: ignore[union-attr]
        self.starts += 1
        self._wait_ready(ready_timeout_s)

    def _wait_ready(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._process is None or self._process.poll() is not None:
                raise RuntimeError(f"embedfin serve exited during start-up (see {self.log_path})")
            try:
                if httpx.get(f"{self.base_url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError("embedfin serve did not become ready")

    def kill9(self) -> None:
        """SIGKILL the server's whole process group (supervisor and workers), as a crash."""
        process = self._process
        if process is None:
            return
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
        self._reap_group(process.pid)
        self._process = None
        self.kills += 1

    def restart(self) -> None:
        self.kill9()
        self.start()

    def stop(self) -> None:
        """A graceful stop (SIGTERM to the group), SIGKILL if it does not end in time."""
        process = self._process
        if process is None:
            return
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=30)
        self._reap_group(process.pid)
        self._process = None

    @staticmethod
    def _reap_group(pgid: int) -> None:
        """Wait until no process of the group is left (workers end after their supervisor)."""
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                os.killpg(pgid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.05)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)
