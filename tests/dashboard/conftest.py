"""A running demo (API + dashboard on a free port, a short fused simulation) for the dashboard
tests, and a Playwright browser on Debian's Chromium."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from embedfin.dashboard.cache import cache_of
from embedfin.demo import Demo, free_port, fresh_demo_url, scenario
from embedfin.progress import progress_factory

CHROMIUM = os.environ.get("EMBEDFIN_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    folder = tmp_path_factory.mktemp("demo")
    running = Demo(fresh_demo_url(folder), scenario(150, 8, 11), port=free_port(0))
    running.start()
    running.simulate(progress_factory(False))
    yield running
    running.stop()


@pytest.fixture(autouse=True)
def fresh_figures(request: pytest.FixtureRequest) -> None:
    """Each test sees figures computed after what it did (the dashboard caches them briefly)."""
    if "demo" in request.fixturenames:
        demo: Demo = request.getfixturevalue("demo")
        cache_of(demo.app).clear()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Chromium from Debian (installed by `python3 dev.py test`); Playwright downloads none."""
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        message = f"no Chromium at {CHROMIUM} (python3 dev.py test installs Debian's package)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        launched.close()


Screenshot = Callable[[Page, str], Path]


@pytest.fixture
def screenshot(request: pytest.FixtureRequest) -> Screenshot:
    """``screenshot(page, name)`` saves a full-page PNG under test-artifacts/."""
    ARTIFACTS.mkdir(exist_ok=True)

    def take(page: Page, name: str) -> Path:
        path = ARTIFACTS / f"{request.node.name}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
