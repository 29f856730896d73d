#!/usr/bin/env python3
"""Two commands on a fresh clone with only Python 3.11+:

    python3 dev.py demo    # the main job
    python3 dev.py test    # ruff, mypy and the whole test suite

Each first makes sure ``.venv`` matches ``requirements.lock`` (exported from ``uv.lock``, every
package pinned with its hash) and installs the project into it; later runs reuse it.
Anything after the command is passed on (``python3 dev.py test -k ledger``,
``python3 dev.py embedfin bench ledger --json``).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
LOCK = ROOT / "requirements.lock"
STAMP = VENV / ".embedfin-installed"


def _digest() -> str:
    h = hashlib.sha256()
    for path in (LOCK, ROOT / "pyproject.toml"):
        h.update(path.read_bytes())
    return h.hexdigest()


def ensure_environment() -> None:
    if sys.version_info < (3, 11):  # noqa: UP036 - runs before the venv exists
        sys.exit(f"embedfin needs Python 3.11 or newer, this is {sys.version.split()[0]}")
    digest = _digest()
    if STAMP.exists() and STAMP.read_text() == digest:
        return
    if not (BIN / "python").exists():
        print("creating .venv …", file=sys.stderr, flush=True)
        venv.create(VENV, with_pip=True)
    python = str(BIN / "python")
    if subprocess.call([python, "-m", "pip", "--version"], stdout=subprocess.DEVNULL) != 0:
        subprocess.run([python, "-m", "ensurepip", "--upgrade"], check=True)  # e.g. a uv venv
    pip = [python, "-m", "pip", "--disable-pip-version-check", "install", "--quiet"]
    print("installing locked dependencies …", file=sys.stderr, flush=True)
    subprocess.run([*pip, "--require-hashes", "--no-deps", "-r", str(LOCK)], check=True)
    subprocess.run([*pip, "--no-deps", "--no-build-isolation", "-e", str(ROOT)], check=True)
    STAMP.write_text(digest)


CHROMIUM = Path("/usr/bin/chromium")


def ensure_chromium() -> None:
    """The browser tests drive Debian's Chromium (Playwright downloads no browser): install the
    package when it is missing and this is a Debian machine we may administer."""
    if CHROMIUM.exists() or os.environ.get("EMBEDFIN_CHROMIUM"):
        return
    apt = shutil.which("apt-get")
    if apt is None or not hasattr(os, "geteuid") or os.geteuid() != 0:
        print("no Chromium: the browser tests will skip (fail under CI=true)", file=sys.stderr)
        return
    print("installing Debian's chromium for the browser tests …", file=sys.stderr, flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = [apt, "install", "-y", "-q", "chromium"]
    if subprocess.call(install, stdout=subprocess.DEVNULL, env=env) != 0:
        subprocess.call([apt, "update", "-q"], stdout=subprocess.DEVNULL, env=env)
        subprocess.call(install, stdout=subprocess.DEVNULL, env=env)


def run(argv: list[str]) -> int:
    os.chdir(ROOT)
    if not argv or argv[0] in {"-h", "--help"}:
        print(__doc__)
        return 0
    ensure_environment()
    command, rest = argv[0], argv[1:]
    if command == "demo":
        return subprocess.call([str(BIN / "embedfin"), "demo", *rest])
    if command == "test":
        ensure_chromium()
        for step in (
            [str(BIN / "ruff"), "check", "src", "tests", "dev.py"],
            [str(BIN / "ruff"), "format", "--check", "src", "tests", "dev.py"],
            [str(BIN / "mypy")],
        ):
            print("$", Path(step[0]).name, *step[1:], flush=True)
            if subprocess.call(step) != 0:
                return 1
        # One pytest worker per core (pytest-xdist) unless the caller chose: ``-n 0`` runs serially.
        chosen = any(a.startswith(("-n", "--numprocesses")) for a in rest)
        # --dist loadgroup: a module's xdist_group (tests/api/test_live.py) stays on one worker
        parallel = [] if chosen else ["-n", "auto", "--dist", "loadgroup"]
        return subprocess.call([str(BIN / "python"), "-m", "pytest", *parallel, *rest])
    if command == "embedfin":
        return subprocess.call([str(BIN / "embedfin"), *rest])
    print(f"unknown command {command!r}\n{__doc__}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
