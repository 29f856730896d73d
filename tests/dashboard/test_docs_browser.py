"""``/docs`` in Chromium with every request to another host refused: Swagger UI still renders
the operations (its assets come from this server, not a CDN)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, Route, expect

from embedfin.api.app import create_app
from embedfin.core.clock import ManualClock
from tests.api.conftest import LiveServer, make_platform
from tests.conftest import fresh_sqlite
from tests.dashboard.conftest import Screenshot

pytestmark = pytest.mark.browser


def test_the_api_docs_render_with_no_internet(
    browser: Browser, sqlite_template: Path, tmp_path: Path, screenshot: Screenshot
) -> None:
    platform = make_platform(fresh_sqlite(sqlite_template, tmp_path), ManualClock())
    outside: list[str] = []

    def only_local(route: Route) -> None:
        if route.request.url.startswith("http://127.0.0.1:"):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    with LiveServer(create_app(platform)) as server:
        page = browser.new_page()
        page.route("**/*", only_local)
        page.goto(f"{server.url}/docs")
        expect(page.locator(".swagger-ui .opblock").first).to_be_visible(timeout=20_000)
        expect(page.locator(".swagger-ui")).to_contain_text("/v1/checkouts")
        screenshot(page, "api-docs")
        page.close()
    platform.ledger.close()
    assert outside == []
